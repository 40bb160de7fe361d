// Adding and ordering tickets, the one path every front end takes (`orchard add`, `orchard
// import`, Orchard: Add Ticket, Import Tickets, Start's "Run in Sequence"): ids are allocated
// against the live state, input is checked like an imported file, scopes are checked against
// the repository on disk, then the orchestrator adds or edits (it checks the whole graph).
import { ImportError } from '../core/errors';
import { importTickets, type ImportFile } from '../core/importers';
import type { TicketSpec } from '../core/model';
import { existingTicketIds, newTicketSpec, type NewTicketInput } from '../core/newTicket';
import type { Orchestrator } from '../core/orchestrator';
import { sequenceEdits, type SequenceEdge } from '../core/preflight';
import { assertScopesInside, scopeEscape } from './scopeCheck';

/** What adding tickets needs: the writer's orchestrator and the repository the scopes must stay in. */
export interface TicketIntake {
  orchestrator: Pick<Orchestrator, 'snapshot' | 'addTickets' | 'editTicket'>;
  repo: string;
}

/** Adds one ticket typed by a person; `source` names the front end in errors. Returns what was added. */
export async function addTicket(ctx: TicketIntake, input: NewTicketInput, source: string): Promise<TicketSpec> {
  const ticket = newTicketSpec(input, existingTicketIds(ctx.orchestrator.snapshot), source);
  const issues = ticket.files.flatMap((pattern) => {
    const why = scopeEscape(ctx.repo, pattern);
    return why ? [{ file: source, ticketId: ticket.id, field: 'files', message: why }] : [];
  });
  if (issues.length) throw new ImportError(issues);
  await ctx.orchestrator.addTickets([ticket]);
  return ticket;
}

/** Imports ticket files (tickets.json, ws-*.json) read by the caller; all or nothing. */
export async function importTicketFiles(ctx: TicketIntake, files: readonly ImportFile[]): Promise<TicketSpec[]> {
  const tickets = importTickets(files, { existingIds: existingTicketIds(ctx.orchestrator.snapshot) });
  assertScopesInside(ctx.repo, files);
  await ctx.orchestrator.addTickets(tickets);
  return tickets;
}

/** "Run in sequence": each later ticket of an overlapping pair waits for the earlier one. Returns the tickets edited. */
export async function applySequence(ctx: Pick<TicketIntake, 'orchestrator'>, edges: readonly SequenceEdge[]): Promise<string[]> {
  const edits = sequenceEdits(ctx.orchestrator.snapshot.tickets, edges);
  for (const e of edits) await ctx.orchestrator.editTicket(e.ticketId, { dependsOn: e.dependsOn });
  return edits.map((e) => e.ticketId);
}
