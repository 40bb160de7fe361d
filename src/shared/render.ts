// String renderers for the parts of the dashboard that are drawings (the dependency graph and
// the timeline), shared by the live webview and the static HTML snapshot. Every piece of
// text goes through esc(); no inline style attributes (the webview's CSP forbids them):
// colours come from CSS classes.
import type { DashboardView, GanttBarView, GraphNodeView, PredictedBarView } from './dashboardView';
import { clockTime, etaFixed, etaShort, type EtaView } from './eta';
import { edgePath, type GraphLayout } from './graphLayout';

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const STATUS_LABEL: Record<string, string> = {
  backlog: 'backlog',
  ready: 'ready',
  running: 'running',
  gating: 'gating',
  'in-review': 'waiting for review',
  'queued-for-merge': 'queued for merge',
  merging: 'merging',
  done: 'done',
  blocked: 'blocked',
  escalated: 'escalated',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const SLOT_LABEL: Record<string, string> = {
  idle: 'idle',
  running: 'running',
  gating: 'gating',
  merging: 'merging',
  escalated: 'escalated',
  'waiting-input': 'waiting for input',
  'rate-limited': 'rate limited',
  'retry-wait': 'waiting to retry',
};

/** A review's gates in a few words: "2 gates passed", "lint failed", "no gates". */
export function reviewGatesText(gates: readonly { name: string; passed: boolean }[]): string {
  if (!gates.length) return 'no gates';
  const failed = gates.filter((g) => !g.passed).map((g) => g.name);
  return failed.length ? `${failed.join(', ')} failed` : `${gates.length} gate${gates.length === 1 ? '' : 's'} passed`;
}

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const truncate = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A predicted time as HTML: "≈ 12 min"; while the batch runs it carries its end
 * (data-eta-end) so the webview counts it down between updates.
 */
export function etaSpan(e: EtaView, now: number): string {
  return `<span class="eta"${e.end !== undefined ? ` data-eta-end="${e.end}" title="${esc(etaFixed(e))}"` : ''}>${esc(etaShort(e, now))}</span>`;
}

/** A node's prediction for its tooltip ("" when it has none). */
export function nodeEtaText(n: GraphNodeView): string {
  if (n.cannotFinish) return `\ncannot finish as things stand: ${n.cannotFinish}`;
  if (!n.eta) return '';
  return `${n.start ? `\npredicted start ${etaFixed(n.start)}` : ''}\npredicted finish ${etaFixed(n.eta)}${n.eta.waitsOnHuman ? ' (assumes you answer now)' : ''}`;
}

/** One node's inner SVG (a group positioned by the caller). */
export function nodeSvg(n: GraphNodeView, w: number, h: number, selected: boolean): string {
  const cls = `node st-${n.status}${n.critical ? ' critical' : ''}${selected ? ' selected' : ''}`;
  return (
    `<g class="${cls}" data-id="${esc(n.id)}" tabindex="0" role="button" aria-label="${esc(`${n.id} ${n.title}, ${STATUS_LABEL[n.status] ?? n.status}${n.critical ? ', on the critical path' : ''}`)}">` +
    `<title>${esc(`${n.id}: ${n.title}\n${STATUS_LABEL[n.status] ?? n.status}${n.attempts > 1 ? ` (attempt ${n.attempts})` : ''}${n.reason ? `\n${n.reason}` : ''}${nodeEtaText(n)}`)}</title>` +
    `<rect x="${-w / 2}" y="${-h / 2}" width="${w}" height="${h}" rx="5"></rect>` +
    `<text class="nid" x="${-w / 2 + 8}" y="-3">${esc(truncate(n.id, 18))}</text>` +
    `<text class="ntitle" x="${-w / 2 + 8}" y="11">${esc(truncate(n.title, 22))}</text>` +
    `</g>`
  );
}

export function graphSvg(view: Pick<DashboardView, 'nodes' | 'edges'>, layout: GraphLayout, selected?: string): string {
  const critical = new Set(view.edges.filter((e) => e.critical).map((e) => `${e.from}\u0000${e.to}`));
  const parts: string[] = [
    `<svg class="graph" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" role="group" aria-label="Dependency graph of ${view.nodes.length} tickets">`,
    `<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L8 4 L0 8 z" class="arrowhead"></path></marker></defs>`,
  ];
  for (const e of layout.edges) {
    parts.push(`<path class="edge${critical.has(`${e.from}\u0000${e.to}`) ? ' critical' : ''}" d="${edgePath(e.points)}" marker-end="url(#arrow)"></path>`);
  }
  for (const n of view.nodes) {
    const p = layout.nodes.get(n.id);
    if (!p) continue;
    parts.push(`<g class="pos" transform="translate(${p.x.toFixed(1)} ${p.y.toFixed(1)})">${nodeSvg(n, p.width, p.height, n.id === selected)}</g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

export const GANTT_ROW = 22;
export const GANTT_LABEL = 64;

interface PredictedBar {
  ticketId: string;
  slot: number;
  start: number;
  end: number;
  /** The rest of a run in flight. */
  rest: boolean;
}

/** Predicted bars in host clock ms (offsets are counted from now before the batch runs). */
function predictedBars(view: Pick<DashboardView, 'predicted'>, now: number): PredictedBar[] {
  const p = view.predicted;
  if (!p) return [];
  const origin = p.live ? 0 : now;
  return p.bars
    .map((b: PredictedBarView) => ({
      ticketId: b.ticketId,
      slot: b.slot,
      start: b.start !== undefined ? Math.max(now, origin + b.start) : now,
      end: origin + b.end,
      rest: b.start === undefined,
    }))
    .filter((b) => b.end > b.start);
}

/**
 * The timeline: one row per slot, a bar per run (retries marked), escalation waits hatched;
 * predicted runs (not started yet, or the rest of a run) hatched and faded after "now".
 */
export function ganttSvg(view: Pick<DashboardView, 'bars' | 'slots' | 'predicted'>, now: number, width: number): string {
  const bars = view.bars;
  const predicted = predictedBars(view, now);
  // Row i shows slot i + 1 (slots are numbered from 1).
  const rows = Math.max(view.slots.length, ...bars.map((b) => b.slot), ...predicted.map((b) => b.slot), 1);
  const height = rows * GANTT_ROW + 20;
  if (!bars.length && !predicted.length)
    return `<svg class="gantt" width="${width}" height="${height}" role="img" aria-label="Timeline: no runs yet"><text class="muted" x="${GANTT_LABEL}" y="16">No runs yet.</text></svg>`;
  const t0 = Math.min(...bars.map((b) => b.start), ...(predicted.length ? [now] : []));
  const t1 = Math.max(now, ...bars.map((b) => b.end ?? now), ...predicted.map((b) => b.end), t0 + 1000);
  const span = t1 - t0;
  const plot = Math.max(50, width - GANTT_LABEL - 8);
  const x = (t: number) => GANTT_LABEL + ((t - t0) / span) * plot;
  const parts: string[] = [
    `<svg class="gantt" width="${width}" height="${height}" role="img" aria-label="Timeline of ${bars.length} runs on ${rows} slots${predicted.length ? `, ${predicted.length} predicted` : ''}">`,
    `<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect class="hatchline" width="2.5" height="6"></rect></pattern></defs>`,
  ];
  for (let i = 0; i < rows; i++) {
    parts.push(`<text class="slotlabel" x="4" y="${i * GANTT_ROW + 15}">Agent ${i + 1}</text>`);
    parts.push(`<line class="rowline" x1="${GANTT_LABEL}" x2="${GANTT_LABEL + plot}" y1="${(i + 1) * GANTT_ROW}" y2="${(i + 1) * GANTT_ROW}"></line>`);
  }
  for (const b of bars) parts.push(barSvg(b, x, now));
  for (const b of predicted) parts.push(predictedSvg(b, x, now));
  // Time axis: start and span; with predictions, "now" and the predicted end.
  parts.push(`<text class="axis" x="${GANTT_LABEL}" y="${rows * GANTT_ROW + 14}">0</text>`);
  const end = `${formatElapsed(span)}${predicted.length ? ` (predicted end ≈ ${clockTime(t1)})` : ''}`;
  if (predicted.length) {
    const xn = x(now);
    parts.push(`<line class="nowline" x1="${xn.toFixed(1)}" x2="${xn.toFixed(1)}" y1="0" y2="${rows * GANTT_ROW}"></line>`);
    // "now" under its line, where it does not run into the labels at either end (~7 px a character).
    if (xn - GANTT_LABEL > 30 && GANTT_LABEL + plot - xn > end.length * 7 + 20)
      parts.push(`<text class="axis" x="${xn.toFixed(1)}" y="${rows * GANTT_ROW + 14}" text-anchor="middle">now</text>`);
  }
  parts.push(`<text class="axis" x="${GANTT_LABEL + plot}" y="${rows * GANTT_ROW + 14}" text-anchor="end">${esc(end)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function predictedSvg(b: PredictedBar, x: (t: number) => number, now: number): string {
  const y = (b.slot - 1) * GANTT_ROW + 3;
  const x0 = x(b.start);
  const w = Math.max(2, x(b.end) - x0);
  const what = b.rest
    ? `predicted to finish at ≈ ${clockTime(b.end)} (in ≈ ${formatElapsed(b.end - now)})`
    : `predicted: starts at ≈ ${clockTime(b.start)}, done at ≈ ${clockTime(b.end)} (${formatElapsed(b.end - b.start)})`;
  let s = `<g class="bar predicted${b.rest ? ' rest' : ''}" data-id="${esc(b.ticketId)}"><title>${esc(`${b.ticketId} ${what}`)}</title>`;
  s += `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${GANTT_ROW - 6}" rx="3"></rect>`;
  if (!b.rest && w > 40) s += `<text class="barlabel" x="${(x0 + 4).toFixed(1)}" y="${y + 12}">${esc(truncate(b.ticketId, Math.floor(w / 7)))}</text>`;
  return s + '</g>';
}

function barSvg(b: GanttBarView, x: (t: number) => number, now: number): string {
  const y = (b.slot - 1) * GANTT_ROW + 3;
  const x0 = x(b.start);
  const w = Math.max(2, x(b.end ?? now) - x0);
  const cls = `bar ${b.end === undefined ? 'live' : `out-${b.outcome ?? 'unknown'}`}${b.attempt > 1 ? ' retry' : ''}`;
  const dur = formatElapsed((b.end ?? now) - b.start);
  let s = `<g class="${cls}" data-id="${esc(b.ticketId)}"><title>${esc(`${b.ticketId} attempt ${b.attempt}: ${b.end === undefined ? 'running' : (b.outcome ?? 'ended')}, ${dur}${b.waits.length ? `, ${b.waits.length} wait(s) on the human` : ''}`)}</title>`;
  s += `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${GANTT_ROW - 6}" rx="3"></rect>`;
  for (const wt of b.waits) {
    const wx = x(wt.start);
    const ww = Math.max(2, x(wt.end ?? b.end ?? now) - wx);
    s += `<rect class="wait" x="${wx.toFixed(1)}" y="${y}" width="${ww.toFixed(1)}" height="${GANTT_ROW - 6}"></rect>`;
  }
  if (w > 40)
    s += `<text class="barlabel" x="${(x0 + 4).toFixed(1)}" y="${y + 12}">${esc(truncate(`${b.ticketId}${b.attempt > 1 ? ` ↻${b.attempt}` : ''}`, Math.floor(w / 7)))}</text>`;
  return s + '</g>';
}
