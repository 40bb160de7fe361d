// Scale: 10,000 tickets, 32 slots. Time per scheduling decision (one run ends → its status
// updates → plan → the started tickets' updates), p50/p99/max, and memory.
//   node --import tsx bench/scale.ts [--json]
// With --json the last line is one JSON object.
import { loadavg } from 'node:os';
import { validateGraph } from '../src/core/dag';
import type { Mode, Ticket, TicketSpec } from '../src/core/model';
import { randomDag, Rng } from '../src/core/random';
import { Scheduler, type RunningTicket, type SlotState } from '../src/core/scheduler';

const JSON_OUT = process.argv.includes('--json');
const N = 10_000;
const K = 32;
const MIN = 60_000;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A repository-sized fake tree: 400 packages × 40 files, plus a few globs. */
function scopes(rng: Rng, t: TicketSpec[]): void {
  for (const x of t) {
    const files = new Set<string>();
    const pkg = rng.int(0, 399);
    for (let k = rng.int(1, 4); k > 0; k--) {
      const r = rng.next();
      if (r < 0.85) files.add(`packages/p${pkg}/src/f${rng.int(0, 39)}.ts`);
      else if (r < 0.95) files.add(`packages/p${pkg}/test/*.test.ts`);
      else files.add(`packages/p${rng.int(0, 399)}/**`);
    }
    x.files = [...files];
  }
}

interface Scenario {
  name: string;
  shape: 'layered' | 'sparse';
  mode: Mode;
  tree: 'large' | 'small';
}

function run(sc: Scenario) {
  const rng = new Rng(20261121);
  const specs = randomDag(rng, { shape: sc.shape, size: N, priorities: ['P0', 'P1', 'P2', 'P2', 'P2', 'P3'] });
  if (sc.tree === 'large') scopes(rng, specs);
  if (validateGraph(specs).length) throw new Error('invalid graph');
  const gcAvailable = typeof (globalThis as { gc?: () => void }).gc === 'function';
  if (gcAvailable) (globalThis as { gc?: () => void }).gc!();
  const heapBefore = process.memoryUsage().heapUsed;
  const tBuild = performance.now();
  const tickets: Ticket[] = specs.map((s) => ({ ...s, status: 'backlog', createdAt: 0, readyAt: 0, attempts: 0 }));
  const sched = new Scheduler(tickets);
  const buildMs = performance.now() - tBuild;
  const heapAfterBuild = process.memoryUsage().heapUsed;
  const byId = new Map(tickets.map((t) => [t.id, t]));
  const dependents = new Map<string, string[]>();
  for (const t of tickets) for (const d of t.dependsOn) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(t.id);
  const remaining = new Map(tickets.map((t) => [t.id, t.dependsOn.length]));
  const slots: SlotState[] = Array.from({ length: K }, (_, id) => ({ id, busy: false, load: 0 }));
  const running = new Map<number, RunningTicket & { end: number }>();
  const decisionMs: number[] = [];
  const decisionCpuMs: number[] = [];
  const planMs: number[] = [];
  const examined: number[] = [];
  let now = 0;
  let done = 0;
  let finishing: Array<RunningTicket & { end: number }> = [];
  for (;;) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // The run(s) that ended: mark done, release dependents.
    for (const r of finishing) {
      const t = byId.get(r.ticketId)!;
      t.status = 'done';
      sched.update(t);
      done++;
      for (const d of dependents.get(t.id) ?? []) {
        const left = remaining.get(d)! - 1;
        remaining.set(d, left);
        if (left === 0) {
          const x = byId.get(d)!;
          x.readyAt = now * MIN;
          sched.update(x);
        }
      }
    }
    const p0 = performance.now();
    const plan = sched.plan({ running: [...running.values()], slots, mode: sc.mode, overlapThreshold: 0, now: now * MIN });
    const p1 = performance.now();
    for (const a of plan.assignments) {
      const t = byId.get(a.ticketId)!;
      t.status = 'running';
      sched.update(t);
      slots[a.slot]!.busy = true;
      slots[a.slot]!.load++;
      running.set(a.slot, { ticketId: t.id, slot: a.slot, files: a.files, end: now + (t.estimate ?? 30) });
    }
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    decisionMs.push(t1 - t0);
    decisionCpuMs.push((c1.user + c1.system) / 1000);
    planMs.push(p1 - p0);
    examined.push(plan.examined);
    if (running.size === 0) break;
    let next = Infinity;
    for (const r of running.values()) next = Math.min(next, r.end);
    now = next;
    finishing = [];
    for (const [s, r] of [...running]) {
      if (r.end !== next) continue;
      running.delete(s);
      slots[s]!.busy = false;
      finishing.push(r);
    }
  }
  const heapEnd = process.memoryUsage().heapUsed;
  return {
    scenario: sc.name,
    tickets: N,
    slots: K,
    mode: sc.mode,
    shape: sc.shape,
    completed: done,
    decisions: decisionMs.length,
    buildMs: round(buildMs),
    decisionP50Ms: round(quantile(decisionMs, 0.5)),
    decisionP99Ms: round(quantile(decisionMs, 0.99)),
    decisionMaxMs: round(Math.max(...decisionMs)),
    decisionCpuP50Ms: round(quantile(decisionCpuMs, 0.5)),
    decisionCpuP99Ms: round(quantile(decisionCpuMs, 0.99)),
    planP50Ms: round(quantile(planMs, 0.5)),
    planP99Ms: round(quantile(planMs, 0.99)),
    examinedP50: quantile(examined, 0.5),
    examinedP99: quantile(examined, 0.99),
    makespanHours: round(now / 60),
    schedulerHeapMB: round((heapAfterBuild - heapBefore) / 2 ** 20),
    heapUsedMB: round(heapEnd / 2 ** 20),
    gcBeforeMeasure: gcAvailable,
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

const scenarios: Scenario[] = [
  { name: 'isolation, layered', shape: 'layered', mode: 'isolation', tree: 'large' },
  { name: 'locking, layered, 16k-file tree', shape: 'layered', mode: 'locking', tree: 'large' },
  { name: 'locking, sparse, 16k-file tree', shape: 'sparse', mode: 'locking', tree: 'large' },
  { name: 'locking, layered, tiny 100-file tree (heavy contention)', shape: 'layered', mode: 'locking', tree: 'small' },
];
const results = scenarios.map(run);
console.log(`Scale: ${N} tickets, ${K} slots; a decision = one completion's updates + plan + starts`);
console.log(
  ['scenario'.padEnd(56), 'decisions', 'p50 ms', 'p99 ms', 'max ms', 'cpu p99', 'plan p99', 'exam p99', 'build ms', 'sched MB', 'heap MB'].join(' | '),
);
for (const r of results) {
  console.log(
    [
      r.scenario.padEnd(56),
      String(r.decisions).padStart(9),
      r.decisionP50Ms.toFixed(3).padStart(6),
      r.decisionP99Ms.toFixed(3).padStart(6),
      r.decisionMaxMs.toFixed(1).padStart(6),
      r.decisionCpuP99Ms.toFixed(3).padStart(7),
      r.planP99Ms.toFixed(3).padStart(8),
      String(r.examinedP99).padStart(8),
      r.buildMs.toFixed(0).padStart(8),
      r.schedulerHeapMB.toFixed(1).padStart(8),
      r.heapUsedMB.toFixed(1).padStart(7),
    ].join(' | '),
  );
}
const worstP99 = Math.max(...results.map((r) => r.decisionP99Ms));
const worstCpuP99 = Math.max(...results.map((r) => r.decisionCpuP99Ms));
const load = loadavg()[0]!;
console.log(
  `target p99 ≤ 5 ms per decision: wall ${worstP99 <= 5 ? 'met' : 'NOT met'} (worst scenario p99 ${worstP99.toFixed(3)} ms), CPU time ${worstCpuP99 <= 5 ? 'met' : 'NOT met'} (${worstCpuP99.toFixed(3)} ms); load average ${load.toFixed(1)} (wall times suffer on a busy machine)`,
);
console.log('persistence figures: see bench/persist.ts (separate; not part of this file)');
if (JSON_OUT)
  console.log(
    JSON.stringify({
      bench: 'scale',
      scheduling: results,
      targetP99Ms: 5,
      worstP99Ms: worstP99,
      worstCpuP99Ms: worstCpuP99,
      loadAverage: load,
      persistence: null,
    }),
  );
