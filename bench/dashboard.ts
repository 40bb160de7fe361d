// Cost of a dashboard update at scale: 500 tickets (a layered DAG), 32 slots, runs with
// retries and escalations. For a stream of single core events it measures what the host
// pays per event (build the view + diff) and what it sends (patch bytes), against a full
// snapshot; and the one-off dagre layout the webview does when the graph's shape changes.
//   node --import tsx bench/dashboard.ts [--tickets 500] [--agents 32] [--events 300]
import { performance } from 'node:perf_hooks';
import { buildDashboardView } from '../src/core/dashboardModel';
import { createEscalation } from '../src/core/escalations';
import { emptyState, type OrchardState, type TicketStatus } from '../src/core/model';
import { applyPatch, diffViews } from '../src/shared/dashboardView';
import { layoutGraph } from '../src/shared/graphLayout';
import { graphSvg } from '../src/shared/render';
import { dashboardSnapshotHtml } from '../src/shared/snapshot';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const TICKETS = arg('tickets', 500);
const AGENTS = arg('agents', 32);
const EVENTS = arg('events', 300);
const MIN = 60_000;

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

function syntheticState(): OrchardState {
  const s = emptyState();
  s.batch = { startedAt: 0 };
  const statuses: TicketStatus[] = ['done', 'done', 'done', 'backlog', 'ready', 'queued-for-merge', 'failed', 'blocked'];
  for (let i = 0; i < TICKETS; i++) {
    const id = `T${i + 1}`;
    const deps =
      i < 20 ? [] : Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => `T${1 + Math.floor(rnd() * (i - 1))}`).filter((d, k, a) => a.indexOf(d) === k);
    s.tickets[id] = {
      id,
      title: `Ticket number ${i + 1}`,
      prompt: 'p',
      priority: (['P0', 'P1', 'P2', 'P3'] as const)[i % 4],
      dependsOn: deps,
      files: [`src/m${i % 40}/**`],
      labels: [],
      status: statuses[Math.floor(rnd() * statuses.length)]!,
      createdAt: 0,
      attempts: 1,
      estimate: 5 + Math.floor(rnd() * 40),
    };
  }
  let r = 0;
  for (const t of Object.values(s.tickets)) {
    if (t.status === 'backlog' || t.status === 'ready' || t.status === 'blocked') continue;
    const start = Math.floor(rnd() * 300) * MIN;
    s.runs[`run-${++r}`] = {
      id: `run-${r}`,
      ticketId: t.id,
      slot: r % AGENTS,
      attempt: 1,
      branch: `orchard/${t.id}`,
      worktree: '/w',
      startedAt: start,
      endedAt: start + 20 * MIN,
      outcome: t.status === 'failed' ? 'failed' : 'succeeded',
    };
  }
  // 32 live runs, a few of them waiting on the human.
  const ready = Object.values(s.tickets)
    .filter((t) => t.status === 'ready')
    .slice(0, AGENTS);
  ready.forEach((t, slot) => {
    t.status = slot % 8 === 0 ? 'escalated' : 'running';
    const id = `run-${++r}`;
    s.runs[id] = { id, ticketId: t.id, slot, attempt: 1, branch: `orchard/${t.id}`, worktree: '/w', startedAt: 300 * MIN, progress: 10 };
    if (t.status === 'escalated')
      s.escalations[`${id}-q1`] = createEscalation(
        { ticketId: t.id, runId: id, askedBy: id, trigger: 'architecture', question: 'Which way?', options: ['A', 'B'] },
        `${id}-q1`,
        301 * MIN,
      );
  });
  return s;
}

const stats = (xs: number[]) => {
  const a = [...xs].sort((p, q) => p - q);
  const q = (f: number) => a[Math.min(a.length - 1, Math.floor(f * a.length))]!;
  return { mean: a.reduce((s, x) => s + x, 0) / a.length, p50: q(0.5), p95: q(0.95), max: a[a.length - 1]! };
};
const f = (n: number) => n.toFixed(2);

const state = syntheticState();
const runs = Object.values(state.runs);
const live = runs.filter((x) => x.endedAt === undefined);
let now = 310 * MIN;
let view = buildDashboardView({ state, now, agents: AGENTS });
// Warm up the JIT.
for (let i = 0; i < 20; i++) diffViews(view, buildDashboardView({ state, now, agents: AGENTS }), 0);

const snapshotBytes = JSON.stringify({ type: 'snapshot', version: 1, view, eventAt: now, compact: false }).length;
const buildMs: number[] = [];
const diffMs: number[] = [];
const bytes: number[] = [];
const applyMs: number[] = [];
let version = 1;
for (let i = 0; i < EVENTS; i++) {
  now += 1000;
  // One core event: mostly progress reports, some status changes and run ends.
  const k = i % 10;
  if (k < 7) {
    const r = live[i % live.length]!;
    state.runs[r.id] = { ...state.runs[r.id]!, progress: (r.progress ?? 0) + (i % 90), message: `step ${i}` };
  } else if (k < 9) {
    const t = Object.values(state.tickets)[Math.floor(rnd() * TICKETS)]!;
    state.tickets[t.id] = { ...t, status: t.status === 'ready' ? 'backlog' : 'ready' };
  } else {
    const id = `run-x${i}`;
    state.runs[id] = {
      id,
      ticketId: 'T1',
      slot: i % AGENTS,
      attempt: 2,
      branch: 'orchard/T1',
      worktree: '/w',
      startedAt: now - 5 * MIN,
      endedAt: now,
      outcome: 'failed',
    };
  }
  const t0 = performance.now();
  const next = buildDashboardView({ state, now, agents: AGENTS });
  const t1 = performance.now();
  const patch = diffViews(view, next, version);
  const t2 = performance.now();
  buildMs.push(t1 - t0);
  diffMs.push(t2 - t1);
  if (patch) {
    bytes.push(JSON.stringify({ type: 'patch', patch, eventAt: now }).length);
    const t3 = performance.now();
    applyPatch(view, patch);
    applyMs.push(performance.now() - t3);
    version = patch.to;
  }
  view = next;
}

const l0 = performance.now();
const layout = layoutGraph(view.nodes, view.edges);
const layoutMs = performance.now() - l0;
const s0 = performance.now();
const svg = graphSvg(view, layout);
const svgMs = performance.now() - s0;
const h0 = performance.now();
const html = dashboardSnapshotHtml(view);
const htmlMs = performance.now() - h0;

const b = stats(buildMs);
const d = stats(diffMs);
const z = stats(bytes);
const a = stats(applyMs);
console.log(
  `dashboard bench: ${TICKETS} tickets, ${Object.keys(state.runs).length} runs, ${AGENTS} slots, ${view.edges.length} edges, ${EVENTS} single events`,
);
console.log(`  build view (host)     mean ${f(b.mean)} ms  p50 ${f(b.p50)}  p95 ${f(b.p95)}  max ${f(b.max)}`);
console.log(`  diff (host)           mean ${f(d.mean)} ms  p50 ${f(d.p50)}  p95 ${f(d.p95)}  max ${f(d.max)}`);
console.log(`  apply patch (webview) mean ${f(a.mean)} ms  p95 ${f(a.p95)}`);
console.log(
  `  patch message         mean ${Math.round(z.mean)} B  p50 ${z.p50}  p95 ${z.p95}  max ${z.max}   (full snapshot ${snapshotBytes} B, ${(snapshotBytes / z.mean).toFixed(0)}× larger)`,
);
console.log(`  graph layout (dagre)  ${f(layoutMs)} ms once per shape change; graph SVG string ${f(svgMs)} ms (${svg.length} chars)`);
console.log(`  HTML snapshot         ${f(htmlMs)} ms, ${html.length} chars`);
