// Assignment of ready tickets to free slots. Pure and deterministic: everything it needs
// (statuses, running tickets, slots, locks, the time) comes in as arguments.
//
// Order (effective priority), best first:
//   1. effective class: P0 = 0 always; P1..P3 age by one class per `agingMinutesPerClass`
//      minutes waited since the ticket became ready (readyAt, else createdAt), but never
//      past P1 — so an old P3 can catch up with P1 work, and P0 still goes first.
//      Aging is against starvation, so it only applies while a better class is among the
//      ready tickets: a ticket is never lifted above the best real class that is ready
//      (in a batch where all tickets share one class, nothing ages and the order stays
//      critical-path-first). Default: one class per 60 minutes; off: <= 0 or Infinity.
//   2. critical-path length (longest chain of estimates from the ticket to the end of the
//      DAG, itself included): longer first — critical-path-first list scheduling;
//   3. id (natural order: T-2 before T-10).
// Assignment, each call: walk ready tickets in that order; skip those in backoff
// (notBefore > now), those without a free capable slot, and (locking mode) those whose
// files overlap files held by running work or by tickets assigned earlier in the same
// pass; give each other ticket the capable free slot with the lowest load, then lowest id.
// queue mode: nothing starts while anything runs, then only the first startable ticket.
// isolation: no file checks. A P0 never breaks a lock: it waits like everyone else.
// There are no waves or barriers: call plan() whenever anything changes.
//
// Cost: the Scheduler keeps the dependency graph, critical-path lengths, unmet-dependency
// counts and a heap of ready tickets between calls, so a decision costs
// O((examined + promotions) · log n + free slots · held patterns), not O(n).
// planAssignments() is the one-shot form (builds all that, O(n log n)).
import { buildGraphIndex, compareIds, criticalPathLengthsOf, DEFAULT_ESTIMATE_MINUTES, SCHEDULABLE_STATUSES, type GraphIndex } from './dag';
import { ACTIVE_STATUSES, FINAL_STATUSES, priorityRank, type Lock, type Mode, type Ticket, type TicketStatus } from './model';
import { PatternIndex } from './paths';

export const DEFAULT_AGING_MINUTES_PER_CLASS = 60;

export interface SlotState {
  id: number;
  /** Agent profile the slot runs (e.g. "claude"). */
  profile?: string;
  /** Further profile names / capabilities the slot can serve. */
  capabilities?: readonly string[];
  /** Runs a ticket now. (A slot listed in `running` counts as busy too.) */
  busy: boolean;
  /** Its profile is paused (rate limited): takes nothing. */
  paused?: boolean;
  /** Runs done so far or busy time: the lowest load gets the next ticket. */
  load: number;
}

export interface RunningTicket {
  ticketId: string;
  slot: number;
  /** Files/patterns the run holds (its estimated scope). */
  files: readonly string[];
}

export interface SchedulerOptions {
  /** Aging; default one class per 60 minutes. */
  agingMinutesPerClass?: number;
  /** 'priority' (default, as above) or 'fifo' (id order only; for baselines). */
  order?: 'priority' | 'fifo';
  defaultEstimate?: number;
  /** Precomputed graph data (from buildGraphInfo) to reuse across calls. */
  graph?: GraphInfo;
}

export interface PlanContext {
  running: readonly RunningTicket[];
  slots: readonly SlotState[];
  /** Current locks (from state); expired ones (expiresAt <= now) are ignored. */
  locks?: readonly Lock[];
  mode: Mode;
  /** 0..1; 0 = any overlap blocks (locking mode). */
  overlapThreshold: number;
  now: number;
  /**
   * Which non-started tickets get a reason: 'examined' (default for Scheduler.plan; only
   * the ones looked at this pass, cheap) or 'all' (every waiting ticket; O(n), for UI).
   */
  explain?: 'none' | 'examined' | 'all';
}

export interface Assignment {
  ticketId: string;
  slot: number;
  /** Patterns to lock for the run (the ticket's files; empty in isolation mode). */
  files: string[];
}

export type WaitReason =
  | { kind: 'dependencies'; waitingOn: string[] }
  | { kind: 'blocked-by-final'; dependency: string }
  | { kind: 'locked'; byTicket: string; file: string; heldPattern: string; share: number }
  | { kind: 'no-capable-slot'; agent: string }
  | { kind: 'profile-paused'; agent: string }
  | { kind: 'no-free-slot' }
  | { kind: 'backoff'; until: number }
  | { kind: 'queue-busy'; running: string[] }
  | { kind: 'status'; status: TicketStatus };

export interface WaitingTicket {
  ticketId: string;
  reason: WaitReason;
  message: string;
}

export interface Plan {
  assignments: Assignment[];
  waiting: WaitingTicket[];
  /** How many ready-heap entries this pass looked at (for measurement). */
  examined: number;
}

/** Derived graph data to cache per graph version (recompute on a change of ids, dependsOn or estimates). */
export interface GraphInfo {
  graph: GraphIndex;
  /** Critical-path length per index, minutes. */
  cpl: Float64Array;
  /** Position of each index in natural id order. */
  idOrder: Int32Array;
}

export function buildGraphInfo(tickets: readonly Pick<Ticket, 'id' | 'dependsOn' | 'estimate'>[], defaultEstimate = DEFAULT_ESTIMATE_MINUTES): GraphInfo {
  const graph = buildGraphIndex(tickets, defaultEstimate);
  const cpl = criticalPathLengthsOf(graph);
  const byId = graph.ids.map((_, i) => i).sort((a, b) => compareIds(graph.ids[a]!, graph.ids[b]!));
  const idOrder = new Int32Array(graph.ids.length);
  byId.forEach((i, pos) => (idOrder[i] = pos));
  return { graph, cpl, idOrder };
}

// ---------------------------------------------------------------------------------------

interface Entry {
  c: number; // effective class
  p: number; // critical-path length
  o: number; // id order
  i: number;
  v: number;
}

class Heap<T> {
  private a: T[] = [];
  constructor(private readonly less: (x: T, y: T) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const entryLess = (x: Entry, y: Entry): boolean => (x.c !== y.c ? x.c < y.c : x.p !== y.p ? x.p > y.p : x.o < y.o);
interface Timed {
  t: number;
  i: number;
  v: number;
}
const timedLess = (x: Timed, y: Timed): boolean => (x.t !== y.t ? x.t < y.t : x.i < y.i);

type TicketInput = Iterable<Ticket> | Readonly<Record<string, Ticket>>;

function toList(t: TicketInput): Ticket[] {
  return Symbol.iterator in (t as object) ? [...(t as Iterable<Ticket>)] : Object.values(t as Record<string, Ticket>);
}

function graphKey(t: Pick<Ticket, 'dependsOn' | 'estimate'>): string {
  return `${(t.dependsOn ?? []).join('\u0000')}|${t.estimate ?? ''}`;
}

/**
 * Holds the derived graph and the ready set between decisions. Feed it every ticket change
 * with update(ticket) (status, priority, readyAt, notBefore, files, agent: O(degree · log n);
 * a change of dependsOn/estimate or a new ticket rebuilds the graph, O(V+E)), then call
 * plan(ctx) whenever a slot frees up or anything else changes.
 */
export class Scheduler {
  private readonly opts: Required<Omit<SchedulerOptions, 'graph'>>;
  private info!: GraphInfo;
  private tickets!: Ticket[];
  private status!: TicketStatus[];
  private keys!: string[];
  private unmet!: Int32Array;
  private rank!: Uint8Array;
  private eff!: Uint8Array;
  private agingBase!: Float64Array;
  private notBefore!: Float64Array;
  private files!: string[][];
  private agent!: Array<string | undefined>;
  private ver!: Int32Array;
  /** Eligible tickets per real class (counted at countedRank), to find the best ready class. */
  private classCount = [0, 0, 0, 0];
  private counted!: Uint8Array;
  private countedRank!: Uint8Array;
  /** Lock-blocked entries (threshold 0) parked under the ticket holding the lock, until it lets go. */
  private parked = new Map<string, Entry[]>();
  /** Ready tickets, one heap per aged class (0..3), each by critical path then id. */
  private ready!: Array<Heap<Entry>>;
  private promotions!: Heap<Timed>;
  private backoff!: Heap<Timed>;
  private lastNow = -Infinity;

  constructor(tickets: TicketInput, options: SchedulerOptions = {}) {
    this.opts = {
      agingMinutesPerClass: options.agingMinutesPerClass ?? DEFAULT_AGING_MINUTES_PER_CLASS,
      order: options.order ?? 'priority',
      defaultEstimate: options.defaultEstimate ?? DEFAULT_ESTIMATE_MINUTES,
    };
    this.reset(tickets, options.graph);
  }

  /** Rebuilds everything from these tickets (graph data reused if given and matching). */
  reset(tickets: TicketInput, graph?: GraphInfo): void {
    const list: Ticket[] = [];
    const seen = new Set<string>();
    for (const t of toList(tickets)) {
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      list.push(t);
    }
    const fits = graph !== undefined && graph.graph.ids.length === list.length && list.every((t) => graph.graph.index.has(t.id));
    const info = fits ? graph : buildGraphInfo(list, this.opts.defaultEstimate);
    const n = info.graph.ids.length;
    this.info = info;
    this.tickets = new Array(n);
    for (const t of list) this.tickets[info.graph.index.get(t.id)!] = t;
    this.status = this.tickets.map((t) => t.status);
    this.keys = this.tickets.map(graphKey);
    this.rank = new Uint8Array(n);
    this.eff = new Uint8Array(n);
    this.agingBase = new Float64Array(n);
    this.notBefore = new Float64Array(n);
    this.files = new Array(n);
    this.agent = new Array(n);
    this.ver = new Int32Array(n);
    this.unmet = new Int32Array(n);
    this.classCount = [0, 0, 0, 0];
    this.counted = new Uint8Array(n);
    this.countedRank = new Uint8Array(n);
    this.ready = [0, 1, 2, 3].map(() => new Heap<Entry>(entryLess));
    this.parked = new Map();
    this.promotions = new Heap(timedLess);
    this.backoff = new Heap(timedLess);
    const g = info.graph;
    for (let i = 0; i < n; i++) {
      this.loadFields(i, this.tickets[i]!);
      let u = g.unknownDeps.get(i)?.length ?? 0;
      for (let k = g.depsStart[i]!; k < g.depsStart[i + 1]!; k++) if (this.status[g.depsList[k]!] !== 'done') u++;
      if ((this.tickets[i]!.dependsOn ?? []).includes(this.tickets[i]!.id)) u++; // self-dependency: never ready
      this.unmet[i] = u;
    }
    for (let i = 0; i < n; i++) this.count(i);
    for (let i = 0; i < n; i++) if (this.eligible(i)) this.enqueue(i);
  }

  /** Keeps classCount in step with eligibility; returns whether the ticket is eligible. */
  private count(i: number): boolean {
    const e = this.eligible(i);
    if (this.counted[i]) {
      this.classCount[this.countedRank[i]!]!--;
      this.counted[i] = 0;
    }
    if (e) {
      this.counted[i] = 1;
      this.countedRank[i] = this.rank[i]!;
      this.classCount[this.rank[i]!]!++;
    }
    return e;
  }

  private bestClass(): number {
    for (let c = 0; c < 4; c++) if (this.classCount[c]! > 0) return c;
    return 3;
  }

  /** Rebuild from the tickets last seen (call after a graph change you did not pass through update). */
  invalidate(): void {
    this.reset(this.tickets);
  }

  /** Applies a changed (or new) ticket. */
  update(t: Ticket): void {
    const i = this.info.graph.index.get(t.id);
    if (i === undefined || graphKey(t) !== this.keys[i]) {
      const list = this.tickets.slice();
      if (i === undefined) list.push(t);
      else list[i] = t;
      this.reset(list);
      return;
    }
    this.tickets[i] = t;
    this.loadFields(i, t);
    this.setStatus(i, t.status);
    if (this.count(i)) this.enqueue(i);
    else this.ver[i]!++;
  }

  /** Removes a ticket (rebuilds). */
  remove(id: string): void {
    this.reset(this.tickets.filter((t) => t.id !== id));
  }

  get graphInfo(): GraphInfo {
    return this.info;
  }

  criticalPathLength(id: string): number | undefined {
    const i = this.info.graph.index.get(id);
    return i === undefined ? undefined : this.info.cpl[i];
  }

  /** Ids of tickets currently in the ready set (deps merged, status backlog/ready). O(n). */
  readyIds(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.tickets.length; i++) if (this.eligible(i)) out.push(this.info.graph.ids[i]!);
    return out;
  }

  private loadFields(i: number, t: Ticket): void {
    this.rank[i] = this.opts.order === 'fifo' ? 0 : priorityRank(t.priority ?? 'P2');
    if (this.rank[i]! > 3) this.rank[i] = 2; // unknown priority string: treat as P2
    this.agingBase[i] = t.readyAt ?? t.createdAt ?? 0;
    this.notBefore[i] = t.notBefore ?? -Infinity;
    this.files[i] = t.files ?? [];
    this.agent[i] = t.agent;
  }

  private setStatus(i: number, s: TicketStatus): void {
    const old = this.status[i]!;
    if (old === s) return;
    this.status[i] = s;
    const g = this.info.graph;
    if (old === 'done' || s === 'done') {
      const delta = s === 'done' ? -1 : 1;
      for (let k = g.outStart[i]!; k < g.outStart[i + 1]!; k++) {
        const j = g.outList[k]!;
        const was = this.eligible(j);
        this.unmet[j]! += delta;
        const is = this.count(j);
        if (is && !was) this.enqueue(j);
        else if (was && !is) this.ver[j]!++;
      }
    }
  }

  private eligible(i: number): boolean {
    return this.unmet[i] === 0 && SCHEDULABLE_STATUSES.has(this.status[i]!);
  }

  private effectiveClass(i: number, now: number): number {
    const r = this.rank[i]!;
    const m = this.opts.agingMinutesPerClass;
    if (r <= 1 || !(m > 0) || !Number.isFinite(m) || !Number.isFinite(now)) return r;
    const waited = Math.floor((now - this.agingBase[i]!) / (m * 60_000));
    return Math.max(1, r - Math.max(0, waited));
  }

  private enqueue(i: number): void {
    const v = ++this.ver[i]!;
    const c = this.effectiveClass(i, this.lastNow);
    this.eff[i] = c;
    this.ready[c]!.push({ c, p: this.opts.order === 'fifo' ? 0 : this.info.cpl[i]!, o: this.info.idOrder[i]!, i, v });
    this.schedulePromotion(i, v);
  }

  private schedulePromotion(i: number, v: number): void {
    const c = this.eff[i]!;
    const m = this.opts.agingMinutesPerClass;
    if (c <= 1 || !(m > 0) || !Number.isFinite(m)) return;
    const steps = this.rank[i]! - c + 1;
    this.promotions.push({ t: this.agingBase[i]! + steps * m * 60_000, i, v });
  }

  private advance(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    for (let p = this.promotions.peek(); p && p.t <= now; p = this.promotions.peek()) {
      this.promotions.pop();
      if (p.v !== this.ver[p.i] || !this.eligible(p.i)) continue;
      this.enqueue(p.i); // recomputes the class at lastNow, bumps the version
    }
    for (let b = this.backoff.peek(); b && b.t <= now; b = this.backoff.peek()) {
      this.backoff.pop();
      if (b.v !== this.ver[b.i] || !this.eligible(b.i)) continue;
      this.enqueue(b.i);
    }
  }

  /** Drops stale entries from the top of a heap; returns its valid top. */
  private top(h: Heap<Entry>): Entry | undefined {
    for (let e = h.peek(); e; e = h.peek()) {
      if (e.v === this.ver[e.i] && this.eligible(e.i)) return e;
      h.pop();
    }
    return undefined;
  }

  /**
   * The next ready ticket in effective order. Aged class c is lifted no higher than the
   * best real class that is ready (floor), so heaps 1..floor form one effective class and
   * are merged by critical path, then id.
   */
  private popBest(floor: number): Entry | undefined {
    const f = Math.max(1, Math.min(3, floor));
    if (this.top(this.ready[0]!)) return this.ready[0]!.pop();
    let best = -1;
    let bestTop: Entry | undefined;
    for (let c = 1; c <= f; c++) {
      const t = this.top(this.ready[c]!);
      if (t && (!bestTop || t.p > bestTop.p || (t.p === bestTop.p && t.o < bestTop.o))) {
        best = c;
        bestTop = t;
      }
    }
    if (bestTop) return this.ready[best]!.pop();
    for (let c = f + 1; c <= 3; c++) if (this.top(this.ready[c]!)) return this.ready[c]!.pop();
    return undefined;
  }

  private releaseParked(holding: ReadonlySet<string> | undefined): void {
    for (const [holder, entries] of this.parked) {
      if (holding?.has(holder)) continue;
      this.parked.delete(holder);
      for (const e of entries) if (e.v === this.ver[e.i] && this.eligible(e.i)) this.ready[e.c]!.push(e);
    }
  }

  /** One scheduling pass. Does not change the scheduler's view of statuses: report starts through update(). */
  plan(ctx: PlanContext): Plan {
    const { now, mode } = ctx;
    const explain = ctx.explain ?? 'examined';
    this.advance(now);
    const g = this.info.graph;
    const assignments: Assignment[] = [];
    const reasons = new Map<number, WaitReason>();
    const runningIds = new Set(ctx.running.map((r) => r.ticketId));
    const busySlots = new Set(ctx.running.map((r) => r.slot));
    const free = ctx.slots.filter((s) => !s.busy && !s.paused && !busySlots.has(s.id)).sort((a, b) => a.load - b.load || a.id - b.id);
    const queueBusy = mode === 'queue' && (ctx.running.length > 0 || ctx.slots.some((s) => s.busy));

    // Patterns held by running work (locks and running scopes), plus this pass's assignments.
    let held: PatternIndex<string> | undefined;
    let holding: Set<string> | undefined;
    if (mode === 'locking') {
      held = new PatternIndex<string>();
      holding = new Set(runningIds);
      for (const l of ctx.locks ?? []) {
        if (l.expiresAt <= now) continue;
        held.add(l.pattern, l.ticketId);
        holding.add(l.ticketId);
      }
      for (const r of ctx.running) for (const f of r.files) held.add(f, r.ticketId);
    }
    this.releaseParked(holding);
    const park = mode === 'locking' && !(ctx.overlapThreshold > 0);
    const floor = this.bestClass();

    const popped: Entry[] = [];
    let examined = 0;
    if (!queueBusy) {
      while (free.length > 0) {
        const e = this.popBest(floor);
        if (!e) break;
        if (e.v !== this.ver[e.i] || !this.eligible(e.i)) continue;
        examined++;
        const i = e.i;
        const id = g.ids[i]!;
        if (runningIds.has(id)) {
          popped.push(e);
          continue;
        }
        if (this.notBefore[i]! > now) {
          this.backoff.push({ t: this.notBefore[i]!, i, v: e.v });
          reasons.set(i, { kind: 'backoff', until: this.notBefore[i]! });
          continue;
        }
        popped.push(e);
        const slotPos = this.pickSlot(i, free);
        if (slotPos < 0) {
          reasons.set(i, this.slotReason(i, ctx.slots));
          continue;
        }
        const files = this.files[i]!;
        if (held) {
          const lock = lockConflict(held, id, files, ctx.overlapThreshold);
          if (lock) {
            reasons.set(i, lock);
            if (park && lock.kind === 'locked' && holding!.has(lock.byTicket)) {
              // Blocked until that ticket lets go: no need to look at it again before then.
              popped.pop();
              const list = this.parked.get(lock.byTicket);
              if (list) list.push(e);
              else this.parked.set(lock.byTicket, [e]);
            }
            continue;
          }
          for (const f of files) held.add(f, id);
        }
        const slot = free.splice(slotPos, 1)[0]!;
        assignments.push({ ticketId: id, slot: slot.id, files: mode === 'isolation' ? [] : [...files] });
        if (mode === 'queue') break;
      }
    }
    for (const e of popped) this.ready[e.c]!.push(e);

    const waiting: WaitingTicket[] = [];
    if (explain === 'examined') {
      for (const [i, r] of reasons) waiting.push(this.waitingOf(i, r, now));
    } else if (explain === 'all') {
      const assigned = new Set(assignments.map((a) => a.ticketId));
      const blocked = this.blockedRoots();
      for (let i = 0; i < this.tickets.length; i++) {
        const id = g.ids[i]!;
        const s = this.status[i]!;
        if (assigned.has(id) || runningIds.has(id) || FINAL_STATUSES.has(s) || ACTIVE_STATUSES.has(s) || s === 'queued-for-merge' || s === 'in-review')
          continue;
        let r = reasons.get(i);
        if (!r) {
          if (!SCHEDULABLE_STATUSES.has(s)) r = { kind: 'status', status: s };
          else if (this.unmet[i]! > 0) {
            const root = blocked.get(i);
            r = root !== undefined ? { kind: 'blocked-by-final', dependency: g.ids[root]! } : { kind: 'dependencies', waitingOn: this.unmetDeps(i) };
          } else if (queueBusy) r = { kind: 'queue-busy', running: [...runningIds] };
          else if (this.notBefore[i]! > now) r = { kind: 'backoff', until: this.notBefore[i]! };
          else {
            const sr = this.slotReason(i, ctx.slots);
            if (sr.kind !== 'no-free-slot') r = sr;
            else if (held) r = lockConflict(held, id, this.files[i]!, ctx.overlapThreshold) ?? sr;
            else r = sr;
          }
        }
        waiting.push(this.waitingOf(i, r, now));
      }
    }
    return { assignments, waiting, examined };
  }

  private pickSlot(i: number, free: readonly SlotState[]): number {
    const a = this.agent[i];
    if (a === undefined || a === '') return free.length ? 0 : -1;
    for (let k = 0; k < free.length; k++) if (capable(free[k]!, a)) return k;
    return -1;
  }

  private slotReason(i: number, slots: readonly SlotState[]): WaitReason {
    const a = this.agent[i];
    if (a === undefined || a === '') return { kind: 'no-free-slot' };
    const cap = slots.filter((s) => capable(s, a));
    if (cap.length === 0) return { kind: 'no-capable-slot', agent: a };
    if (cap.every((s) => s.paused)) return { kind: 'profile-paused', agent: a };
    return { kind: 'no-free-slot' };
  }

  private unmetDeps(i: number): string[] {
    const g = this.info.graph;
    const out: string[] = [];
    for (let k = g.depsStart[i]!; k < g.depsStart[i + 1]!; k++) {
      const d = g.depsList[k]!;
      if (this.status[d] !== 'done') out.push(g.ids[d]!);
    }
    for (const u of g.unknownDeps.get(i) ?? []) out.push(u);
    return out;
  }

  /** Root failed/cancelled dependency per blocked index (O(V+E)). */
  private blockedRoots(): Map<number, number> {
    const g = this.info.graph;
    const out = new Map<number, number>();
    // Walk forward from each failed/cancelled ticket.
    const queue: number[] = [];
    for (let i = 0; i < this.status.length; i++) {
      const s = this.status[i]!;
      if (s === 'failed' || s === 'cancelled') queue.push(i);
    }
    const root = new Int32Array(this.status.length).fill(-1);
    for (const q of queue) root[q] = q;
    for (let h = 0; h < queue.length; h++) {
      const v = queue[h]!;
      for (let k = g.outStart[v]!; k < g.outStart[v + 1]!; k++) {
        const w = g.outList[k]!;
        if (root[w] !== -1) continue;
        root[w] = root[v]!;
        out.set(w, root[v]!);
        queue.push(w);
      }
    }
    return out;
  }

  private waitingOf(i: number, r: WaitReason, now: number): WaitingTicket {
    const id = this.info.graph.ids[i]!;
    return { ticketId: id, reason: r, message: describe(id, r, now) };
  }
}

function capable(s: SlotState, agent: string): boolean {
  return s.profile === agent || (s.capabilities?.includes(agent) ?? false);
}

/** The first conflict, if the ticket's overlap share is over the threshold (0: any overlap). */
function lockConflict(held: PatternIndex<string>, id: string, files: readonly string[], threshold: number): WaitReason | undefined {
  if (files.length === 0 || held.size === 0) return undefined;
  let overlapping = 0;
  let first: { byTicket: string; file: string; heldPattern: string } | undefined;
  for (const f of files) {
    const hit = held.overlapping(f).find((h) => h.value !== id);
    if (!hit) continue;
    overlapping++;
    first ??= { byTicket: hit.value, file: f, heldPattern: hit.pattern };
    if (!(threshold > 0)) break;
  }
  if (!first) return undefined;
  const share = overlapping / files.length;
  if (threshold > 0 && share <= threshold) return undefined;
  return { kind: 'locked', ...first, share };
}

function describe(id: string, r: WaitReason, now: number): string {
  switch (r.kind) {
    case 'dependencies':
      return `${id} waits on ${r.waitingOn.join(', ')} to be merged.`;
    case 'blocked-by-final':
      return `${id} cannot start: its dependency ${r.dependency} failed or was cancelled.`;
    case 'locked':
      return r.file === r.heldPattern
        ? `${id} waits: ${r.file} is locked by ${r.byTicket}.`
        : `${id} waits: ${r.file} overlaps ${r.heldPattern}, locked by ${r.byTicket}.`;
    case 'no-capable-slot':
      return `${id} needs agent "${r.agent}", and no slot runs it; add such a slot or change the ticket's agent.`;
    case 'profile-paused':
      return `${id} needs agent "${r.agent}", which is paused (rate limited).`;
    case 'no-free-slot':
      return `${id} is ready and waits for a free slot.`;
    case 'backoff':
      return `${id} retries in ${Math.max(0, Math.ceil((r.until - now) / 60_000))} min (backoff).`;
    case 'queue-busy':
      return `${id} waits: queue mode runs one ticket at a time (${r.running.join(', ') || 'one'} running).`;
    case 'status':
      return `${id} is ${r.status}.`;
  }
}

export interface PlanInput extends PlanContext {
  tickets: TicketInput;
  agingMinutesPerClass?: number;
  order?: 'priority' | 'fifo';
  /** Cached graph data (buildGraphInfo) for these tickets. */
  graph?: GraphInfo;
}

/**
 * One-shot, pure form: assignments for the free slots and, for every ticket that cannot
 * start, why (explain defaults to 'all'). O(n log n); a caller deciding often should keep
 * a Scheduler instead.
 */
export function planAssignments(input: PlanInput): Plan {
  const s = new Scheduler(input.tickets, {
    agingMinutesPerClass: input.agingMinutesPerClass,
    order: input.order,
    graph: input.graph,
  });
  return s.plan({ ...input, explain: input.explain ?? 'all' });
}
