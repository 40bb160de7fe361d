// Metrics from state, runs and escalations, with the default targets and alert thresholds:
//
//   metric                    target            alert
//   tickets in progress       < 2 × agents      > 3 × agents
//   average completion time   < 30 min          > 60 min
//   escalation rate           < 20 %            > 40 %
//   conflict rate             < 5 %             > 15 %
//   agent utilization         > 70 %            < 40 %
//
// plus throughput (done tickets per hour of wall time), retries, speedup over sequential
// (sum of run durations ÷ wall time), and cost / tokens where runs report them.
// Pure: `now` is passed in. Definitions:
// - in progress: tickets running, gating, queued for merge, merging or escalated;
// - completion time of a done ticket: start of its first run to end of its last run;
// - escalation rate: started tickets (attempts > 0) with at least one escalation ÷ started;
// - conflict rate: merge conflicts ÷ merge attempts (given, or else conflict escalations ÷
//   (done tickets + conflict escalations));
// - wall time: the batch's start to its end (or now); without a batch, first run start to
//   last run end (or now);
// - utilization: busy slot time inside the wall window ÷ (agents × wall time).
import type { Escalation } from './escalations';
import type { OrchardState, Run, TicketStatus } from './model';

export type MetricKey =
  | 'ticketsInProgress'
  | 'averageCompletionMinutes'
  | 'escalationRate'
  | 'conflictRate'
  | 'agentUtilization'
  | 'throughputPerHour'
  | 'retries'
  | 'speedup'
  | 'costUsd'
  | 'tokens';

export type MetricUnit = 'tickets' | 'minutes' | 'ratio' | 'per-hour' | 'count' | 'x' | 'usd' | 'tokens';

export interface Bound {
  op: '<' | '>';
  value: number;
}

export interface Metric {
  key: MetricKey;
  label: string;
  /** null when there is not enough data. */
  value: number | null;
  unit: MetricUnit;
  target?: Bound;
  alertAt?: Bound;
  /** ok: meets the target; warn: between target and alert; alert: past the alert threshold. */
  status: 'ok' | 'warn' | 'alert' | 'n/a';
}

export interface MetricAlert {
  key: MetricKey;
  message: string;
}

export interface RunUsage {
  costUsd?: number;
  tokens?: number;
}

export interface MetricsOptions {
  /** Cost and tokens per run id, where the agent reports them. */
  usage?: Readonly<Record<string, RunUsage>>;
  /** Merge attempts and conflicts, if the merge queue counts them. */
  merges?: { attempts: number; conflicts: number };
}

export interface Metrics {
  metrics: Record<MetricKey, Metric>;
  alerts: MetricAlert[];
  /** Wall time of the batch (ms), 0 when nothing ran. */
  wallMs: number;
  /** Sum of run durations (ms). */
  busyMs: number;
  counts: { tickets: number; done: number; started: number; inProgress: number; runs: number; escalated: number };
}

const IN_PROGRESS: ReadonlySet<TicketStatus> = new Set(['running', 'gating', 'in-review', 'queued-for-merge', 'merging', 'escalated']);

const MIN = 60_000;
const HOUR = 60 * MIN;

function meets(v: number, b: Bound): boolean {
  return b.op === '<' ? v < b.value : v > b.value;
}

function metric(key: MetricKey, label: string, value: number | null, unit: MetricUnit, target?: Bound, alertAt?: Bound): Metric {
  let status: Metric['status'] = 'n/a';
  if (value !== null && Number.isFinite(value)) {
    if (alertAt && meets(value, alertAt)) status = 'alert';
    else if (!target || meets(value, target)) status = 'ok';
    else status = 'warn';
  }
  const m: Metric = { key, label, value: value !== null && Number.isFinite(value) ? value : null, unit, status };
  if (target) m.target = target;
  if (alertAt) m.alertAt = alertAt;
  return m;
}

function runEnd(r: Run, now: number): number {
  return r.endedAt ?? now;
}

export function computeMetrics(state: OrchardState, escalations: readonly Escalation[], now: number, agents: number, options: MetricsOptions = {}): Metrics {
  const tickets = Object.values(state.tickets);
  const runs = Object.values(state.runs);
  const slots = Math.max(1, Math.floor(agents));

  // Wall window.
  let start: number | undefined = state.batch?.startedAt;
  let end: number | undefined = state.batch ? (state.batch.endedAt ?? now) : undefined;
  if (start === undefined && runs.length) {
    start = Math.min(...runs.map((r) => r.startedAt));
    end = runs.some((r) => r.endedAt === undefined) ? now : Math.max(...runs.map((r) => r.endedAt!));
  }
  const wallMs = start !== undefined && end !== undefined ? Math.max(0, end - start) : 0;

  const busyMs = runs.reduce((s, r) => s + Math.max(0, runEnd(r, now) - r.startedAt), 0);
  const busyInWindow =
    start !== undefined && end !== undefined ? runs.reduce((s, r) => s + Math.max(0, Math.min(runEnd(r, now), end) - Math.max(r.startedAt, start)), 0) : 0;

  const inProgress = tickets.filter((t) => IN_PROGRESS.has(t.status)).length;
  const done = tickets.filter((t) => t.status === 'done');
  const started = tickets.filter((t) => t.attempts > 0 || runs.some((r) => r.ticketId === t.id));

  const runsByTicket = new Map<string, Run[]>();
  for (const r of runs) runsByTicket.set(r.ticketId, [...(runsByTicket.get(r.ticketId) ?? []), r]);
  const completions: number[] = [];
  for (const t of done) {
    const rs = runsByTicket.get(t.id);
    if (!rs?.length) continue;
    const first = Math.min(...rs.map((r) => r.startedAt));
    const last = Math.max(...rs.map((r) => runEnd(r, now)));
    completions.push((last - first) / MIN);
  }
  const avgCompletion = completions.length ? completions.reduce((a, b) => a + b, 0) / completions.length : null;

  const escalatedTickets = new Set(escalations.map((e) => e.ticketId));
  const startedEscalated = started.filter((t) => escalatedTickets.has(t.id)).length;
  const escalationRate = started.length ? startedEscalated / started.length : null;

  const conflictEsc = escalations.filter((e) => e.trigger === 'conflict').length;
  const merges = options.merges ?? { attempts: done.length + conflictEsc, conflicts: conflictEsc };
  const conflictRate = merges.attempts > 0 ? merges.conflicts / merges.attempts : null;

  const utilization = wallMs > 0 ? busyInWindow / (slots * wallMs) : null;
  const throughput = wallMs > 0 ? done.length / (wallMs / HOUR) : null;
  const retries = tickets.reduce((s, t) => s + Math.max(0, t.attempts - 1), 0);
  const speedup = wallMs > 0 ? busyMs / wallMs : null;

  let cost: number | null = null;
  let tokens: number | null = null;
  for (const u of Object.values(options.usage ?? {})) {
    if (typeof u.costUsd === 'number' && Number.isFinite(u.costUsd)) cost = (cost ?? 0) + u.costUsd;
    if (typeof u.tokens === 'number' && Number.isFinite(u.tokens)) tokens = (tokens ?? 0) + u.tokens;
  }

  const metrics: Record<MetricKey, Metric> = {
    ticketsInProgress: metric('ticketsInProgress', 'Tickets in progress', inProgress, 'tickets', { op: '<', value: 2 * slots }, { op: '>', value: 3 * slots }),
    averageCompletionMinutes: metric(
      'averageCompletionMinutes',
      'Average completion time',
      avgCompletion,
      'minutes',
      { op: '<', value: 30 },
      { op: '>', value: 60 },
    ),
    escalationRate: metric('escalationRate', 'Escalation rate', escalationRate, 'ratio', { op: '<', value: 0.2 }, { op: '>', value: 0.4 }),
    conflictRate: metric('conflictRate', 'Conflict rate', conflictRate, 'ratio', { op: '<', value: 0.05 }, { op: '>', value: 0.15 }),
    agentUtilization: metric('agentUtilization', 'Agent utilization', utilization, 'ratio', { op: '>', value: 0.7 }, { op: '<', value: 0.4 }),
    throughputPerHour: metric('throughputPerHour', 'Throughput', throughput, 'per-hour'),
    retries: metric('retries', 'Retries', retries, 'count'),
    speedup: metric('speedup', 'Speedup over sequential', speedup, 'x'),
    costUsd: metric('costUsd', 'Cost', cost, 'usd'),
    tokens: metric('tokens', 'Tokens', tokens, 'tokens'),
  };

  const pct = (v: number) => `${Math.round(v * 100)}%`;
  const alerts: MetricAlert[] = [];
  const m = metrics;
  if (m.ticketsInProgress.status === 'alert')
    alerts.push({
      key: 'ticketsInProgress',
      message: `${inProgress} tickets in progress for ${slots} agents (alert above ${3 * slots}); work is piling up in gating, merging or escalations.`,
    });
  if (m.averageCompletionMinutes.status === 'alert')
    alerts.push({
      key: 'averageCompletionMinutes',
      message: `Tickets take ${Math.round(avgCompletion!)} min on average (alert above 60 min); consider splitting them.`,
    });
  if (m.escalationRate.status === 'alert')
    alerts.push({
      key: 'escalationRate',
      message: `${pct(escalationRate!)} of started tickets escalated (alert above 40%); the tickets may need clearer prompts.`,
    });
  if (m.conflictRate.status === 'alert')
    alerts.push({
      key: 'conflictRate',
      message: `${pct(conflictRate!)} of merges conflicted (alert above 15%); declare files more precisely or use locking mode.`,
    });
  if (m.agentUtilization.status === 'alert')
    alerts.push({
      key: 'agentUtilization',
      message: `Agents were busy ${pct(utilization!)} of the time (alert below 40%); tickets are blocked by dependencies, locks or escalations.`,
    });

  return {
    metrics,
    alerts,
    wallMs,
    busyMs,
    counts: { tickets: tickets.length, done: done.length, started: started.length, inProgress, runs: runs.length, escalated: startedEscalated },
  };
}
