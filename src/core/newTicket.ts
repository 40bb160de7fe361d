// A ticket a person adds by hand (`orchard add`, Orchard: Add Ticket): the next free id, the
// title as the prompt when none is given, then the same checks as an imported file, so both
// front ends accept and refuse exactly the same input.
import { importTickets } from './importers';
import type { Priority, TicketSpec } from './model';

export interface NewTicketInput {
  id?: string;
  title: string;
  prompt?: string;
  priority?: Priority | string;
  dependsOn?: string[];
  files?: string[];
  labels?: string[];
  agent?: string;
  estimate?: number;
}

/** T<n+1> for the highest T<n> among the ids (T1 when there is none). */
export function nextTicketId(existing: Iterable<string>): string {
  let max = 0;
  for (const id of existing) {
    const m = /^T(\d+)$/.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `T${max + 1}`;
}

/** The checked spec of a new ticket; throws ImportError naming the field and the fix. `source` names the front end in errors. */
export function newTicketSpec(input: NewTicketInput, existingIds: readonly string[], source: string): TicketSpec {
  const raw = Object.fromEntries(
    Object.entries({ ...input, id: input.id ?? nextTicketId(existingIds), prompt: input.prompt ?? input.title, priority: input.priority ?? 'P2' }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return importTickets([{ name: source, text: JSON.stringify({ tickets: [raw] }) }], { existingIds: [...existingIds] })[0]!;
}

/** The ids a new ticket must not take: every ticket in the state, whatever its status. */
export function existingTicketIds(state: { tickets: Record<string, unknown> }): string[] {
  return Object.keys(state.tickets);
}

/** An edit as both front ends send it: fields left undefined and the id are not changes. */
export function ticketPatch(input: Partial<NewTicketInput>): Partial<Omit<TicketSpec, 'id'>> {
  return Object.fromEntries(Object.entries(input).filter(([k, v]) => v !== undefined && k !== 'id')) as Partial<Omit<TicketSpec, 'id'>>;
}
