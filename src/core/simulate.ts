// A virtual-clock simulation of a batch: the real scheduler (Scheduler.plan) decides, each
// ticket takes exactly its estimate, and every slot that frees up is refilled at once.
// Baselines for comparison: 'wave' (a barrier loop: start the ready set, wait for
// all of it, recompute) and 'fifo' (id order, no priorities, no barriers, deps respected).
// Times are minutes from the start of the batch.
import { buildGraphIndex, compareIds, criticalPath, DEFAULT_ESTIMATE_MINUTES, executionWaves, type CriticalPath } from './dag';
import type { Mode, Ticket, TicketSpec } from './model';
import { patternsOverlap } from './paths';
import { Scheduler, type RunningTicket, type SlotState } from './scheduler';

/**
 * orchard: the real scheduler. fifo: the real scheduler with id order only.
 * wave: the barrier loop many orchestrators use — take the ready tickets (id order) for the idle agents
 *   (at most K), start them, await all of them (asyncio.gather), recompute, repeat.
 * wave-list: a kinder barrier baseline — the whole ready set (one DAG level) is list-
 *   scheduled on K agents, and the next level starts when the whole level is done.
 */
export type SimPolicy = 'orchard' | 'wave' | 'wave-list' | 'fifo';

export interface SimulateOptions {
  /** Number of slots (K). */
  agents: number;
  mode: Mode;
  overlapThreshold?: number;
  policy?: SimPolicy;
  agingMinutesPerClass?: number;
  /** Profile per slot (slot i gets slotProfiles[i]); default: generic slots, ticket.agent ignored. */
  slotProfiles?: ReadonlyArray<string | undefined>;
  /** Called with the wall time (ms, from the injected timer) of each scheduling decision. */
  timer?: () => number;
  onDecision?: (elapsedMs: number, examined: number) => void;
}

export interface ScheduledTicket {
  id: string;
  start: number;
  end: number;
  slot: number;
}

export interface SimResult {
  policy: SimPolicy;
  mode: Mode;
  agents: number;
  /** End of the last ticket (minutes). */
  makespan: number;
  /** max(critical path, total work ÷ agents); queue mode: total work. */
  lowerBound: number;
  criticalPath: CriticalPath;
  totalWork: number;
  tickets: ScheduledTicket[];
  /** Tickets that could never start (cycle, unknown dependency, no capable slot). */
  unscheduled: string[];
  /** Number of scheduling decisions (plan calls). */
  decisions: number;
}

const MS_PER_MIN = 60_000;

function est(t: TicketSpec): number {
  return typeof t.estimate === 'number' && Number.isFinite(t.estimate) && t.estimate >= 0 ? t.estimate : DEFAULT_ESTIMATE_MINUTES;
}

export function simulate(specs: readonly TicketSpec[], options: SimulateOptions): SimResult {
  const policy = options.policy ?? 'orchard';
  const K = Math.max(1, Math.floor(options.agents));
  const totalWork = specs.reduce((s, t) => s + est(t), 0);
  const cp = criticalPath(specs);
  const lowerBound = options.mode === 'queue' ? totalWork : Math.max(cp.length, totalWork / K);
  const base = { policy, mode: options.mode, agents: K, lowerBound, criticalPath: cp, totalWork };
  const run =
    policy === 'wave'
      ? simulateSeedLoop(specs, K, options)
      : policy === 'wave-list'
        ? simulateWaves(specs, K, options)
        : simulateList(specs, K, options, policy === 'fifo' ? 'fifo' : 'priority');
  const makespan = run.tickets.reduce((m, t) => Math.max(m, t.end), 0);
  return { ...base, makespan, ...run };
}

function simulateList(
  specs: readonly TicketSpec[],
  K: number,
  o: SimulateOptions,
  order: 'priority' | 'fifo',
): { tickets: ScheduledTicket[]; unscheduled: string[]; decisions: number } {
  // Without slot profiles every slot is generic and ticket.agent is ignored.
  const tickets: Ticket[] = specs.map((s) => ({ ...s, agent: o.slotProfiles ? s.agent : undefined, status: 'backlog', createdAt: 0, readyAt: 0, attempts: 0 }));
  const sched = new Scheduler(tickets, { order, agingMinutesPerClass: o.agingMinutesPerClass });
  const g = sched.graphInfo.graph;
  const byIndex: Ticket[] = new Array(g.ids.length);
  for (const t of tickets) if (g.index.get(t.id) !== undefined && !byIndex[g.index.get(t.id)!]) byIndex[g.index.get(t.id)!] = t;
  const remaining = new Int32Array(g.ids.length);
  for (let i = 0; i < g.ids.length; i++) remaining[i] = g.depsStart[i + 1]! - g.depsStart[i]!;
  const slots: SlotState[] = Array.from({ length: K }, (_, id) => ({ id, busy: false, load: 0, profile: o.slotProfiles?.[id] }));
  const running = new Map<number, RunningTicket & { end: number; i: number }>();
  const out: ScheduledTicket[] = [];
  let now = 0;
  let decisions = 0;
  for (;;) {
    const t0 = o.timer?.();
    const plan = sched.plan({
      running: [...running.values()],
      slots,
      mode: o.mode,
      overlapThreshold: o.overlapThreshold ?? 0,
      now: now * MS_PER_MIN,
      explain: 'none',
    });
    decisions++;
    if (t0 !== undefined && o.timer && o.onDecision) o.onDecision(o.timer() - t0, plan.examined);
    for (const a of plan.assignments) {
      const i = g.index.get(a.ticketId)!;
      const t = byIndex[i]!;
      t.status = 'running';
      sched.update(t);
      const slot = slots[a.slot]!;
      slot.busy = true;
      slot.load++;
      running.set(a.slot, { ticketId: t.id, slot: a.slot, files: a.files, end: now + est(t), i });
      out.push({ id: t.id, start: now, end: now + est(t), slot: a.slot });
    }
    if (running.size === 0) break;
    let next = Infinity;
    for (const r of running.values()) next = Math.min(next, r.end);
    now = next;
    for (const [slotId, r] of [...running]) {
      if (r.end !== next) continue;
      running.delete(slotId);
      slots[slotId]!.busy = false;
      const t = byIndex[r.i]!;
      t.status = 'done';
      sched.update(t);
      for (let k = g.outStart[r.i]!; k < g.outStart[r.i + 1]!; k++) {
        const j = g.outList[k]!;
        if (--remaining[j]! === 0) {
          byIndex[j]!.readyAt = now * MS_PER_MIN;
          sched.update(byIndex[j]!);
        }
      }
    }
  }
  const started = new Set(out.map((t) => t.id));
  return { tickets: out, unscheduled: g.ids.filter((id) => !started.has(id)), decisions };
}

/**
 * The batch loop of simple workstream orchestrators (execute_all): completed → ready (id order) → start up to K of them (in
 * locking mode skipping one that overlaps a ticket already in the batch; queue: 1) →
 * gather (wait for all) → repeat.
 */
function simulateSeedLoop(
  specs: readonly TicketSpec[],
  K: number,
  o: SimulateOptions,
): { tickets: ScheduledTicket[]; unscheduled: string[]; decisions: number } {
  const g = buildGraphIndex(specs);
  const cap = o.mode === 'queue' ? 1 : K;
  const done = new Uint8Array(g.ids.length);
  const started = new Uint8Array(g.ids.length);
  const order = g.ids.map((_, i) => i).sort((a, b) => compareIds(g.ids[a]!, g.ids[b]!));
  const byIndex: TicketSpec[] = new Array(g.ids.length);
  for (const t of specs) {
    const i = g.index.get(t.id)!;
    byIndex[i] ??= t;
  }
  const out: ScheduledTicket[] = [];
  let now = 0;
  let decisions = 0;
  for (;;) {
    decisions++;
    const batch: number[] = [];
    for (const i of order) {
      if (batch.length >= cap) break;
      if (started[i] || g.unknownDeps.has(i)) continue;
      let ok = true;
      for (let k = g.depsStart[i]!; k < g.depsStart[i + 1]! && ok; k++) ok = done[g.depsList[k]!] === 1;
      if (!ok) continue;
      if (o.mode === 'locking') {
        const files = byIndex[i]!.files;
        const clash = batch.some((b) => files.some((f) => byIndex[b]!.files.some((h) => patternsOverlap(f, h))));
        if (clash) continue;
      }
      batch.push(i);
    }
    if (batch.length === 0) break;
    let end = now;
    batch.forEach((i, slot) => {
      const t = byIndex[i]!;
      started[i] = 1;
      out.push({ id: t.id, start: now, end: now + est(t), slot });
      end = Math.max(end, now + est(t));
    });
    for (const i of batch) done[i] = 1;
    now = end;
  }
  return { tickets: out, unscheduled: g.ids.filter((_, i) => !started[i]), decisions };
}

/**
 * A barrier, level by level ('wave-list'): the ready set (one wave: every ticket whose dependencies
 * are all done) is run on K agents — an agent that finishes takes the next ticket of the
 * same wave, in id order — and the next wave starts only when the whole wave is done.
 * Locking mode: a ticket waits while a running ticket of its wave has overlapping files.
 */
function simulateWaves(specs: readonly TicketSpec[], K: number, o: SimulateOptions): { tickets: ScheduledTicket[]; unscheduled: string[]; decisions: number } {
  const byId = new Map<string, TicketSpec>();
  for (const t of specs) if (!byId.has(t.id)) byId.set(t.id, t);
  const cap = o.mode === 'queue' ? 1 : K;
  const out: ScheduledTicket[] = [];
  let waveStart = 0;
  let decisions = 0;
  // As in those loops, a ticket with a dependency that is not a ticket never becomes ready (nor its dependents).
  const g = buildGraphIndex(specs);
  const never = new Set<string>();
  for (const id of topologicalOrderOf(g)) {
    const i = g.index.get(id)!;
    let bad = g.unknownDeps.has(i);
    for (let k = g.depsStart[i]!; k < g.depsStart[i + 1]! && !bad; k++) bad = never.has(g.ids[g.depsList[k]!]!);
    if (bad) never.add(id);
  }
  for (const wave of executionWaves(specs)) {
    const pending = wave
      .filter((id) => !never.has(id))
      .sort(compareIds)
      .map((id) => byId.get(id)!);
    const slotFree: number[] = new Array(cap).fill(waveStart);
    const active: Array<{ t: TicketSpec; end: number; slot: number }> = [];
    let now = waveStart;
    while (pending.length) {
      decisions++;
      for (let k = active.length - 1; k >= 0; k--) if (active[k]!.end <= now) active.splice(k, 1);
      for (let s = 0; s < cap && pending.length; s++) {
        if (slotFree[s]! > now) continue;
        const idx = pending.findIndex((t) => o.mode !== 'locking' || !active.some((a) => t.files.some((f) => a.t.files.some((h) => patternsOverlap(f, h)))));
        if (idx < 0) break;
        const t = pending.splice(idx, 1)[0]!;
        const end = now + est(t);
        slotFree[s] = end;
        active.push({ t, end, slot: s });
        out.push({ id: t.id, start: now, end, slot: s });
      }
      if (!pending.length) break;
      const nextEnd = Math.min(...active.map((a) => a.end).filter((e) => e > now));
      now = Number.isFinite(nextEnd) ? nextEnd : now;
    }
    waveStart = Math.max(waveStart, ...out.map((t) => t.end));
  }
  const started = new Set(out.map((t) => t.id));
  return { tickets: out, unscheduled: [...byId.keys()].filter((id) => !started.has(id)), decisions };
}

function topologicalOrderOf(g: ReturnType<typeof buildGraphIndex>): string[] {
  const indeg = new Int32Array(g.ids.length);
  for (let i = 0; i < g.ids.length; i++) indeg[i] = g.depsStart[i + 1]! - g.depsStart[i]!;
  const order: number[] = [];
  for (let i = 0; i < g.ids.length; i++) if (indeg[i] === 0) order.push(i);
  for (let h = 0; h < order.length; h++) {
    const v = order[h]!;
    for (let k = g.outStart[v]!; k < g.outStart[v + 1]!; k++) if (--indeg[g.outList[k]!]! === 0) order.push(g.outList[k]!);
  }
  return order.map((i) => g.ids[i]!);
}

export interface CheckOptions {
  agents: number;
  mode: Mode;
  /** Locking check is exact only for 0 (the default); with a threshold > 0 it is skipped. */
  overlapThreshold?: number;
  /** Also require end - start === estimate. Default true. */
  exactDurations?: boolean;
}

/**
 * Verifies a schedule; returns the violations (empty: valid). Checks: every ticket exactly
 * once and nothing else; end ≥ start (= start + estimate unless exactDurations: false); no
 * ticket starts before all its dependencies end; at most K at once (queue: 1); slots in
 * 0..K-1 and never double-booked; locking mode (threshold 0): no two tickets overlapping in
 * time with overlapping files.
 */
export function checkSchedule(specs: readonly TicketSpec[], result: Pick<SimResult, 'tickets'>, o: CheckOptions): string[] {
  const problems: string[] = [];
  const EPS = 1e-9;
  const spec = new Map<string, TicketSpec>();
  for (const t of specs) spec.set(t.id, t);
  const at = new Map<string, ScheduledTicket>();
  for (const s of result.tickets) {
    if (!spec.has(s.id)) problems.push(`${s.id} is scheduled but is not a ticket`);
    if (at.has(s.id)) problems.push(`${s.id} is scheduled more than once`);
    at.set(s.id, s);
    if (!(s.end >= s.start)) problems.push(`${s.id} ends (${s.end}) before it starts (${s.start})`);
    const t = spec.get(s.id);
    if (t && o.exactDurations !== false && Math.abs(s.end - s.start - est(t)) > EPS) problems.push(`${s.id} lasts ${s.end - s.start}, estimate ${est(t)}`);
  }
  for (const t of spec.values()) if (!at.has(t.id)) problems.push(`${t.id} is never scheduled`);
  const g = buildGraphIndex(specs);
  for (const t of spec.values()) {
    const s = at.get(t.id);
    if (!s) continue;
    for (const d of t.dependsOn) {
      const ds = at.get(d);
      if (ds && s.start < ds.end - EPS) problems.push(`${t.id} starts at ${s.start} before its dependency ${d} ends at ${ds.end}`);
      if (!ds && g.index.has(d)) problems.push(`${t.id} ran although its dependency ${d} never did`);
    }
  }
  const cap = o.mode === 'queue' ? 1 : o.agents;
  // Sweep: ends before starts at equal times (a slot handed over at t is not double-booked).
  const evs: Array<[number, number, ScheduledTicket]> = [];
  for (const s of at.values()) {
    if (s.end - s.start <= EPS) continue;
    evs.push([s.start, 1, s], [s.end, -1, s]);
  }
  evs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const active = new Set<ScheduledTicket>();
  const slotHolder = new Map<number, ScheduledTicket>();
  const lockCheck = o.mode === 'locking' && !((o.overlapThreshold ?? 0) > 0);
  for (const [time, kind, s] of evs) {
    if (kind === -1) {
      active.delete(s);
      if (slotHolder.get(s.slot) === s) slotHolder.delete(s.slot);
      continue;
    }
    if (!(Number.isInteger(s.slot) && s.slot >= 0 && s.slot < o.agents)) problems.push(`${s.id} runs on slot ${s.slot}, outside 0..${o.agents - 1}`);
    const holder = slotHolder.get(s.slot);
    if (holder) problems.push(`slot ${s.slot} runs ${holder.id} and ${s.id} at once (t=${time})`);
    slotHolder.set(s.slot, s);
    if (lockCheck) {
      const mine = spec.get(s.id)?.files ?? [];
      for (const other of active) {
        const theirs = spec.get(other.id)?.files ?? [];
        const f = mine.find((a) => theirs.some((b) => patternsOverlap(a, b)));
        if (f !== undefined) problems.push(`${s.id} and ${other.id} run at once (t=${time}) with overlapping files (${f})`);
      }
    }
    active.add(s);
    if (active.size > cap) problems.push(`${active.size} tickets run at once at t=${time} (limit ${cap}${o.mode === 'queue' ? ', queue mode' : ''})`);
  }
  return problems;
}

/**
 * A tighter (still valid) lower bound on the makespan with K agents, for judging schedules
 * where max(critical path, work ÷ K) is loose (e.g. a diamond: one task, many, one task).
 * For every set S = {i : head(i) ≥ a, tail(i) ≥ b} (head = longest chain before i, tail =
 * longest chain after i): makespan ≥ a + work(S) ÷ K + b — S cannot start before a, and
 * after the last of S ends a chain of at least b remains. Also ≥ the critical path and
 * work ÷ K. O(n² log n): meant for benchmarks on graphs up to a few thousand tickets.
 */
export function strongLowerBound(specs: readonly TicketSpec[], agents: number): number {
  const K = Math.max(1, Math.floor(agents));
  const g = buildGraphIndex(specs);
  const n = g.ids.length;
  const order: number[] = [];
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) indeg[i] = g.depsStart[i + 1]! - g.depsStart[i]!;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) order.push(i);
  for (let h = 0; h < order.length; h++) {
    const v = order[h]!;
    for (let k = g.outStart[v]!; k < g.outStart[v + 1]!; k++) if (--indeg[g.outList[k]!]! === 0) order.push(g.outList[k]!);
  }
  const head = new Float64Array(n);
  const tail = new Float64Array(n);
  for (const v of order)
    for (let k = g.depsStart[v]!; k < g.depsStart[v + 1]!; k++) {
      const d = g.depsList[k]!;
      head[v] = Math.max(head[v]!, head[d]! + g.estimate[d]!);
    }
  for (let h = order.length - 1; h >= 0; h--) {
    const v = order[h]!;
    for (let k = g.outStart[v]!; k < g.outStart[v + 1]!; k++) {
      const w = g.outList[k]!;
      tail[v] = Math.max(tail[v]!, tail[w]! + g.estimate[w]!);
    }
  }
  let best = 0;
  let work = 0;
  for (let i = 0; i < n; i++) {
    work += g.estimate[i]!;
    best = Math.max(best, head[i]! + g.estimate[i]! + tail[i]!);
  }
  best = Math.max(best, work / K);
  const byTail = [...Array(n).keys()].sort((x, y) => tail[y]! - tail[x]!);
  const heads = [...new Set(head)].sort((x, y) => x - y);
  for (const a of heads) {
    let sum = 0;
    for (const i of byTail) {
      if (head[i]! < a) continue;
      sum += g.estimate[i]!;
      best = Math.max(best, a + sum / K + tail[i]!);
    }
  }
  return best;
}
