// Prediction: when will the batch, and each ticket, be done? The real Scheduler is run on a
// virtual clock over what remains: running tickets keep their slots for their remaining
// time, waiting ones are assigned as slots free up, with every estimate corrected by how
// long finished work really took (observed time ÷ estimate). Recomputed whenever state
// changes, so the figure moves as work finishes.
import { DEFAULT_ESTIMATE_MINUTES } from './dag';
import { FINAL_STATUSES, type Mode, type OrchardState, type Run, type Ticket } from './model';
import { Scheduler, type RunningTicket, type SlotState } from './scheduler';
import { formatRemaining } from '../shared/eta';

const MS_PER_MIN = 60_000;

export interface PredictOptions {
  agents: number;
  mode: Mode;
  overlapThreshold?: number;
  /** Time per estimated minute before anything has finished (default one real minute). */
  priorMsPerMinute?: number;
}

export interface TicketEta {
  id: string;
  /** Predicted start and end (epoch ms); start is the run's real start for running tickets. */
  start: number;
  end: number;
  /** Already done (end is when it finished, if known). */
  done?: boolean;
  /** Waiting on the human (escalated): assumed to resume now. */
  waitsOnHuman?: boolean;
  /** The agent slot (numbered from 1) it runs or is predicted to run on; absent for done tickets. */
  slot?: number;
}

export interface Prediction {
  at: number;
  /** Predicted end of the batch (epoch ms), undefined when nothing remains. */
  batchEnd?: number;
  /** Remaining wall time (ms). */
  remainingMs: number;
  tickets: Record<string, TicketEta>;
  /** Tickets that cannot finish (failed, cancelled, blocked, or depending on one). */
  unreachable: string[];
  /** Observed ms per estimated minute used for the correction. */
  msPerMinute: number;
  /** Finished tickets the correction is based on. */
  samples: number;
  /** Fixed time per ticket (agent start, worktree) and after the run (gates, merge), ms. */
  overheadMs: number;
  mergeLagMs: number;
}

const est = (t: Pick<Ticket, 'estimate'>) => (typeof t.estimate === 'number' && t.estimate > 0 ? t.estimate : DEFAULT_ESTIMATE_MINUTES);

/** Time spent per ticket in its runs (ms). */
function runTime(runs: readonly Run[], now: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of runs) m.set(r.ticketId, (m.get(r.ticketId) ?? 0) + Math.max(0, (r.endedAt ?? now) - r.startedAt));
  return m;
}

/**
 * ms per estimated minute, from finished tickets: Σ run time ÷ Σ estimate; before any ticket
 * finished, the prior (one real minute per estimated minute).
 */
export function observedRate(
  state: OrchardState,
  now: number,
  o: Pick<PredictOptions, 'priorMsPerMinute'> = {},
): { msPerMinute: number; overheadMs: number; samples: number } {
  const prior = o.priorMsPerMinute ?? MS_PER_MIN;
  const time = runTime(Object.values(state.runs), now);
  const pts: Array<[number, number]> = [];
  for (const t of Object.values(state.tickets)) if (t.status === 'done' && time.has(t.id)) pts.push([est(t), time.get(t.id)!]);
  const samples = pts.length;
  if (samples === 0) return { msPerMinute: prior, overheadMs: 0, samples };
  // Evidence replaces the prior as soon as there is some: agents are often many times faster
  // or slower than estimated, and a blend with the prior stays wrong for a long time.
  const spent = pts.reduce((s, p) => s + p[1], 0);
  const estimated = pts.reduce((s, p) => s + p[0], 0);
  const ratio = { msPerMinute: spent / estimated, overheadMs: 0, samples };
  // With three or more finished tickets of different sizes: time = overhead + rate × estimate
  // (least squares), since starting an agent, its worktree and its merge cost the same for a
  // small ticket as for a big one. Falls back to the plain ratio when the fit is implausible.
  if (samples < 3) return ratio;
  const me = estimated / samples;
  const md = spent / samples;
  let cov = 0;
  let v = 0;
  for (const [e, d] of pts) {
    cov += (e - me) * (d - md);
    v += (e - me) ** 2;
  }
  if (v <= 0) return ratio;
  const b = cov / v;
  const a = md - b * me;
  if (!(b > 0) || a < 0) return ratio;
  return { msPerMinute: b, overheadMs: a, samples };
}

/** Mean time from a run's end to its merge, over merged tickets (gates, queue and merge). */
export function mergeLag(state: OrchardState): number {
  let sum = 0;
  let n = 0;
  for (const r of Object.values(state.runs)) {
    const m = r.merges?.filter((x) => x.result === 'merged').pop();
    if (!m || r.endedAt === undefined) continue;
    sum += Math.max(0, m.at + (m.durationMs ?? 0) - r.endedAt);
    n++;
  }
  return n ? sum / n : 0;
}

function currentRun(state: OrchardState, id: string): Run | undefined {
  let best: Run | undefined;
  for (const r of Object.values(state.runs)) if (r.ticketId === id && (!best || r.attempt > best.attempt)) best = r;
  return best;
}

/** Predicts the end of every remaining ticket and of the batch. Pure. */
export function predict(state: OrchardState, now: number, o: PredictOptions): Prediction {
  const { msPerMinute, overheadMs, samples } = observedRate(state, now, o);
  const lag = mergeLag(state);
  const K = Math.max(1, Math.floor(o.agents));
  const tickets = Object.values(state.tickets);
  const out: Record<string, TicketEta> = {};
  const unreachable = new Set<string>();
  // Dead: final-but-not-done, blocked, and everything depending on them.
  const byId = new Map(tickets.map((t) => [t.id, t]));
  const dead = (t: Ticket, seen = new Set<string>()): boolean => {
    if (unreachable.has(t.id)) return true;
    if (seen.has(t.id)) return false;
    seen.add(t.id);
    const bad =
      (FINAL_STATUSES.has(t.status) && t.status !== 'done') || t.status === 'blocked' || t.dependsOn.some((d) => !byId.has(d) || dead(byId.get(d)!, seen));
    if (bad) unreachable.add(t.id);
    return bad;
  };
  for (const t of tickets) dead(t);

  // Simulation tickets: done ones stay done; in-flight ones are pre-placed on slots.
  const sim: Ticket[] = [];
  const running: Array<RunningTicket & { end: number }> = [];
  const durMs = new Map<string, number>();
  // In-flight tickets keep their real slot where it exists in the pool (the timeline draws them there).
  const taken = new Set<number>();
  const placeOn = (real: number): number => {
    if (real >= 1 && real <= K && !taken.has(real - 1)) return real - 1;
    for (let i = 0; i < K; i++) if (!taken.has(i)) return i;
    return -1;
  };
  for (const t of tickets) {
    if (t.status === 'done') {
      const r = currentRun(state, t.id);
      out[t.id] = { id: t.id, start: r?.startedAt ?? now, end: r?.endedAt ?? now, done: true };
      sim.push({ ...t, status: 'done' });
      continue;
    }
    if (unreachable.has(t.id)) continue;
    const full = overheadMs + est(t) * msPerMinute;
    const r = currentRun(state, t.id);
    const inFlight =
      t.status === 'running' ||
      t.status === 'gating' ||
      t.status === 'in-review' ||
      t.status === 'queued-for-merge' ||
      t.status === 'merging' ||
      t.status === 'escalated';
    if (inFlight && r && taken.size < K) {
      const elapsed = Math.max(0, (r.endedAt ?? now) - r.startedAt);
      let remaining: number;
      if (t.status !== 'running' && t.status !== 'escalated')
        remaining = Math.min(full, msPerMinute) * 0.1; // gates and merge: little left
      else {
        const byEstimate = Math.max(full - elapsed, full * 0.1);
        const p = r.progress;
        remaining = p !== undefined && p > 0 && p < 100 ? (byEstimate + (elapsed * (100 - p)) / p) / 2 : byEstimate;
      }
      const slot = placeOn(r.slot);
      taken.add(slot);
      running.push({ ticketId: t.id, slot, files: t.files, end: remaining });
      out[t.id] = { id: t.id, start: r.startedAt, end: now + remaining, slot: slot + 1, ...(t.status === 'escalated' && { waitsOnHuman: true }) };
      sim.push({ ...t, status: 'running' });
      continue;
    }
    durMs.set(t.id, full);
    sim.push({ ...t, status: 'backlog', notBefore: undefined, readyAt: 0, createdAt: 0 });
  }
  const sched = new Scheduler(sim);
  // Slots are seats: any slot runs any agent profile (as the orchestrator's slots do).
  const profiles = [...new Set(tickets.map((x) => x.agent).filter((a): a is string => !!a))];
  const slots: SlotState[] = Array.from({ length: K }, (_, id) => ({ id, busy: false, load: 0, capabilities: profiles }));
  for (const r of running) slots[r.slot]!.busy = true;
  const simById = new Map(sim.map((t) => [t.id, t]));
  let t = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    const plan = sched.plan({ running, slots, mode: o.mode, overlapThreshold: o.overlapThreshold ?? 0, now: t, explain: 'none' });
    for (const a of plan.assignments) {
      const tk = simById.get(a.ticketId)!;
      tk.status = 'running';
      sched.update(tk);
      slots[a.slot]!.busy = true;
      const d = durMs.get(tk.id)!;
      running.push({ ticketId: tk.id, slot: a.slot, files: a.files, end: t + d });
      out[tk.id] = { id: tk.id, start: now + t, end: now + t + d, slot: a.slot + 1 };
    }
    if (running.length === 0) break;
    const next = Math.min(...running.map((r) => r.end));
    t = next;
    for (let i = running.length - 1; i >= 0; i--) {
      const r = running[i]!;
      if (r.end > next) continue;
      running.splice(i, 1);
      slots[r.slot]!.busy = false;
      const tk = simById.get(r.ticketId)!;
      tk.status = 'done';
      sched.update(tk);
    }
  }
  for (const tk of sim) if (!out[tk.id]) unreachable.add(tk.id);
  // Gates, the merge queue and the merge itself come after the run (the slot is free by then).
  for (const e of Object.values(out)) if (!e.done) e.end += lag;
  let batchEnd: number | undefined;
  for (const e of Object.values(out)) if (!e.done) batchEnd = Math.max(batchEnd ?? -Infinity, e.end);
  return {
    at: now,
    ...(batchEnd !== undefined && { batchEnd }),
    remainingMs: batchEnd !== undefined ? batchEnd - now : 0,
    tickets: out,
    unreachable: [...unreachable].sort(),
    msPerMinute,
    samples,
    overheadMs,
    mergeLagMs: lag,
  };
}

export function formatEta(p: Prediction, now = p.at): string {
  if (p.batchEnd === undefined) return 'nothing left to do';
  const d = formatRemaining(p.batchEnd - now);
  const clock = new Date(p.batchEnd).toISOString().slice(11, 16);
  return `about ${d} left (done ≈ ${clock} UTC; ${p.samples ? `estimates corrected by ${p.samples} finished ticket${p.samples > 1 ? 's' : ''}` : 'from estimates only'})${p.unreachable.length ? `; ${p.unreachable.length} ticket${p.unreachable.length > 1 ? 's' : ''} cannot finish` : ''}`;
}

/**
 * Report lines: the predicted end of what remains (agents: as many slots as runs used, at
 * least 1, unless given) and, once the batch is over, how far the first prediction was off.
 */
export function etaReportLines(state: OrchardState, now: number, o: Partial<PredictOptions> = {}): string[] {
  const slots = new Set(Object.values(state.runs).map((r) => r.slot));
  const agents = o.agents ?? Math.max(1, slots.size);
  const p = predict(state, now, { agents, mode: o.mode ?? 'locking', ...o });
  const lines = [`- Predicted completion: ${formatEta(p, now)} (${agents} agent${agents > 1 ? 's' : ''}, real scheduler on a virtual clock)`];
  const costly = Object.values(p.tickets)
    .filter((e) => !e.done)
    .sort((a, b) => a.end - b.end);
  if (costly.length)
    lines.push(
      `- Next to finish: ${costly
        .slice(0, 5)
        .map((e) => `${e.id} ≈ ${new Date(e.end).toISOString().slice(11, 16)}`)
        .join(', ')}`,
    );
  return lines;
}
