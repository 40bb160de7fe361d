// The name of an agent's terminal tab, "Orchard ▶ T-12: Add login form": written when the
// terminal is made or its state changes (terminalHost.ts), read back when the user closes
// one (terminals.ts). One format, so the two can never drift apart.

/** The state mark after "Orchard" (…, ▶, ?, ✓, ✗, ■). */
export function terminalName(mark: string, ticket: { id: string; title: string }): string {
  return `Orchard ${mark} ${ticket.id}: ${ticket.title}`.slice(0, 80);
}

// Ticket ids are [A-Za-z0-9][A-Za-z0-9._-]* (core/importers/validate.ts): no space, no colon.
const NAME = /^Orchard \S+ ([A-Za-z0-9][A-Za-z0-9._-]*):/u;

/** The ticket id of an Orchard agent terminal, or undefined for any other terminal. */
export function ticketOfTerminalName(name: string): string | undefined {
  return NAME.exec(name)?.[1];
}
