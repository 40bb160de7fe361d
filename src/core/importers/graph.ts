// Graph checks over imported tickets: duplicate ids (also ones that differ only in case,
// which collide as branch and directory names on macOS and Windows), self-dependencies,
// unknown dependencies and cycles (reported with the cycle's path).
import type { ImportIssue } from '../errors';
import type { LocatedTicket } from './types';

/**
 * existingIds: tickets already in the state (dependencies may name them, new tickets may
 * not reuse them). alsoKnown: ids of imported tickets that failed other checks; dependencies
 * on them are not reported again as unknown.
 */
export function graphIssues(tickets: readonly LocatedTicket[], existingIds: Iterable<string> = [], alsoKnown: Iterable<string> = []): ImportIssue[] {
  const issues: ImportIssue[] = [];
  const existing = new Set(existingIds);
  const known = new Set(alsoKnown);
  const existingLower = new Map<string, string>();
  for (const id of existing) existingLower.set(id.toLowerCase(), id);

  const first = new Map<string, LocatedTicket>();
  const firstLower = new Map<string, LocatedTicket>();
  const where = (t: LocatedTicket) => `${t.file} (ticket #${t.index + 1})`;
  for (const t of tickets) {
    const id = t.spec.id;
    const base = { file: t.file, ticketId: id, index: t.index, field: t.idField };
    if (existing.has(id)) {
      issues.push({ ...base, message: `id "${id}" is already used by an existing ticket; choose another id or edit the existing ticket` });
      continue;
    }
    const el = existingLower.get(id.toLowerCase());
    if (el !== undefined) {
      issues.push({
        ...base,
        message: `id "${id}" differs only in case from existing ticket "${el}"; branch and folder names would collide on macOS and Windows, so choose another id`,
      });
      continue;
    }
    const prev = first.get(id);
    if (prev) {
      issues.push({ ...base, message: `duplicate id "${id}" (first used in ${where(prev)}); give each ticket its own id` });
      continue;
    }
    const prevL = firstLower.get(id.toLowerCase());
    if (prevL) {
      issues.push({
        ...base,
        message: `id "${id}" differs only in case from "${prevL.spec.id}" in ${where(prevL)}; branch and folder names would collide on macOS and Windows, so choose another id`,
      });
      continue;
    }
    first.set(id, t);
    firstLower.set(id.toLowerCase(), t);
  }

  for (const t of tickets) {
    if (first.get(t.spec.id) !== t) continue; // duplicates already reported
    for (const d of t.spec.dependsOn) {
      const base = { file: t.file, ticketId: t.spec.id, index: t.index, field: t.dependsField };
      if (d === t.spec.id) issues.push({ ...base, message: `ticket depends on itself; remove "${d}" from ${t.dependsField}` });
      else if (!first.has(d) && !existing.has(d) && !known.has(d)) {
        const near = firstLower.get(d.toLowerCase())?.spec.id ?? existingLower.get(d.toLowerCase());
        issues.push({
          ...base,
          message: `depends on unknown ticket "${d}"${near ? ` (did you mean "${near}"?)` : ''}; add that ticket or remove the dependency`,
        });
      }
    }
  }

  for (const cycle of findCycles(first)) {
    const t = first.get(cycle[0]!)!;
    issues.push({
      file: t.file,
      ticketId: t.spec.id,
      index: t.index,
      field: t.dependsField,
      message: `dependency cycle: ${cycle.join(' → ')} → ${cycle[0]}; remove one of these dependencies so the tickets can run in order`,
    });
  }
  return issues;
}

/**
 * One cycle per strongly connected component (Tarjan, iterative so deep chains cannot
 * overflow the stack). Each cycle starts at its smallest id; edges go ticket → dependency.
 */
export function findCycles(nodes: ReadonlyMap<string, { spec: { dependsOn: readonly string[] } }>): string[][] {
  const succ = (v: string) => [...new Set(nodes.get(v)!.spec.dependsOn)].filter((d) => d !== v && nodes.has(d));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  let counter = 0;
  for (const root of [...nodes.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { v: string; next: string[]; i: number }[] = [];
    const open = (v: string) => {
      index.set(v, counter);
      low.set(v, counter);
      counter++;
      stack.push(v);
      onStack.add(v);
      work.push({ v, next: succ(v), i: 0 });
    };
    open(root);
    while (work.length) {
      const top = work[work.length - 1]!;
      if (top.i < top.next.length) {
        const w = top.next[top.i++]!;
        if (!index.has(w)) open(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!;
        low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1) sccs.push(comp);
      }
    }
  }
  const cycles: string[][] = [];
  for (const comp of sccs) {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0]!;
    // Shortest path start → … → start inside the component (BFS).
    const prev = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    for (let qi = 0; qi < queue.length && end === undefined; qi++) {
      const v = queue[qi]!;
      for (const w of succ(v)) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path: string[] = [];
    for (let v: string | undefined = end; v !== undefined && v !== start; v = prev.get(v)) path.push(v);
    path.push(start);
    cycles.push(path.reverse());
  }
  return cycles.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}
