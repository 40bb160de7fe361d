// Before a batch: which selected tickets may touch the same files, and which ordering
// edges would make them run one after the other ("run in sequence").
//
// Pairs are found through PatternIndex (a trie over static prefixes): only patterns whose
// static prefixes are related are compared, not all pairs. Pairs already ordered by the
// dependency graph (one reaches the other) can never run at once; they are reported with
// ordered: true and get no suggestion.
import { buildGraphIndex, compareIds, criticalPathLengthsOf, type GraphIndex } from './dag';
import { FINAL_STATUSES, priorityRank, type TicketSpec, type TicketStatus } from './model';
import { PatternIndex, patternsOverlap } from './paths';

export interface SharedPattern {
  /** Pattern of ticket a. */
  a: string;
  /** Pattern of ticket b. */
  b: string;
}

export interface OverlapPair {
  /** a < b in natural id order. */
  a: string;
  b: string;
  shared: SharedPattern[];
  /** One depends (transitively) on the other: they never run at once. */
  ordered: boolean;
}

export interface SequenceEdge {
  /** The ticket that should wait ... */
  ticketId: string;
  /** ... until this one is merged (add it to ticketId's dependsOn). */
  dependsOn: string;
}

export interface PreflightResult {
  pairs: OverlapPair[];
  /**
   * "Run in sequence": edges to add so that no two overlapping tickets can run at once.
   * They follow one total order (dependency order; ties: priority, longer critical path,
   * id), so adding all of them never creates a cycle.
   */
  sequence: SequenceEdge[];
  /** Tickets without any file scope: they take no locks and are not checked. */
  unscoped: string[];
}

type Spec = Pick<TicketSpec, 'id' | 'dependsOn' | 'files' | 'priority' | 'estimate'>;

export function preflight(tickets: readonly Spec[]): PreflightResult {
  const index = new PatternIndex<number>();
  const list: Spec[] = [];
  const seen = new Set<string>();
  for (const t of tickets) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    list.push(t);
  }
  const unscoped: string[] = [];
  list.forEach((t, k) => {
    const files = [...new Set(t.files ?? [])];
    if (files.length === 0) unscoped.push(t.id);
    for (const f of files) index.add(f, k);
  });
  const found = new Map<string, OverlapPair>();
  list.forEach((t, k) => {
    for (const f of new Set(t.files ?? [])) {
      for (const c of index.candidates(f)) {
        if (c.value <= k) continue; // each unordered pair once, never a ticket with itself
        if (!patternsOverlap(f, c.pattern)) continue;
        const other = list[c.value]!;
        const [a, b, pa, pb] = compareIds(t.id, other.id) < 0 ? [t.id, other.id, f, c.pattern] : [other.id, t.id, c.pattern, f];
        const key = `${a}\u0000${b}`;
        let p = found.get(key);
        if (!p) found.set(key, (p = { a, b, shared: [], ordered: false }));
        if (!p.shared.some((s) => s.a === pa && s.b === pb)) p.shared.push({ a: pa, b: pb });
      }
    }
  });
  const pairs = [...found.values()].sort((x, y) => compareIds(x.a, y.a) || compareIds(x.b, y.b));
  for (const p of pairs) p.shared.sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : x.b > y.b ? 1 : 0));

  const g = buildGraphIndex(list);
  const pos = sequenceOrder(g, list);
  const reach = new Reachability(g);
  const sequence: SequenceEdge[] = [];
  for (const p of pairs) {
    const ia = g.index.get(p.a)!;
    const ib = g.index.get(p.b)!;
    p.ordered = reach.reaches(ia, ib) || reach.reaches(ib, ia);
    if (p.ordered) continue;
    const [first, second] = pos[ia]! < pos[ib]! ? [p.a, p.b] : [p.b, p.a];
    sequence.push({ ticketId: second, dependsOn: first });
  }
  return { pairs, sequence, unscoped };
}

/** Position of each index in a topological order that prefers priority, then critical path, then id. */
function sequenceOrder(g: GraphIndex, list: readonly Spec[]): Int32Array {
  const n = g.ids.length;
  const cpl = criticalPathLengthsOf(g);
  const rank = (i: number): number => priorityRank(list[i]!.priority ?? 'P2');
  const better = (x: number, y: number): boolean =>
    rank(x) !== rank(y) ? rank(x) < rank(y) : cpl[x] !== cpl[y] ? cpl[x]! > cpl[y]! : compareIds(g.ids[x]!, g.ids[y]!) < 0;
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) indeg[i] = g.depsStart[i + 1]! - g.depsStart[i]!;
  const heap: number[] = [];
  const push = (x: number): void => {
    heap.push(x);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!better(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        let m = i;
        if (l < heap.length && better(heap[l]!, heap[m]!)) m = l;
        if (l + 1 < heap.length && better(heap[l + 1]!, heap[m]!)) m = l + 1;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  for (let i = 0; i < n; i++) if (indeg[i] === 0) push(i);
  const pos = new Int32Array(n).fill(n); // on a cycle: last
  let k = 0;
  while (heap.length) {
    const i = pop();
    pos[i] = k++;
    for (let e = g.outStart[i]!; e < g.outStart[i + 1]!; e++) if (--indeg[g.outList[e]!]! === 0) push(g.outList[e]!);
  }
  return pos;
}

/** Reachability queries along dependency edges, memoised per source (fine for batch sizes). */
class Reachability {
  private readonly memo = new Map<number, Uint8Array>();
  constructor(private readonly g: GraphIndex) {}
  /** Whether `to` is reachable from `from` following dependent edges (from is an ancestor). */
  reaches(from: number, to: number): boolean {
    let seen = this.memo.get(from);
    if (!seen) {
      seen = new Uint8Array(this.g.ids.length);
      const stack = [from];
      while (stack.length) {
        const v = stack.pop()!;
        for (let k = this.g.outStart[v]!; k < this.g.outStart[v + 1]!; k++) {
          const w = this.g.outList[k]!;
          if (!seen[w]) {
            seen[w] = 1;
            stack.push(w);
          }
        }
      }
      this.memo.set(from, seen);
    }
    return seen[to] === 1;
  }
}

/** All pairs compared directly: the reference the indexed search is tested against. */
export function naiveOverlapPairs(tickets: readonly Pick<TicketSpec, 'id' | 'files'>[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < tickets.length; i++) {
    for (let j = i + 1; j < tickets.length; j++) {
      const a = tickets[i]!;
      const b = tickets[j]!;
      if (a.id === b.id) continue;
      if (a.files.some((x) => b.files.some((y) => patternsOverlap(x, y)))) {
        out.push(compareIds(a.id, b.id) < 0 ? [a.id, b.id] : [b.id, a.id]);
      }
    }
  }
  return out.sort((x, y) => compareIds(x[0], y[0]) || compareIds(x[1], y[1]));
}

type StartTicket = Spec & { status: TicketStatus };

/**
 * The pre-flight of tickets about to start, checked with those already running: only pairs
 * with at least one starting ticket are news, and only edges between such a pair are
 * suggested. Pairs the graph already orders are left out (they never run at once).
 */
export function startPreflight(all: Readonly<Record<string, StartTicket>>, starting: readonly StartTicket[]): PreflightResult {
  const ids = new Set(starting.map((t) => t.id));
  const running = Object.values(all).filter((t) => (t.status === 'running' || t.status === 'escalated') && !ids.has(t.id));
  const r = preflight([...starting, ...running]);
  const pairs = r.pairs.filter((p) => !p.ordered && (ids.has(p.a) || ids.has(p.b)));
  const sequence = r.sequence.filter((e) => ids.has(e.ticketId) && pairs.some((p) => [p.a, p.b].includes(e.ticketId) && [p.a, p.b].includes(e.dependsOn)));
  return { ...r, pairs, sequence };
}

/** "Run in sequence" as edits: the dependsOn each ticket gains (tickets already final, or already waiting on it, are left alone). */
export function sequenceEdits(all: Readonly<Record<string, StartTicket>>, edges: readonly SequenceEdge[]): { ticketId: string; dependsOn: string[] }[] {
  const added = new Map<string, string[]>();
  for (const e of edges) {
    const t = all[e.ticketId];
    if (!t || FINAL_STATUSES.has(t.status)) continue;
    const deps = added.get(t.id) ?? [...t.dependsOn];
    if (!deps.includes(e.dependsOn)) added.set(t.id, [...deps, e.dependsOn]);
  }
  return [...added].map(([ticketId, dependsOn]) => ({ ticketId, dependsOn }));
}
