// The ledger owns the state and its history: it alone applies events (through the reducer),
// appends them durably in order and tells listeners; tickets move only through its transition,
// checked by the one gate (core/transitions.ts).
import { Emitter, type Disposable, type Event } from './emitter';
import { OrchestratorError } from './errors';
import type { OrchardEvent, OrchardEventBody } from './events';
import type { OrchardState, Run, Ticket, TicketStatus } from './model';
import type { Ports } from './ports';
import { reduce } from './reduce';
import { assertTransition } from './transitions';

export interface ChangeEvent {
  events: readonly OrchardEvent[];
  state: Readonly<OrchardState>;
}

/** What a batch of applied events changed, for derived data (the scheduler's). */
export interface Applied {
  /** Tickets added or edited: the graph changed. */
  graphChanged: boolean;
  /** Tickets whose status changed or that got a run. */
  touched: ReadonlySet<string>;
}

export class Ledger implements Disposable {
  private readonly changed = new Emitter<ChangeEvent>();
  /** Fires after every batch of events has been applied (and durably appended). */
  readonly onDidChange: Event<ChangeEvent> = this.changed.event;
  private persist: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly state: OrchardState,
    private readonly ports: Pick<Ports, 'clock' | 'log' | 'state'>,
    private readonly applied: (a: Applied) => void,
  ) {}

  ticket(id: string): Ticket {
    const t = this.state.tickets[id];
    if (!t) throw new OrchestratorError('unknown-ticket', `There is no ticket "${id}". Run "orchard status" to list tickets.`);
    return t;
  }

  /** The ticket's latest attempt. */
  currentRun(ticketId: string): Run | undefined {
    let best: Run | undefined;
    for (const r of Object.values(this.state.runs)) {
      if (r.ticketId === ticketId && (!best || r.attempt > best.attempt)) best = r;
    }
    return best;
  }

  /** Applies events now and appends them durably; resolves once they are on disk. */
  commit(bodies: OrchardEventBody[]): Promise<void> {
    if (bodies.length === 0) return this.persist;
    if (this.closed) {
      // A straggler (a late progress report) after close: not worth reopening the store for.
      this.ports.log.debug(`dropped ${bodies.map((b) => b.type).join(', ')} after close`);
      return this.persist;
    }
    const at = this.ports.clock.now();
    const events: OrchardEvent[] = [];
    const touched = new Set<string>();
    let graphChanged = false;
    for (const body of bodies) {
      const e = { ...body, seq: this.state.seq + 1, at } as OrchardEvent;
      reduce(this.state, e);
      events.push(e);
      if (e.type === 'ticket-added' || e.type === 'ticket-edited') graphChanged = true;
      else if (e.type === 'ticket-status') touched.add(e.id);
      else if (e.type === 'run-started') touched.add(e.run.ticketId);
    }
    this.applied({ graphChanged, touched });
    this.ports.state.snapshot(this.state);
    const done = this.persist.then(() => this.ports.state.append(events));
    this.persist = done.catch((err) => this.ports.log.error(`Could not persist events: ${String(err)}`));
    this.changed.fire({ events, state: this.state });
    return done;
  }

  /** Moves a ticket (checked by the transition gate); notBefore: it may not start again before then. */
  transition(id: string, to: TicketStatus, reason?: string, notBefore?: number): Promise<void> {
    const t = this.ticket(id);
    assertTransition(id, t.status, to);
    return this.commit([{ type: 'ticket-status', id, from: t.status, to, reason, notBefore }]);
  }

  /** Tells listeners that something not in the log changed (a pause that was already on record). */
  notify(): void {
    this.changed.fire({ events: [], state: this.state });
  }

  /** Resolves once every event committed so far is durably appended. */
  async settled(): Promise<void> {
    await this.persist;
  }

  /** Events after close are dropped (logged), never appended. */
  dispose(): void {
    this.closed = true;
    this.changed.dispose();
  }
}
