// The Tickets view's filter, as plain data and pure functions (no vscode: unit-tested in
// plain Node): by status (any of), by label (any of) and by text (every word, in the id,
// title, prompt, labels or files, case-insensitive). The commands that set it live in
// ticketFilterCommands.ts.
import type { Ticket, TicketStatus } from '../core/model';

export interface TicketFilter {
  statuses?: readonly TicketStatus[];
  labels?: readonly string[];
  text?: string;
}

/** The filter without empty parts; undefined when nothing is left (no filter). */
export function normalizeFilter(f: TicketFilter | undefined): TicketFilter | undefined {
  if (!f) return undefined;
  const out: TicketFilter = {};
  if (f.statuses?.length) out.statuses = [...new Set(f.statuses)];
  if (f.labels?.length) out.labels = [...new Set(f.labels)];
  const text = f.text?.trim();
  if (text) out.text = text;
  return Object.keys(out).length ? out : undefined;
}

export function isActive(f: TicketFilter | undefined): boolean {
  return normalizeFilter(f) !== undefined;
}

/** Whether a ticket passes the filter (every part that is set must match). */
export function matchesFilter(t: Pick<Ticket, 'id' | 'title' | 'prompt' | 'status' | 'labels' | 'files'>, f: TicketFilter | undefined): boolean {
  if (!f) return true;
  if (f.statuses?.length && !f.statuses.includes(t.status)) return false;
  if (f.labels?.length) {
    const have = new Set((t.labels ?? []).map((l) => l.toLowerCase()));
    if (!f.labels.some((l) => have.has(l.toLowerCase()))) return false;
  }
  const words = f.text?.toLowerCase().split(/\s+/).filter(Boolean) ?? [];
  if (words.length) {
    const hay = [t.id, t.title, t.prompt, ...(t.labels ?? []), ...(t.files ?? [])].join('\n').toLowerCase();
    if (!words.every((w) => hay.includes(w))) return false;
  }
  return true;
}

/** Every label on the board, sorted (the choices of the label filter). */
export function labelsOf(tickets: Iterable<Pick<Ticket, 'labels'>>): string[] {
  const all = new Set<string>();
  for (const t of tickets) for (const l of t.labels ?? []) all.add(l);
  return [...all].sort((a, b) => a.localeCompare(b));
}

/** "status: running, failed · label: ui · “login”" — the filter in a few words. */
export function describeFilter(f: TicketFilter | undefined): string {
  const n = normalizeFilter(f);
  if (!n) return '';
  const parts: string[] = [];
  if (n.statuses) parts.push(`status: ${n.statuses.join(', ')}`);
  if (n.labels) parts.push(`label: ${n.labels.join(', ')}`);
  if (n.text) parts.push(`“${n.text}”`);
  return parts.join(' · ');
}

/** The line shown above the filtered tree: what is filtered and how many tickets pass. */
export function filterMessage(f: TicketFilter | undefined, shown: number, total: number): string | undefined {
  const d = describeFilter(f);
  return d ? `Filtered (${d}): ${shown} of ${total} ticket${total === 1 ? '' : 's'}` : undefined;
}
