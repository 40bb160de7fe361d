// The dashboard's view model: state + metrics → DashboardView (src/shared/dashboardView.ts).
// Pure: the clock, the slot count, the usage figures and the prediction are passed in. The
// host diffs two views (diffViews) and posts only the patch; the webview applies it.
import { compareIds, criticalPath } from './dag';
import type { Escalation } from './escalations';
import { escalationQueue } from './escalations';
import { batchEta, cannotFinishReason, stuckTickets, ticketEta, ticketStart, type LivePrediction } from './etaView';
import { computeMetrics, type Bound, type Metric, type MetricsOptions } from './metrics';
import type { OrchardState, Run, Ticket } from './model';
import type {
  DashboardView,
  EscalationView,
  GanttBarView,
  GraphEdgeView,
  GraphNodeView,
  MergeQueueItemView,
  MetricView,
  PredictedView,
  ReviewQueueItemView,
  SlotView,
} from '../shared/dashboardView';
import { roundEta } from '../shared/eta';
import { reviewQueue as reviewItems } from './review';

export { diffViews, applyPatch } from '../shared/dashboardView';

export interface DashboardInput {
  state: Readonly<OrchardState>;
  now: number;
  /** Slots in the pool (settings.maxAgents). */
  agents: number;
  mode?: string;
  readOnly?: boolean;
  /** Cost and tokens per run, where agents report them. */
  usage?: MetricsOptions['usage'];
  merges?: MetricsOptions['merges'];
  /** Merge order as the orchestrator holds it (ticket ids); else by when the run ended. */
  mergeOrder?: readonly string[];
  /** The host's latest prediction (core/predict.ts), computed throttled; no ETA without it. */
  prediction?: LivePrediction;
}

/** The timeline's predicted runs: open tickets with a predicted slot, not yet finished. */
function predictedBars(lp: LivePrediction, state: Readonly<OrchardState>): PredictedView {
  const p = lp.prediction;
  const at = (ms: number) => roundEta(lp.live ? ms : Math.max(0, ms - p.at));
  const bars: PredictedView['bars'] = [];
  for (const e of Object.values(p.tickets)) {
    const t = state.tickets[e.id];
    if (e.done || e.slot === undefined || !t || !ticketEta(lp, state, e.id)) continue;
    const notStarted = t.status === 'backlog' || t.status === 'ready';
    bars.push(notStarted ? { ticketId: e.id, slot: e.slot, start: at(e.start), end: at(e.end) } : { ticketId: e.id, slot: e.slot, end: at(e.end) });
  }
  bars.sort((a, b) => (a.start ?? 0) - (b.start ?? 0) || a.slot - b.slot || compareIds(a.ticketId, b.ticketId));
  return { live: lp.live, bars };
}

const RATE_LIMIT = /rate.?limit/i;

function formatBound(b: Bound | undefined, unit: Metric['unit']): string {
  return b ? `${b.op} ${formatValue(b.value, unit)}` : '';
}

export function formatValue(v: number | null, unit: Metric['unit']): string {
  if (v === null) return '—';
  switch (unit) {
    case 'ratio':
      return `${Math.round(v * 100)}%`;
    case 'minutes':
      return v < 1 ? `${Math.round(v * 60)} s` : `${v.toFixed(v < 10 ? 1 : 0)} min`;
    case 'per-hour':
      return `${v.toFixed(1)}/h`;
    case 'x':
      return `${v.toFixed(2)}×`;
    case 'usd':
      return `$${v.toFixed(2)}`;
    case 'tokens':
      return v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : String(Math.round(v));
    default:
      return String(Math.round(v * 100) / 100);
  }
}

function metricView(m: Metric): MetricView {
  return {
    key: m.key,
    label: m.label,
    value: m.value,
    display: formatValue(m.value, m.unit),
    target: formatBound(m.target, m.unit),
    alertAt: formatBound(m.alertAt, m.unit),
    status: m.status,
  };
}

function slotOf(run: Run, st: Readonly<OrchardState>, open: readonly Escalation[], prediction: LivePrediction | undefined): SlotView {
  const t: Ticket | undefined = st.tickets[run.ticketId];
  const waiting = open.find((e) => e.runId === run.id || (e.ticketId === run.ticketId && !e.runId));
  let state: SlotView['state'] = 'running';
  if (t?.status === 'gating') state = 'gating';
  else if (t?.status === 'merging') state = 'merging';
  else if (waiting || t?.status === 'escalated') state = waiting?.trigger === 'input-needed' ? 'waiting-input' : 'escalated';
  const s: SlotView = {
    slot: run.slot,
    state,
    ticketId: run.ticketId,
    title: t?.title ?? run.ticketId,
    runId: run.id,
    attempt: run.attempt,
    startedAt: run.startedAt,
    progress: run.progress ?? null,
  };
  const eta = prediction && ticketEta(prediction, st, run.ticketId);
  if (eta) s.eta = eta;
  const message = waiting ? waiting.question : run.message;
  if (message) s.message = message.slice(0, 300);
  return s;
}

export function buildDashboardView(input: DashboardInput): DashboardView {
  const { state, now } = input;
  const tickets = Object.values(state.tickets);
  const runs = Object.values(state.runs);
  const allEscalations = Object.values(state.escalations ?? {});
  const queue = escalationQueue(allEscalations, (id) => state.tickets[id]?.priority, now);
  const open = queue.map((q) => q.escalation);
  const agents = Math.max(1, Math.floor(input.agents));

  // Slots: the live run on each; an idle slot shows the rate-limited / backed-off ticket it last ran.
  const live = new Map<number, Run>();
  const lastOnSlot = new Map<number, Run>();
  for (const r of runs) {
    if (r.endedAt === undefined) {
      const cur = live.get(r.slot);
      if (!cur || r.startedAt > cur.startedAt) live.set(r.slot, r);
    } else {
      const cur = lastOnSlot.get(r.slot);
      if (!cur || r.endedAt > (cur.endedAt ?? 0)) lastOnSlot.set(r.slot, r);
    }
  }
  // Slots are numbered from 1, as the orchestrator numbers them.
  const slotCount = Math.max(agents, ...live.keys());
  const slots: SlotView[] = [];
  for (let i = 1; i <= slotCount; i++) {
    const r = live.get(i);
    if (r) {
      slots.push(slotOf(r, state, open, input.prediction));
      continue;
    }
    const last = lastOnSlot.get(i);
    const t = last && state.tickets[last.ticketId];
    if (t && t.status === 'ready' && t.notBefore !== undefined && t.notBefore > now) {
      const s: SlotView = {
        slot: i,
        state: RATE_LIMIT.test(t.reason ?? '') ? 'rate-limited' : 'retry-wait',
        ticketId: t.id,
        title: t.title,
        until: t.notBefore,
      };
      if (t.reason) s.message = t.reason.slice(0, 300);
      slots.push(s);
    } else slots.push({ slot: i, state: 'idle' });
  }

  // Graph, in a stable order, with the critical path.
  const sorted = [...tickets].sort((a, b) => compareIds(a.id, b.id));
  let cp = { ids: [] as string[], length: 0 };
  try {
    cp = criticalPath(sorted);
  } catch {
    // An invalid graph cannot be added, but a hand-edited state file could hold one.
  }
  const onPath = new Set(cp.ids);
  const pathEdges = new Set<string>();
  for (let i = 0; i + 1 < cp.ids.length; i++) pathEdges.add(`${cp.ids[i]}\u0000${cp.ids[i + 1]}`);
  const lp = input.prediction;
  const stuck = new Set(lp ? stuckTickets(lp.prediction, state) : []);
  const nodes: GraphNodeView[] = sorted.map((t) => {
    const n: GraphNodeView = { id: t.id, title: t.title, status: t.status, priority: t.priority, critical: onPath.has(t.id), attempts: t.attempts };
    if (t.reason) n.reason = t.reason.slice(0, 300);
    if (lp) {
      const eta = ticketEta(lp, state, t.id);
      if (eta) n.eta = eta;
      const start = ticketStart(lp, state, t.id);
      if (start) n.start = start;
      const why = stuck.has(t.id) && cannotFinishReason(lp.prediction, state, t.id);
      if (why) n.cannotFinish = why;
    }
    return n;
  });
  const edges: GraphEdgeView[] = [];
  for (const t of sorted) {
    for (const d of t.dependsOn) if (state.tickets[d]) edges.push({ from: d, to: t.id, critical: pathEdges.has(`${d}\u0000${t.id}`) });
  }

  // Gantt: one bar per run, escalation waits on it.
  const waitsByRun = new Map<string, { start: number; end?: number }[]>();
  for (const e of allEscalations) {
    if (!e.runId) continue;
    const w: { start: number; end?: number } = { start: e.createdAt };
    if (e.answeredAt !== undefined) w.end = e.answeredAt;
    waitsByRun.set(e.runId, [...(waitsByRun.get(e.runId) ?? []), w]);
  }
  const bars: GanttBarView[] = runs
    .slice()
    .sort((a, b) => a.startedAt - b.startedAt || compareIds(a.id, b.id))
    .map((r) => {
      const b: GanttBarView = { runId: r.id, ticketId: r.ticketId, slot: r.slot, attempt: r.attempt, start: r.startedAt, waits: waitsByRun.get(r.id) ?? [] };
      if (r.endedAt !== undefined) b.end = r.endedAt;
      if (r.outcome) b.outcome = r.outcome;
      return b;
    });

  // Metrics (with targets and alerts).
  const options: MetricsOptions = {};
  if (input.usage) options.usage = input.usage;
  if (input.merges) options.merges = input.merges;
  const m = computeMetrics(state as OrchardState, allEscalations, now, agents, options);
  const metrics = Object.values(m.metrics).map(metricView);

  const escalations: EscalationView[] = queue.map(({ escalation: e, score }) => ({
    id: e.id,
    ticketId: e.ticketId,
    title: state.tickets[e.ticketId]?.title ?? e.ticketId,
    trigger: e.trigger,
    question: e.question,
    context: e.context.slice(0, 4000),
    options: e.options,
    createdAt: e.createdAt,
    requiresHuman: !!e.requiresHuman,
    score: Math.round(score),
  }));

  // Merge queue: the orchestrator's order if given, else by when the run ended.
  const lastEnd = new Map<string, number>();
  for (const r of runs) if (r.endedAt !== undefined) lastEnd.set(r.ticketId, Math.max(lastEnd.get(r.ticketId) ?? 0, r.endedAt));
  const rank = new Map((input.mergeOrder ?? []).map((id, i) => [id, i]));
  const mergeQueue: MergeQueueItemView[] = tickets
    .filter((t) => t.status === 'queued-for-merge' || t.status === 'merging')
    .sort(
      (a, b) =>
        (a.status === 'merging' ? -1 : 0) - (b.status === 'merging' ? -1 : 0) ||
        (rank.get(a.id) ?? 1e9) - (rank.get(b.id) ?? 1e9) ||
        (lastEnd.get(a.id) ?? 0) - (lastEnd.get(b.id) ?? 0) ||
        compareIds(a.id, b.id),
    )
    .map((t) => {
      const item: MergeQueueItemView = { ticketId: t.id, title: t.title, status: t.status as MergeQueueItemView['status'] };
      const since = lastEnd.get(t.id);
      if (since !== undefined) item.since = since;
      return item;
    });

  // Review queue: tickets waiting for a person, oldest first.
  const reviewQueue: ReviewQueueItemView[] = reviewItems(state as OrchardState).map((r) => {
    const item: ReviewQueueItemView = {
      ticketId: r.ticketId,
      title: r.title,
      since: r.since,
      why: r.why,
      files: r.files.length,
      fileList: r.files.slice(0, 20),
      gates: r.gates.map((g) => ({ name: g.name, passed: g.passed })),
      rounds: r.rounds,
    };
    if (r.summary) item.summary = r.summary.slice(0, 300);
    return item;
  });

  const count = (...s: string[]) => tickets.filter((t) => s.includes(t.status)).length;
  const speedup = m.metrics.speedup.value;
  const eta = lp && batchEta(lp, state);
  return {
    header: {
      agentsActive: live.size,
      agentsTotal: agents,
      queued: count('backlog', 'ready'),
      running: count('running', 'gating', 'merging'),
      done: count('done'),
      failed: count('failed'),
      escalations: open.length,
      mergeQueue: mergeQueue.length,
      review: reviewQueue.length,
      speedup: runs.length && speedup !== null ? Math.round(speedup * 100) / 100 : null,
      tickets: tickets.length,
      batch: !state.batch ? 'not-started' : state.batch.endedAt !== undefined ? 'ended' : 'running',
      mode: input.mode ?? '',
      readOnly: !!input.readOnly,
      ...(eta && { eta }),
    },
    slots,
    nodes,
    edges,
    criticalLength: cp.length,
    bars,
    predicted: lp ? predictedBars(lp, state) : { live: false, bars: [] },
    metrics,
    alerts: m.alerts.map((a) => a.message),
    escalations,
    mergeQueue,
    reviewQueue,
    now,
  };
}
