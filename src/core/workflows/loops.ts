// Review loops of workflow templates ("loop": { "steps", "rounds", "untilApprovedBy" }): the
// loop runs at most N rounds, and stops early when the round's reviewing step approves. Its
// tickets carry labels (review-loop, round:<n>, loop-until-approved on the approving step) so
// this can be decided from the state alone. Pure: the orchestrator turns the answer into
// events in the same commit as the approving ticket's merge.
import type { OrchardEventBody } from '../events';
import { FINAL_STATUSES, type OrchardState, type Ticket, type TicketStatus } from '../model';
import { assertTransition } from '../transitions';

export const LOOP_LABEL = 'review-loop';
export const UNTIL_APPROVED_LABEL = 'loop-until-approved';
const ROUND_PREFIX = 'round:';

export const roundLabel = (round: number): string => `${ROUND_PREFIX}${round}`;

export function roundOf(t: Pick<Ticket, 'labels'>): number | undefined {
  const l = t.labels.find((x) => x.startsWith(ROUND_PREFIX));
  const n = l ? Number(l.slice(ROUND_PREFIX.length)) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

const workflowOf = (t: Pick<Ticket, 'labels'>) => t.labels.find((l) => l.startsWith('workflow:'));

/** Only work that has not started is skipped; a running ticket is left to finish. */
const SKIPPABLE = new Set<TicketStatus>(['backlog', 'ready', 'blocked']);

export interface LoopStop {
  /** Loop tickets no longer needed (not started), to be cancelled with `reason`. */
  skip: string[];
  /** Tickets that depended on a skipped one depend on the approving ticket instead. */
  rewire: Array<{ id: string; dependsOn: string[] }>;
  reason: string;
}

/**
 * When `ticketId` is the approving step of a review loop and its last run ended with
 * `VERDICT: APPROVE`: the rest of its round (steps after it) and every later round are
 * skipped, and what came after the loop now follows the approving ticket.
 */
export function loopStopOnApproval(state: Pick<OrchardState, 'tickets' | 'runs'>, ticketId: string): LoopStop | undefined {
  const a = state.tickets[ticketId];
  if (!a || !a.labels.includes(UNTIL_APPROVED_LABEL)) return undefined;
  const wf = workflowOf(a);
  const round = roundOf(a);
  if (!wf || round === undefined) return undefined;
  let last: { attempt: number; verdict?: string } | undefined;
  for (const r of Object.values(state.runs)) if (r.ticketId === ticketId && (!last || r.attempt > last.attempt)) last = r;
  if (last?.verdict !== 'approve') return undefined;
  // Same-round steps after the approving one: those that depend on it, directly or not.
  const after = new Set<string>();
  const dependsOnA = (id: string, seen = new Set<string>()): boolean => {
    if (seen.has(id)) return false;
    seen.add(id);
    const t = state.tickets[id];
    return !!t && t.dependsOn.some((d) => d === ticketId || dependsOnA(d, seen));
  };
  for (const t of Object.values(state.tickets)) {
    if (!t.labels.includes(LOOP_LABEL) || workflowOf(t) !== wf) continue;
    const r = roundOf(t);
    if (r === undefined || !SKIPPABLE.has(t.status)) continue;
    if (r > round || (r === round && dependsOnA(t.id))) after.add(t.id);
  }
  if (after.size === 0) return undefined;
  const rewire: LoopStop['rewire'] = [];
  for (const t of Object.values(state.tickets)) {
    if (after.has(t.id) || FINAL_STATUSES.has(t.status) || !t.dependsOn.some((d) => after.has(d))) continue;
    rewire.push({ id: t.id, dependsOn: [...new Set(t.dependsOn.map((d) => (after.has(d) ? ticketId : d)))] });
  }
  return {
    skip: [...after],
    rewire,
    reason: `not needed: ${ticketId} approved in round ${round}, so ${wf.slice('workflow:'.length)} stops its review loop early`,
  };
}

/**
 * The events that end a review loop when `ticketId` is its approving step (none otherwise): the
 * rest of the loop is cancelled as not needed (never started, so no work is lost) and what
 * followed the loop follows the approving ticket. Committed with the merge, so a crash cannot
 * split them; `note` says what was skipped, for the log.
 */
export function loopStopEvents(state: Pick<OrchardState, 'tickets' | 'runs'>, ticketId: string): { events: OrchardEventBody[]; note?: string } {
  const stop = loopStopOnApproval(state, ticketId);
  if (!stop) return { events: [] };
  return {
    events: [
      ...stop.rewire.map((r): OrchardEventBody => ({ type: 'ticket-edited', id: r.id, patch: { dependsOn: r.dependsOn } })),
      ...stop.skip.map((id): OrchardEventBody => {
        const from = state.tickets[id]!.status;
        assertTransition(id, from, 'cancelled');
        return { type: 'ticket-status', id, from, to: 'cancelled', reason: stop.reason };
      }),
    ],
    note: `${ticketId}: ${stop.reason}; skipping ${stop.skip.join(', ')}`,
  };
}
