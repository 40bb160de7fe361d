// Graph problems of a ticket set as messages (unknown and duplicate ids, self-dependency, cycles).
import type { TicketSpec } from './model';

export function graphProblems(tickets: readonly TicketSpec[], existing: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  const byId = new Map<string, TicketSpec>();
  const seenNew = new Set<string>();
  for (const t of tickets) {
    if (byId.has(t.id) && (seenNew.has(t.id) || !existing.has(t.id))) problems.push(`ticket ${t.id}: id is used twice; give each ticket its own id`);
    if (!existing.has(t.id) || byId.has(t.id)) seenNew.add(t.id);
    byId.set(t.id, t);
  }
  for (const t of tickets) {
    for (const d of t.dependsOn) {
      if (d === t.id) problems.push(`ticket ${t.id}: dependsOn lists the ticket itself; remove "${d}"`);
      else if (!byId.has(d)) problems.push(`ticket ${t.id}: dependsOn names unknown ticket "${d}"; add it or remove the dependency`);
    }
  }
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const d of byId.get(id)?.dependsOn ?? []) {
      if (d === id || !byId.has(d)) continue;
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of byId.keys()) {
    if (state.has(id)) continue;
    const cycle = visit(id);
    if (cycle) {
      problems.push(`ticket ${cycle[0]}: dependsOn makes a cycle ${cycle.join(' → ')}; remove one of these dependencies`);
      break;
    }
  }
  return problems;
}
