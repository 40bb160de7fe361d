// What the dashboard shows, as plain serialisable data, and the incremental patches between
// two versions of it. Shared by the host (which builds and diffs) and the webview (which
// applies): nothing here imports core or vscode. Times are host clock milliseconds; the
// webview ticks elapsed times itself, so a view does not change just because time passes.

import type { BatchEtaView, EtaView } from './eta';

export type StatusName =
  'backlog' | 'ready' | 'running' | 'gating' | 'in-review' | 'queued-for-merge' | 'merging' | 'done' | 'blocked' | 'escalated' | 'failed' | 'cancelled';

export interface HeaderView {
  agentsActive: number;
  agentsTotal: number;
  /** backlog + ready */
  queued: number;
  /** running + gating + merging */
  running: number;
  done: number;
  failed: number;
  /** Open escalations. */
  escalations: number;
  mergeQueue: number;
  /** Tickets waiting for a person's review (absent in views of older versions). */
  review?: number;
  /** Sum of run times ÷ wall time so far; null before the first run. */
  speedup: number | null;
  tickets: number;
  batch: 'not-started' | 'running' | 'ended';
  mode: string;
  /** Another window writes; this one only watches. */
  readOnly: boolean;
  /** Predicted end of the batch (the real scheduler simulated over what remains); absent without a prediction. */
  eta?: BatchEtaView;
}

export type SlotState = 'idle' | 'running' | 'gating' | 'merging' | 'escalated' | 'waiting-input' | 'rate-limited' | 'retry-wait';

export interface SlotView {
  slot: number;
  state: SlotState;
  ticketId?: string;
  title?: string;
  runId?: string;
  attempt?: number;
  startedAt?: number;
  /** 0..100, null when the agent reports none. */
  progress?: number | null;
  message?: string;
  /** rate-limited / retry-wait: when the ticket may start again. */
  until?: number;
  /** Predicted finish of its ticket. */
  eta?: EtaView;
}

export interface GraphNodeView {
  id: string;
  title: string;
  status: StatusName;
  priority: string;
  critical: boolean;
  attempts: number;
  reason?: string;
  /** Predicted finish (open tickets that can finish). */
  eta?: EtaView;
  /** Predicted start (tickets not started yet). */
  start?: EtaView;
  /** Why it cannot finish as things stand (open tickets only). */
  cannotFinish?: string;
}

export interface GraphEdgeView {
  /** The dependency. */
  from: string;
  /** The dependent ticket. */
  to: string;
  critical: boolean;
}

export interface GanttBarView {
  runId: string;
  ticketId: string;
  slot: number;
  attempt: number;
  start: number;
  /** undefined while running. */
  end?: number;
  outcome?: string;
  /** Time spent waiting on the human (escalations of this run). */
  waits: { start: number; end?: number }[];
}

/** A predicted run on the timeline: not started yet, or the rest of one in flight. */
export interface PredictedBarView {
  ticketId: string;
  slot: number;
  /** Not started yet: predicted start; absent for a ticket in flight (its bar goes on from now). */
  start?: number;
  end: number;
}

/**
 * The timeline's predicted part. Live (the batch runs): times are host clock ms. Otherwise
 * they are offsets from the batch's start, drawn from "now".
 */
export interface PredictedView {
  live: boolean;
  bars: PredictedBarView[];
}

export interface MetricView {
  key: string;
  label: string;
  value: number | null;
  /** value formatted for people, "—" when null. */
  display: string;
  /** "< 30 min", "" when the metric has none. */
  target: string;
  alertAt: string;
  status: 'ok' | 'warn' | 'alert' | 'n/a';
}

export interface EscalationView {
  id: string;
  ticketId: string;
  title: string;
  trigger: string;
  question: string;
  context: string;
  options: string[];
  createdAt: number;
  requiresHuman: boolean;
  /** Urgency (higher first), as the core's queue computes it. */
  score: number;
}

export interface MergeQueueItemView {
  ticketId: string;
  title: string;
  status: 'queued-for-merge' | 'merging';
  since?: number;
}

/** A ticket waiting for a person's review (core/review.ts ReviewItem, as the dashboard shows it). */
export interface ReviewQueueItemView {
  ticketId: string;
  title: string;
  /** When it started waiting (host clock ms). */
  since: number;
  why: string;
  summary?: string;
  /** Files changed; the first 20 are listed. */
  files: number;
  fileList: string[];
  gates: { name: string; passed: boolean }[];
  /** Earlier reviews that asked for changes. */
  rounds: number;
}

export interface DashboardView {
  header: HeaderView;
  slots: SlotView[];
  nodes: GraphNodeView[];
  edges: GraphEdgeView[];
  criticalLength: number;
  bars: GanttBarView[];
  /** Predicted runs (absent in views of older versions). */
  predicted?: PredictedView;
  metrics: MetricView[];
  alerts: string[];
  escalations: EscalationView[];
  mergeQueue: MergeQueueItemView[];
  /** Tickets waiting for review, oldest first (absent in views of older versions). */
  reviewQueue?: ReviewQueueItemView[];
  /** Host clock when the view was built. */
  now: number;
}

/** Per-entity changes of a keyed list: changed or new entities, removed keys, and the order. */
export interface ListPatch<T, K> {
  upsert: T[];
  remove: K[];
  /** The new order of keys, present only when it changed other than by upsert/remove at the end. */
  order?: K[];
}

/** The difference between version `from` and version `to`; absent sections did not change. */
export interface DashboardPatch {
  from: number;
  to: number;
  now: number;
  header?: HeaderView;
  slots?: ListPatch<SlotView, number>;
  nodes?: ListPatch<GraphNodeView, string>;
  /** Replaced whole when any edge changed (structure changes are rare). */
  edges?: GraphEdgeView[];
  criticalLength?: number;
  bars?: ListPatch<GanttBarView, string>;
  /** Replaced whole when it changed. */
  predicted?: PredictedView;
  metrics?: MetricView[];
  alerts?: string[];
  escalations?: ListPatch<EscalationView, string>;
  mergeQueue?: MergeQueueItemView[];
  /** Replaced whole when it changed. */
  reviewQueue?: ReviewQueueItemView[];
}

// ---- diff and apply ------------------------------------------------------------------

/** Structural equality of plain JSON data (no cycles, no functions). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

export function diffList<T, K>(prev: readonly T[], next: readonly T[], key: (t: T) => K): ListPatch<T, K> | undefined {
  const before = new Map<K, T>();
  for (const t of prev) before.set(key(t), t);
  const nextKeys = new Set<K>();
  const upsert: T[] = [];
  for (const t of next) {
    const k = key(t);
    nextKeys.add(k);
    const old = before.get(k);
    if (old === undefined || !sameData(old, t)) upsert.push(t);
  }
  const remove: K[] = [];
  for (const k of before.keys()) if (!nextKeys.has(k)) remove.push(k);
  // Would applying upsert/remove (new keys appended) give the right order?
  const kept = prev.map(key).filter((k) => nextKeys.has(k));
  const keptSet = new Set(kept);
  const expected = [...kept, ...next.map(key).filter((k) => !keptSet.has(k))];
  const order = next.map(key);
  const sameOrder = expected.length === order.length && expected.every((k, i) => k === order[i]);
  if (!upsert.length && !remove.length && sameOrder) return undefined;
  const patch: ListPatch<T, K> = { upsert, remove };
  if (!sameOrder) patch.order = order;
  return patch;
}

export function applyList<T, K>(prev: readonly T[], patch: ListPatch<T, K>, key: (t: T) => K): T[] {
  const byKey = new Map<K, T>();
  for (const t of prev) byKey.set(key(t), t);
  for (const k of patch.remove) byKey.delete(k);
  for (const t of patch.upsert) byKey.set(key(t), t); // new keys go to the end (Map order)
  if (patch.order) return patch.order.map((k) => byKey.get(k)).filter((t): t is T => t !== undefined);
  return [...byKey.values()];
}

export const slotKey = (s: SlotView): number => s.slot;
export const nodeKey = (n: GraphNodeView): string => n.id;
export const barKey = (b: GanttBarView): string => b.runId;
export const escalationKey = (e: EscalationView): string => e.id;

/** The patch from `prev` (version `from`) to `next`, or undefined when nothing but the clock changed. */
export function diffViews(prev: DashboardView, next: DashboardView, from: number): DashboardPatch | undefined {
  const p: DashboardPatch = { from, to: from + 1, now: next.now };
  let changed = false;
  const set = <K extends keyof DashboardPatch>(k: K, v: DashboardPatch[K] | undefined) => {
    if (v !== undefined) {
      p[k] = v;
      changed = true;
    }
  };
  if (!sameData(prev.header, next.header)) set('header', next.header);
  set('slots', diffList(prev.slots, next.slots, slotKey));
  set('nodes', diffList(prev.nodes, next.nodes, nodeKey));
  if (!sameData(prev.edges, next.edges)) set('edges', next.edges);
  if (prev.criticalLength !== next.criticalLength) set('criticalLength', next.criticalLength);
  set('bars', diffList(prev.bars, next.bars, barKey));
  if (!sameData(prev.predicted, next.predicted)) set('predicted', next.predicted ?? { live: false, bars: [] });
  if (!sameData(prev.metrics, next.metrics)) set('metrics', next.metrics);
  if (!sameData(prev.alerts, next.alerts)) set('alerts', next.alerts);
  set('escalations', diffList(prev.escalations, next.escalations, escalationKey));
  if (!sameData(prev.mergeQueue, next.mergeQueue)) set('mergeQueue', next.mergeQueue);
  if (!sameData(prev.reviewQueue ?? [], next.reviewQueue ?? [])) set('reviewQueue', next.reviewQueue ?? []);
  return changed ? p : undefined;
}

export function applyPatch(view: DashboardView, p: DashboardPatch): DashboardView {
  return {
    header: p.header ?? view.header,
    slots: p.slots ? applyList(view.slots, p.slots, slotKey) : view.slots,
    nodes: p.nodes ? applyList(view.nodes, p.nodes, nodeKey) : view.nodes,
    edges: p.edges ?? view.edges,
    criticalLength: p.criticalLength ?? view.criticalLength,
    bars: p.bars ? applyList(view.bars, p.bars, barKey) : view.bars,
    predicted: p.predicted ?? view.predicted,
    metrics: p.metrics ?? view.metrics,
    alerts: p.alerts ?? view.alerts,
    escalations: p.escalations ? applyList(view.escalations, p.escalations, escalationKey) : view.escalations,
    mergeQueue: p.mergeQueue ?? view.mergeQueue,
    reviewQueue: p.reviewQueue ?? view.reviewQueue ?? [],
    now: p.now,
  };
}

export function emptyView(now = 0): DashboardView {
  return {
    header: {
      agentsActive: 0,
      agentsTotal: 0,
      queued: 0,
      running: 0,
      done: 0,
      failed: 0,
      escalations: 0,
      mergeQueue: 0,
      speedup: null,
      tickets: 0,
      batch: 'not-started',
      mode: '',
      readOnly: false,
    },
    slots: [],
    nodes: [],
    edges: [],
    criticalLength: 0,
    bars: [],
    predicted: { live: false, bars: [] },
    metrics: [],
    alerts: [],
    escalations: [],
    mergeQueue: [],
    reviewQueue: [],
    now,
  };
}
