// What is waiting for the human, as plain data (no vscode: unit-tested in plain Node). A wait
// has a key that stays the same for as long as it waits ("escalation:<id>"), so the signals
// (waitSignals.ts) raise each wait once, never a stream. Each kind of wait is one source in
// WAIT_SOURCES; a new kind (a ticket waiting for review) is one more line there.
import { escalationQueue } from '../core/escalations';
import { reviewQueueOf } from './reviewModel';
import type { OrchardState } from '../core/model';

export interface Wait {
  /** Stable for the whole wait: `<kind>:<id>`. */
  key: string;
  ticketId: string;
  /** One line for the status bar's tooltip and the pick list ("T3 asks: Use tabs?"). */
  label: string;
  since: number;
  /** The command that takes the human to it (answer the question, open the review). */
  open: { command: string; arguments: unknown[] };
}

export type WaitSource = (s: OrchardState, now: number) => Wait[];

/** Open questions (an agent waiting for input, or Orchard asking about a stopped merge), most urgent first. */
export const escalationWaits: WaitSource = (s, now) =>
  escalationQueue(Object.values(s.escalations ?? {}), (id) => s.tickets[id]?.priority ?? 'P2', now).map(({ escalation: e }) => ({
    key: `escalation:${e.id}`,
    ticketId: e.ticketId,
    label: `${e.ticketId} asks: ${e.question}`,
    since: e.createdAt,
    open: { command: 'orchard.answerEscalation', arguments: [e.id] },
  }));

/** Tickets waiting for a person's review (review policy), oldest first; each new round is a new wait. */
export const reviewWaits: WaitSource = (s) =>
  reviewQueueOf(s).map((r) => ({
    key: `review:${r.ticketId}:${r.since}`,
    ticketId: r.ticketId,
    label: `${r.ticketId} waits for your review: ${r.title}`,
    since: r.since,
    open: { command: 'orchard.openReview', arguments: [r.ticketId] },
  }));

/** Every kind of wait, in the order they are listed. */
export const WAIT_SOURCES: readonly WaitSource[] = [escalationWaits, reviewWaits];

export function waitsOf(s: OrchardState | undefined, now: number, sources: readonly WaitSource[] = WAIT_SOURCES): Wait[] {
  return s ? sources.flatMap((source) => source(s, now)) : [];
}

/**
 * Remembers the keys already raised. `update` returns the waits that arrived since the last
 * call; a key that went away and comes back counts as a new wait. The first call only takes
 * note (waits already there when the window opened are shown, not announced).
 */
export class WaitTracker {
  private known: Set<string> | undefined;

  update(waits: readonly Wait[]): Wait[] {
    const keys = new Set(waits.map((w) => w.key));
    const arrived = this.known ? waits.filter((w) => !this.known!.has(w.key)) : [];
    this.known = keys;
    return arrived;
  }
}

/** "Orchard: 1 waiting for you" */
export function waitingText(n: number): string {
  return `Orchard: ${n} waiting for you`;
}
