// What every desk of the orchestrator (pump, run, retry, agent, gate, review, merge, conflict)
// reaches it through: its state and settings, its ports, its one way to record (the ledger's
// commit, and transition through the one gate), and the pump. The orchestrator makes one of
// these; each desk adds what only it needs.
import type { OrchardEventBody } from './events';
import type { OrchardState, Run, Settings, Ticket, TicketStatus } from './model';
import type { Ports } from './ports';

export interface DeskContext {
  state(): OrchardState;
  settings(): Settings;
  ports: Pick<Ports, 'workspace' | 'clock'>;
  commit(events: OrchardEventBody[]): Promise<void>;
  /** notBefore: the ticket may not start again before then (a retry's backoff). */
  transition(id: string, to: TicketStatus, reason?: string, notBefore?: number): Promise<void>;
  ticket(id: string): Ticket;
  /** The ticket's latest attempt. */
  currentRun(ticketId: string): Run | undefined;
  requestPump(): void;
}
