// What a restart does with what the last process left (VS Code reload, a crash): a pure plan
// from the state once the live runs are known (adopted again) and the dead ones ended as
// interrupted. The orchestrator applies it (core/orchestrator.ts recover()).
import type { OrchardState, Run, TicketStatus } from './model';

export interface RecoveryPlan {
  /** Runs whose locks no one needs any more: their run is over and their ticket is not on its way to the target. */
  orphanLockRuns: string[];
  /** Tickets whose agent had finished when Orchard stopped: their gates run (again); `toGating` when still "running". */
  regate: { ticketId: string; runId: string; toGating: boolean }[];
  /** Tickets cut short while running or gating: back to ready, the locks of their last run released. */
  interrupted: { ticketId: string; runId?: string }[];
  /** Tickets cut short while merging: back to the merge queue. */
  mergeInterrupted: string[];
  /** Tickets queued for merge (now, or once the plan is applied), in the order found: the merge queue again. */
  requeue: string[];
}

/** Finished work waiting to merge keeps its locks until the merge (its agent has exited). */
const HELD_UNTIL_MERGE: ReadonlySet<TicketStatus> = new Set(['gating', 'in-review', 'queued-for-merge', 'merging', 'escalated']);

function latestRun(state: OrchardState, ticketId: string): Run | undefined {
  let best: Run | undefined;
  for (const r of Object.values(state.runs)) if (r.ticketId === ticketId && (!best || r.attempt > best.attempt)) best = r;
  return best;
}

/** `live`: the ids of the runs adopted again (their end is handled by their own exit, never here). */
export function planRecovery(state: OrchardState, live: ReadonlySet<string>): RecoveryPlan {
  const orphans = new Set<string>();
  for (const l of state.locks) {
    const run = state.runs[l.runId];
    const status = state.tickets[l.ticketId]?.status;
    // A run that succeeded with its ticket still "running" goes to its gates: it keeps its locks too.
    const finished = status === 'running' && run?.outcome === 'succeeded';
    if (!live.has(l.runId) && run?.endedAt !== undefined && !(status && HELD_UNTIL_MERGE.has(status)) && !finished) orphans.add(l.runId);
  }
  const plan: RecoveryPlan = { orphanLockRuns: [...orphans], regate: [], interrupted: [], mergeInterrupted: [], requeue: [] };
  const adoptedTickets = new Set([...live].map((id) => state.runs[id]?.ticketId));
  for (const t of Object.values(state.tickets)) {
    const last = latestRun(state, t.id);
    // An adopted run's end is handled by its own exit (it may already have ended meanwhile:
    // gating it here too once moved the ticket to gating twice and stopped Orchard; soak seed 33).
    if (last && live.has(last.id)) continue;
    if ((t.status === 'gating' || t.status === 'running') && last?.endedAt !== undefined && last.outcome === 'succeeded') {
      plan.regate.push({ ticketId: t.id, runId: last.id, toGating: t.status === 'running' });
      continue;
    }
    if ((t.status === 'running' || t.status === 'gating') && !adoptedTickets.has(t.id))
      plan.interrupted.push({ ticketId: t.id, ...(last && { runId: last.id }) });
    else if (t.status === 'merging') plan.mergeInterrupted.push(t.id);
    if (t.status === 'merging' || t.status === 'queued-for-merge') plan.requeue.push(t.id);
  }
  return plan;
}
