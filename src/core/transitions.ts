// The one gate every ticket status change goes through.
import type { Ticket, TicketStatus } from './model';
import { OrchardError, OrchestratorError } from './errors';

const LEGAL: Record<TicketStatus, readonly TicketStatus[]> = {
  backlog: ['ready', 'blocked', 'cancelled'],
  ready: ['running', 'backlog', 'blocked', 'cancelled'],
  running: ['gating', 'ready', 'escalated', 'failed', 'cancelled'],
  gating: ['in-review', 'queued-for-merge', 'ready', 'escalated', 'failed', 'cancelled'],
  'in-review': ['queued-for-merge', 'ready', 'escalated', 'failed', 'cancelled'],
  'queued-for-merge': ['merging', 'ready', 'escalated', 'failed', 'cancelled'],
  merging: ['done', 'queued-for-merge', 'ready', 'escalated', 'failed', 'cancelled'],
  escalated: ['ready', 'running', 'queued-for-merge', 'failed', 'cancelled'],
  blocked: ['backlog', 'ready', 'cancelled'],
  failed: ['ready', 'backlog', 'cancelled'],
  cancelled: ['backlog'],
  done: [],
};

export class IllegalTransitionError extends OrchardError {
  constructor(
    readonly ticketId: string,
    readonly from: TicketStatus,
    readonly to: TicketStatus,
  ) {
    const allowed = LEGAL[from].length ? LEGAL[from].join(', ') : 'nothing (it is final)';
    super('illegal-transition', `Ticket ${ticketId} cannot go from ${from} to ${to}; from ${from} it may go to ${allowed}.`);
    this.name = 'IllegalTransitionError';
  }
  static override is(e: unknown): e is IllegalTransitionError {
    return e instanceof IllegalTransitionError;
  }
}

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return LEGAL[from].includes(to);
}

export function assertTransition(ticketId: string, from: TicketStatus, to: TicketStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(ticketId, from, to);
}

export function legalTargets(from: TicketStatus): readonly TicketStatus[] {
  return LEGAL[from];
}

/** The ticket, when its status is one of `allowed`; else an error saying what `what` is for. */
export function requireStatus(t: Ticket, allowed: readonly TicketStatus[], what: string): Ticket {
  if (!allowed.includes(t.status))
    throw new OrchestratorError('not-allowed', `${what} is for a ticket that is ${allowed.join(' or ')}; ${t.id} is ${t.status}.`);
  return t;
}
