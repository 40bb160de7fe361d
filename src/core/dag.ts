// The ticket dependency graph: validation, ordering, waves, critical path, readiness and
// blocking. Pure and O(V+E) throughout (10,000 tickets in a few milliseconds).
//
// Edges point from a dependency to its dependent: "B dependsOn A" is A → B.
// Unknown dependencies and self-dependencies are reported by validateGraph and otherwise
// ignored by the ordering functions; tickets on a cycle are left out of topologicalOrder
// and executionWaves (validateGraph reports the cycle's path).
import { FINAL_STATUSES, type Ticket, type TicketSpec, type TicketStatus } from './model';

/** Estimate used for a ticket without one (minutes). */
export const DEFAULT_ESTIMATE_MINUTES = 30;

export type GraphProblemKind = 'cycle' | 'self-dependency' | 'unknown-dependency' | 'duplicate-id';

export interface GraphProblem {
  kind: GraphProblemKind;
  /** The ticket to fix. */
  ticketId: string;
  field: 'dependsOn' | 'id';
  message: string;
  /** For cycles: the path, closed (first id repeated at the end): A → B → C → A. */
  path?: string[];
  /** For unknown/self dependencies: the offending entry of dependsOn. */
  dependency?: string;
}

type GraphInput = readonly Pick<TicketSpec, 'id' | 'dependsOn' | 'estimate'>[];

/** Compares ids naturally (ws-2 before ws-10), deterministically (no locale). */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      if (x.length !== y.length) return x.length - y.length;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The graph in index form (compressed adjacency). Index i is the first ticket with ids[i];
 * later duplicates are dropped. deps/dependents hold only known, non-self edges, once each.
 */
export interface GraphIndex {
  ids: string[];
  index: Map<string, number>;
  /** Dependencies of i: depsList[depsStart[i] .. depsStart[i+1]). */
  depsStart: Int32Array;
  depsList: Int32Array;
  /** Dependents of i, same layout. */
  outStart: Int32Array;
  outList: Int32Array;
  /** Estimate in minutes (default applied). */
  estimate: Float64Array;
  /** Unknown dependency ids per index (rare; undefined when none). */
  unknownDeps: Map<number, string[]>;
}

export function buildGraphIndex(tickets: GraphInput, defaultEstimate = DEFAULT_ESTIMATE_MINUTES): GraphIndex {
  const index = new Map<string, number>();
  const specs: Array<Pick<TicketSpec, 'id' | 'dependsOn' | 'estimate'>> = [];
  for (const t of tickets) {
    if (index.has(t.id)) continue;
    index.set(t.id, specs.length);
    specs.push(t);
  }
  const n = specs.length;
  const depsStart = new Int32Array(n + 1);
  const tmp: number[] = [];
  const unknownDeps = new Map<number, string[]>();
  const outCount = new Int32Array(n);
  const estimate = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = specs[i]!;
    const e = s.estimate;
    estimate[i] = typeof e === 'number' && Number.isFinite(e) && e >= 0 ? e : defaultEstimate;
    depsStart[i] = tmp.length;
    const seen = new Set<number>();
    for (const d of s.dependsOn ?? []) {
      const j = index.get(d);
      if (j === undefined) {
        let u = unknownDeps.get(i);
        if (!u) unknownDeps.set(i, (u = []));
        u.push(d);
        continue;
      }
      if (j === i || seen.has(j)) continue;
      seen.add(j);
      tmp.push(j);
      outCount[j]!++;
    }
  }
  depsStart[n] = tmp.length;
  const depsList = Int32Array.from(tmp);
  const outStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) outStart[i + 1] = outStart[i]! + outCount[i]!;
  const fill = outStart.slice(0, n);
  const outList = new Int32Array(depsList.length);
  for (let i = 0; i < n; i++) {
    for (let k = depsStart[i]!; k < depsStart[i + 1]!; k++) {
      const j = depsList[k]!;
      outList[fill[j]!++] = i;
    }
  }
  return { ids: specs.map((s) => s.id), index, depsStart, depsList, outStart, outList, estimate, unknownDeps };
}

/**
 * Kahn's algorithm on the index; returns indices in order (ties: input order) and the
 * indices that could not be ordered (on or behind a cycle).
 */
function kahn(g: GraphIndex): { order: number[]; stuck: number[] } {
  const n = g.ids.length;
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) indeg[i] = g.depsStart[i + 1]! - g.depsStart[i]!;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) order.push(i);
  for (let h = 0; h < order.length; h++) {
    const i = order[h]!;
    for (let k = g.outStart[i]!; k < g.outStart[i + 1]!; k++) {
      const j = g.outList[k]!;
      if (--indeg[j]! === 0) order.push(j);
    }
  }
  const stuck: number[] = [];
  if (order.length < n) for (let i = 0; i < n; i++) if (indeg[i]! > 0) stuck.push(i);
  return { order, stuck };
}

/** Strongly connected components with more than one member (iterative Tarjan). */
function cyclicComponents(g: GraphIndex, within: readonly number[]): number[][] {
  const n = g.ids.length;
  const idx = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const comps: number[][] = [];
  let counter = 0;
  const work: Array<[number, number]> = [];
  for (const s of within) {
    if (idx[s] !== -1) continue;
    work.push([s, g.outStart[s]!]);
    idx[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = 1;
    while (work.length) {
      const top = work[work.length - 1]!;
      const v = top[0];
      if (top[1] < g.outStart[v + 1]!) {
        const w = g.outList[top[1]++]!;
        if (idx[w] === -1) {
          idx[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, g.outStart[w]!]);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, idx[w]!);
      } else {
        work.pop();
        if (work.length) {
          const u = work[work.length - 1]![0];
          low[u] = Math.min(low[u]!, low[v]!);
        }
        if (low[v] === idx[v]) {
          const comp: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp.push(w);
          } while (w !== v);
          if (comp.length > 1) comps.push(comp);
        }
      }
    }
  }
  return comps;
}

/** A cycle through start inside one component, as a list of indices (start first, not repeated). */
function cycleIn(g: GraphIndex, comp: readonly number[], start: number): number[] {
  const inComp = new Set(comp);
  // BFS along dependency edges (ticket → what it depends on) from start back to start.
  const prev = new Map<number, number>();
  const queue = [start];
  for (let h = 0; h < queue.length; h++) {
    const v = queue[h]!;
    for (let k = g.depsStart[v]!; k < g.depsStart[v + 1]!; k++) {
      const w = g.depsList[k]!;
      if (!inComp.has(w)) continue;
      if (w === start) {
        const path = [v];
        let x = v;
        while (x !== start) {
          x = prev.get(x)!;
          path.push(x);
        }
        return path.reverse();
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

/**
 * Problems that make the graph unusable, each naming the ticket and the fix: duplicate
 * ids, self-dependencies, unknown dependencies, and cycles (one per strongly connected
 * component, with the path A → B → C → A read as "A depends on B, which depends on C, ...").
 */
export function validateGraph(tickets: GraphInput): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const seen = new Set<string>();
  for (const t of tickets) {
    if (seen.has(t.id)) {
      problems.push({
        kind: 'duplicate-id',
        ticketId: t.id,
        field: 'id',
        message: `Ticket id "${t.id}" is used by more than one ticket; give each ticket a unique id.`,
      });
    }
    seen.add(t.id);
  }
  const g = buildGraphIndex(tickets);
  const reported = new Set<number>();
  for (const t of tickets) {
    const i = g.index.get(t.id)!;
    if (reported.has(i)) continue; // a duplicate: its first occurrence is the one checked
    reported.add(i);
    for (const d of new Set(t.dependsOn ?? [])) {
      if (d === t.id) {
        problems.push({
          kind: 'self-dependency',
          ticketId: t.id,
          field: 'dependsOn',
          dependency: d,
          message: `Ticket ${t.id} depends on itself; remove "${d}" from its dependsOn.`,
        });
      } else if (!g.index.has(d)) {
        problems.push({
          kind: 'unknown-dependency',
          ticketId: t.id,
          field: 'dependsOn',
          dependency: d,
          message: `Ticket ${t.id} depends on "${d}", which is not a ticket; fix the id or remove it from dependsOn.`,
        });
      }
    }
  }
  const { stuck } = kahn(g);
  if (stuck.length) {
    for (const comp of cyclicComponents(g, stuck)) {
      // Start the path at the smallest id in the component, so the report is stable.
      let start = comp[0]!;
      for (const v of comp) if (compareIds(g.ids[v]!, g.ids[start]!) < 0) start = v;
      const cyc = cycleIn(g, comp, start);
      const path = [...cyc.map((v) => g.ids[v]!), g.ids[start]!];
      const first = g.ids[cyc[0]!]!;
      const second = g.ids[cyc[1] ?? cyc[0]!]!;
      problems.push({
        kind: 'cycle',
        ticketId: first,
        field: 'dependsOn',
        path,
        message:
          `Dependency cycle: ${path.join(' → ')} (each depends on the next), so none of them can ever start; ` +
          `remove one of these dependencies, e.g. "${second}" from ${first}'s dependsOn.`,
      });
    }
  }
  return problems;
}

/** Tickets in dependency order (dependencies first; ties keep input order). Tickets on a cycle are left out. */
export function topologicalOrder(tickets: GraphInput): string[] {
  const g = buildGraphIndex(tickets);
  return kahn(g).order.map((i) => g.ids[i]!);
}

/**
 * Levels for display: wave 0 holds tickets without dependencies, wave k the tickets whose
 * longest dependency chain has k links. Within a wave: input order. Cycles left out.
 */
export function executionWaves(tickets: GraphInput): string[][] {
  const g = buildGraphIndex(tickets);
  const { order } = kahn(g);
  const level = new Int32Array(g.ids.length);
  const waves: string[][] = [];
  for (const i of order) {
    let l = 0;
    for (let k = g.depsStart[i]!; k < g.depsStart[i + 1]!; k++) l = Math.max(l, level[g.depsList[k]!]! + 1);
    level[i] = l;
  }
  const byInput = [...order].sort((a, b) => a - b);
  for (const i of byInput) (waves[level[i]!] ??= []).push(g.ids[i]!);
  return waves;
}

/**
 * For each ticket, the length in minutes of the longest chain of estimates from it (itself
 * included) to the end of the DAG. A missing estimate counts DEFAULT_ESTIMATE_MINUTES (30).
 */
export function criticalPathLengthsOf(g: GraphIndex): Float64Array {
  const { order } = kahn(g);
  const cpl = new Float64Array(g.ids.length);
  for (let i = 0; i < g.ids.length; i++) cpl[i] = g.estimate[i]!; // also covers tickets on a cycle
  for (let h = order.length - 1; h >= 0; h--) {
    const i = order[h]!;
    let best = 0;
    for (let k = g.outStart[i]!; k < g.outStart[i + 1]!; k++) best = Math.max(best, cpl[g.outList[k]!]!);
    cpl[i] = g.estimate[i]! + best;
  }
  return cpl;
}

export function criticalPathLengths(tickets: GraphInput, defaultEstimate = DEFAULT_ESTIMATE_MINUTES): Map<string, number> {
  const g = buildGraphIndex(tickets, defaultEstimate);
  const cpl = criticalPathLengthsOf(g);
  const out = new Map<string, number>();
  for (let i = 0; i < g.ids.length; i++) out.set(g.ids[i]!, cpl[i]!);
  return out;
}

export interface CriticalPath {
  /** The longest chain, dependencies first. */
  ids: string[];
  /** Its length in minutes (sum of estimates). */
  length: number;
}

/** The longest chain of estimates through the DAG (ties: smallest id). Empty graph: length 0. */
export function criticalPath(tickets: GraphInput, defaultEstimate = DEFAULT_ESTIMATE_MINUTES): CriticalPath {
  const g = buildGraphIndex(tickets, defaultEstimate);
  const cpl = criticalPathLengthsOf(g);
  const { order } = kahn(g);
  let cur = -1;
  for (const i of order) {
    if (cur === -1 || cpl[i]! > cpl[cur]! || (cpl[i] === cpl[cur] && compareIds(g.ids[i]!, g.ids[cur]!) < 0)) cur = i;
  }
  if (cur === -1) return { ids: [], length: 0 };
  const length = cpl[cur]!;
  const ids: string[] = [];
  const EPS = 1e-9;
  while (cur !== -1) {
    ids.push(g.ids[cur]!);
    const rest = cpl[cur]! - g.estimate[cur]!;
    let next = -1;
    for (let k = g.outStart[cur]!; k < g.outStart[cur + 1]!; k++) {
      const j = g.outList[k]!;
      if (Math.abs(cpl[j]! - rest) <= EPS * Math.max(1, rest) && (next === -1 || compareIds(g.ids[j]!, g.ids[next]!) < 0)) next = j;
    }
    cur = rest > EPS ? next : -1;
  }
  return { ids, length };
}

export interface BlockedByFinal {
  ticketId: string;
  /** The failed or cancelled ticket at the root of the block. */
  dependency: string;
  dependencyStatus: 'failed' | 'cancelled';
  /** The chain from the ticket's direct dependency down to the root (direct first). */
  via: string[];
  reason: string;
}

type StatusInput = readonly Pick<Ticket, 'id' | 'dependsOn' | 'status'>[] | Readonly<Record<string, Pick<Ticket, 'id' | 'dependsOn' | 'status'>>>;

function asList<T>(x: readonly T[] | Readonly<Record<string, T>>): readonly T[] {
  return Array.isArray(x) ? (x as readonly T[]) : Object.values(x as Record<string, T>);
}

/**
 * Non-final tickets that can never start because a dependency (direct or transitive) is
 * failed or cancelled, each with the root dependency and the chain to it. Done tickets and
 * the failed/cancelled tickets themselves are not listed.
 */
export function blockedByFinal(tickets: StatusInput): Map<string, BlockedByFinal> {
  const list = asList(tickets);
  const g = buildGraphIndex(list);
  const status: Array<TicketStatus | undefined> = new Array(g.ids.length);
  for (const t of list) {
    const i = g.index.get(t.id)!;
    if (status[i] === undefined) status[i] = t.status; // first occurrence wins, as in the index
  }
  const { order } = kahn(g);
  const root = new Int32Array(g.ids.length).fill(-1);
  const via = new Int32Array(g.ids.length).fill(-1); // the direct dependency through which the block comes
  const out = new Map<string, BlockedByFinal>();
  for (const i of order) {
    for (let k = g.depsStart[i]!; k < g.depsStart[i + 1]!; k++) {
      const d = g.depsList[k]!;
      const ds = status[d]!;
      if (ds === 'failed' || ds === 'cancelled') {
        root[i] = d;
        via[i] = d;
        break;
      }
      if (root[d] !== -1 && via[i] === -1) {
        root[i] = root[d]!;
        via[i] = d;
      }
    }
    if (root[i] === -1 || FINAL_STATUSES.has(status[i]!)) continue;
    const chain: string[] = [];
    let x = i;
    while (via[x] !== -1 && x !== root[i]) {
      x = via[x]!;
      chain.push(g.ids[x]!);
    }
    const r = root[i]!;
    const rs = status[r] as 'failed' | 'cancelled';
    const id = g.ids[i]!;
    const rid = g.ids[r]!;
    out.set(id, {
      ticketId: id,
      dependency: rid,
      dependencyStatus: rs,
      via: chain,
      reason:
        chain.length === 1
          ? `${id} depends on ${rid}, which ${rs === 'failed' ? 'failed' : 'was cancelled'}; retry or reopen ${rid}, or remove it from ${id}'s dependsOn.`
          : `${id} depends on ${chain[0]}, which waits on ${rid} (${rs === 'failed' ? 'failed' : 'cancelled'}) via ${chain.join(' → ')}; retry or reopen ${rid}.`,
    });
  }
  return out;
}

/** Statuses from which a ticket may be started once its dependencies are merged. */
export const SCHEDULABLE_STATUSES: ReadonlySet<TicketStatus> = new Set(['backlog', 'ready']);

/**
 * Ids of tickets that could start now as far as the graph goes: status backlog or ready
 * (not final, not active, not escalated/blocked/in the merge pipeline) and every
 * dependency done (merged). A ticket with an unknown dependency is never ready.
 * Result in input order.
 */
export function readySet(tickets: StatusInput): string[] {
  const list = asList(tickets);
  const status = new Map<string, TicketStatus>();
  for (const t of list) if (!status.has(t.id)) status.set(t.id, t.status);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const t of list) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (!SCHEDULABLE_STATUSES.has(t.status)) continue;
    if ((t.dependsOn ?? []).every((d) => d !== t.id && status.get(d) === 'done')) out.push(t.id);
  }
  return out;
}
