// A static, self-contained HTML page of a dashboard view: no scripts, no remote content,
// inline CSS only. `orchard report` and Generate Report write it next to the markdown report.
import { DASHBOARD_CSS, SNAPSHOT_THEME } from './dashboardCss';
import type { DashboardView } from './dashboardView';
import { layoutGraph } from './graphLayout';
import { clockTime, etaShort } from './eta';
import { esc, etaSpan, formatElapsed, ganttSvg, graphSvg, reviewGatesText, SLOT_LABEL, STATUS_LABEL } from './render';

export interface SnapshotOptions {
  title?: string;
  /** Shown under the title, e.g. the repository. */
  subtitle?: string;
}

export function progressSvg(p: number | null | undefined): string {
  const v = typeof p === 'number' ? Math.max(0, Math.min(100, p)) : 0;
  return `<svg class="progress" viewBox="0 0 100 8" preserveAspectRatio="none" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${v}"><rect class="track" width="100" height="8" rx="2"></rect><rect class="fill" width="${v}" height="8" rx="2"></rect></svg>`;
}

/** The predicted end of the batch as a tile ("" without a prediction). */
export function etaTile(view: DashboardView, now: number): string {
  const e = view.header.eta;
  if (!e) return '';
  const stuck = e.cannotFinish ? `${e.cannotFinish} cannot finish` : '';
  if (e.end === undefined && e.after === undefined)
    return `<div class="tile eta bad" data-eta><span class="n">—</span><span class="l">${esc(stuck)}</span></div>`;
  const label = [e.end !== undefined ? `predicted finish ≈ ${clockTime(e.end)}` : 'predicted, once started', stuck].filter(Boolean).join(' · ');
  const n = e.end !== undefined ? `<span class="n" data-eta-end="${e.end}">${esc(etaShort(e, now))}</span>` : `<span class="n">${esc(etaShort(e, now))}</span>`;
  return `<div class="tile eta${stuck ? ' attn' : ''}" data-eta title="${esc(e.samples ? `estimates corrected by ${e.samples} finished ticket(s)` : 'from the estimates only')}">${n}<span class="l">${esc(label)}</span></div>`;
}

export function headerTiles(view: DashboardView, now = view.now): string {
  const h = view.header;
  const tile = (n: string, l: string, cls = '') => `<div class="tile ${cls}"><span class="n">${esc(n)}</span><span class="l">${esc(l)}</span></div>`;
  return `<section class="tiles" aria-label="Summary">${[
    tile(`${h.agentsActive}/${h.agentsTotal}`, 'agents active'),
    tile(String(h.queued), 'queued'),
    tile(String(h.running), 'running'),
    tile(String(h.done), 'done'),
    tile(String(h.failed), 'failed', h.failed ? 'bad' : ''),
    tile(String(h.escalations), 'escalations waiting', h.escalations ? 'attn' : ''),
    tile(String(h.review ?? 0), 'waiting for review', h.review ? 'attn' : ''),
    tile(String(h.mergeQueue), 'merge queue'),
    tile(h.speedup === null ? '—' : `${h.speedup.toFixed(2)}×`, h.speedup === null ? 'not started' : 'speedup'),
    etaTile(view, now),
  ].join('')}</section>`;
}

export function dashboardSnapshotHtml(view: DashboardView, options: SnapshotOptions = {}): string {
  const title = options.title ?? 'Orchard dashboard';
  const now = view.now;
  const slots = view.slots
    .map((s) => {
      const elapsed = s.startedAt !== undefined ? formatElapsed(now - s.startedAt) : '';
      return `<tr><td>Agent ${s.slot}</td><td>${s.ticketId ? `${esc(s.ticketId)} ${esc(s.title ?? '')}` : '<span class="muted">—</span>'}</td><td class="num">${elapsed}</td><td>${s.state === 'idle' ? '' : progressSvg(s.progress)} ${typeof s.progress === 'number' ? `${Math.round(s.progress)}%` : ''}${s.eta ? ` · ${etaSpan(s.eta, now)} left` : ''}</td><td><span class="pill s-${s.state}">${esc(SLOT_LABEL[s.state] ?? s.state)}</span> ${s.message ? `<span class="muted">${esc(s.message)}</span>` : ''}</td></tr>`;
    })
    .join('');
  const metrics = view.metrics
    .map(
      (m) =>
        `<tr class="metric ${m.status}"><td>${esc(m.label)}</td><td class="v num">${esc(m.display)}</td><td class="num">${esc(m.target)}</td><td class="num">${esc(m.alertAt)}</td><td>${m.status === 'alert' ? 'ALERT' : m.status}</td></tr>`,
    )
    .join('');
  const escalations = view.escalations.length
    ? view.escalations
        .map(
          (e) =>
            `<div class="esc"><div class="meta">${esc(e.ticketId)} · ${esc(e.trigger)} · waiting ${formatElapsed(now - e.createdAt)}</div><div class="q">${esc(e.question)}</div>${e.options.length ? `<div class="muted">Options: ${e.options.map(esc).join(' · ')}</div>` : ''}</div>`,
        )
        .join('')
    : '<p class="empty">No escalations waiting.</p>';
  const merges = view.mergeQueue.length
    ? `<table><tbody>${view.mergeQueue.map((m) => `<tr><td>${esc(m.ticketId)}</td><td>${esc(m.title)}</td><td>${esc(STATUS_LABEL[m.status] ?? m.status)}</td></tr>`).join('')}</tbody></table>`
    : '<p class="empty">Nothing waiting to merge.</p>';
  const reviews = view.reviewQueue?.length
    ? `<table><tbody>${view.reviewQueue.map((r) => `<tr><td>${esc(r.ticketId)}</td><td>${esc(r.title)}</td><td>waiting ${formatElapsed(now - r.since)}</td><td class="num">${r.files} files</td><td>${esc(reviewGatesText(r.gates))}</td></tr>`).join('')}</tbody></table>`
    : '<p class="empty">Nothing waiting for review.</p>';
  const graph = view.nodes.length ? graphSvg(view, layoutGraph(view.nodes, view.edges)) : '<p class="empty">No tickets.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:;">
<title>${esc(title)}</title><style>${SNAPSHOT_THEME}${DASHBOARD_CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="muted">${options.subtitle ? `${esc(options.subtitle)} · ` : ''}snapshot of ${esc(new Date(now).toISOString())} · ${view.header.tickets} tickets · batch ${esc(view.header.batch)}</p>
${headerTiles(view)}
${view.alerts.length ? `<ul class="alerts">${view.alerts.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>` : ''}
<h2>Agents</h2>
<table><thead><tr><th>Slot</th><th>Ticket</th><th>Elapsed</th><th>Progress</th><th>State</th></tr></thead><tbody>${slots}</tbody></table>
<h2>Dependency graph <span class="count">critical path ${view.criticalLength} min</span></h2>
<div class="scroll">${graph}</div>
<h2>Timeline</h2>
${ganttSvg(view, now, 960)}
<h2>Metrics</h2>
<table><thead><tr><th>Metric</th><th>Value</th><th>Target</th><th>Alert</th><th>Status</th></tr></thead><tbody>${metrics}</tbody></table>
<h2>Escalations</h2>${escalations}
<h2>Review queue</h2>${reviews}
<h2>Merge queue</h2>${merges}
</body></html>
`;
}
