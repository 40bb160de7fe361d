// Scheduling quality: Orchard's scheduler against the barrier loop of simple orchestrators ("wave") and a
// plain FIFO, on a fixed suite of seeded random DAGs plus a 39-workstream plan.
//   node --import tsx bench/schedule.ts [--json]
// Figures: makespan ÷ lower bound, where lower bound = max(critical path, work ÷ K)
// (and, as a second column, ÷ a tighter valid bound, strongLowerBound), mean and worst;
// Orchard's makespan reduction against wave. With --json the last line is one JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode, TicketSpec } from '../src/core/model';
import { DAG_SHAPES, randomDag, Rng } from '../src/core/random';
import { checkSchedule, simulate, strongLowerBound, type SimPolicy } from '../src/core/simulate';

const JSON_OUT = process.argv.includes('--json');
const KS = [2, 3, 4, 8];
const SIZES = [8, 15, 30, 60, 120];
const SEEDS_PER_CELL = 10;
const VARIANTS: Array<{ name: string; policy: SimPolicy; mode: Mode }> = [
  { name: 'orchard', policy: 'orchard', mode: 'isolation' },
  { name: 'orchard+locks', policy: 'orchard', mode: 'locking' },
  { name: 'wave', policy: 'wave', mode: 'isolation' },
  { name: 'wave+locks', policy: 'wave', mode: 'locking' },
  { name: 'wave-list', policy: 'wave-list', mode: 'isolation' },
  { name: 'wave-list+locks', policy: 'wave-list', mode: 'locking' },
  { name: 'fifo', policy: 'fifo', mode: 'isolation' },
  { name: 'fifo+locks', policy: 'fifo', mode: 'locking' },
];

/** Reads test/fixtures/ws-example/ws-*.json (the workstream format) as tickets. */
export function loadWorkstreams(dir: string): TicketSpec[] {
  const files = readdirSync(dir)
    .filter((f) => /^ws-.*\.json$/.test(f))
    .sort();
  return files.map((f) => {
    const ws = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    const hours = Number(ws.estimate_hours ?? ws.effort_hours ?? ws.effort ?? NaN);
    const minutes = Number(ws.estimate_minutes ?? ws.estimate ?? NaN);
    const tasks = Array.isArray(ws.tasks) ? (ws.tasks as string[]) : [];
    return {
      id: String(ws.id),
      title: String(ws.title ?? ws.id),
      prompt: tasks.join('\n') || String(ws.title ?? ws.id),
      priority: 'P2',
      dependsOn: Array.isArray(ws.depends_on) ? (ws.depends_on as string[]) : [],
      files: Array.isArray(ws.files_scope) ? (ws.files_scope as string[]) : [],
      labels: ws.track ? [String(ws.track)] : [],
      agent: typeof ws.tool === 'string' ? ws.tool : undefined,
      estimate: Number.isFinite(hours) ? hours * 60 : Number.isFinite(minutes) ? minutes : undefined,
    };
  });
}

interface Instance {
  name: string;
  shape: string;
  tickets: TicketSpec[];
}

function suite(): Instance[] {
  const out: Instance[] = [];
  let seed = 1;
  for (const shape of DAG_SHAPES) {
    for (const size of SIZES) {
      for (let s = 0; s < SEEDS_PER_CELL; s++) {
        const rng = new Rng(1000 * seed++ + 17);
        out.push({ name: `${shape}-${size}-${s}`, shape, tickets: randomDag(rng, { shape, size }) });
      }
    }
  }
  return out;
}

interface Agg {
  sum: number;
  /** Largest value (for ratios: the worst case). */
  worst: number;
  min: number;
  n: number;
  worstName: string;
}
const agg = (): Agg => ({ sum: 0, worst: -Infinity, min: Infinity, n: 0, worstName: '' });
function add(a: Agg, x: number, name: string): void {
  a.sum += x;
  a.n++;
  a.min = Math.min(a.min, x);
  if (x > a.worst) {
    a.worst = x;
    a.worstName = name;
  }
}
const mean = (a: Agg): number => (a.n ? a.sum / a.n : NaN);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function main(): void {
  const t0 = performance.now();
  const instances = suite();
  const ratio: Record<string, Record<string, Agg>> = {}; // variant → K|all → makespan/LB
  const ratioStrong: Record<string, Record<string, Agg>> = {};
  const reduction: Record<string, Record<string, Agg>> = { 'vs wave': {}, 'vs wave+locks': {}, 'vs wave-list': {}, 'vs wave-list+locks': {} }; // 1 - orchard/baseline
  let invalid = 0;
  for (const v of VARIANTS) {
    ratio[v.name] = { all: agg() };
    ratioStrong[v.name] = { all: agg() };
  }
  for (const inst of instances) {
    for (const K of KS) {
      const strong = strongLowerBound(inst.tickets, K);
      const ms: Record<string, number> = {};
      for (const v of VARIANTS) {
        const r = simulate(inst.tickets, { agents: K, mode: v.mode, policy: v.policy });
        if (checkSchedule(inst.tickets, r, { agents: K, mode: v.mode }).length) invalid++;
        ms[v.name] = r.makespan;
        const name = `${inst.name} K=${K}`;
        add((ratio[v.name]![`K${K}`] ??= agg()), r.makespan / r.lowerBound, name);
        add(ratio[v.name]!.all!, r.makespan / r.lowerBound, name);
        add((ratioStrong[v.name]![`K${K}`] ??= agg()), r.makespan / strong, name);
        add(ratioStrong[v.name]!.all!, r.makespan / strong, name);
      }
      for (const [mode, o, w] of [
        ['vs wave', 'orchard', 'wave'],
        ['vs wave+locks', 'orchard+locks', 'wave+locks'],
        ['vs wave-list', 'orchard', 'wave-list'],
        ['vs wave-list+locks', 'orchard+locks', 'wave-list+locks'],
      ] as const) {
        const red = 1 - ms[o]! / ms[w]!;
        add((reduction[mode]![`K${K}`] ??= agg()), red, inst.name);
        add((reduction[mode]!.all ??= agg()), red, inst.name);
      }
    }
  }

  // The 39-workstream plan.
  const ws = loadWorkstreams(join(process.cwd(), 'test/fixtures/ws-example'));
  const wsRows: Array<Record<string, number | string>> = [];
  for (const K of [1, ...KS]) {
    const row: Record<string, number | string> = { K };
    for (const v of VARIANTS) {
      const r = simulate(ws, { agents: K, mode: v.mode, policy: v.policy });
      if (checkSchedule(ws, r, { agents: K, mode: v.mode }).length) invalid++;
      row[v.name] = r.makespan / 60;
      row.lowerBoundHours = r.lowerBound / 60;
      row.strongLowerBoundHours = strongLowerBound(ws, K) / 60;
      row.criticalPathHours = r.criticalPath.length / 60;
      row.totalWorkHours = r.totalWork / 60;
    }
    wsRows.push(row);
  }
  const elapsed = performance.now() - t0;

  // ---- table
  const lines: string[] = [];
  lines.push(
    `Scheduling bench: ${instances.length} random DAGs (${DAG_SHAPES.join(', ')}; sizes ${SIZES.join(', ')}) × K ∈ {${KS.join(', ')}} + seed-002 workstreams (${ws.length})`,
  );
  lines.push(`invalid schedules (checkSchedule): ${invalid}`);
  lines.push('');
  lines.push('makespan ÷ max(critical path, work/K): mean / worst');
  const cols = ['all', ...KS.map((k) => `K${k}`)];
  lines.push(['variant'.padEnd(17), ...cols.map((c) => c.padStart(15))].join(''));
  for (const v of VARIANTS) {
    lines.push(
      [v.name.padEnd(17), ...cols.map((c) => `${mean(ratio[v.name]![c]!).toFixed(3)} / ${ratio[v.name]![c]!.worst.toFixed(3)}`.padStart(15))].join(''),
    );
  }
  lines.push('');
  lines.push('makespan ÷ strong lower bound (heads/tails bound, tighter): mean / worst');
  for (const v of VARIANTS) {
    lines.push(
      [v.name.padEnd(17), ...cols.map((c) => `${mean(ratioStrong[v.name]![c]!).toFixed(3)} / ${ratioStrong[v.name]![c]!.worst.toFixed(3)}`.padStart(15))].join(
        '',
      ),
    );
  }
  lines.push('');
  lines.push('Orchard makespan reduction (1 - orchard ÷ baseline, same mode): mean [min … max]:');
  for (const mode of Object.keys(reduction)) {
    lines.push(
      [
        `${mode}`.padEnd(20),
        ...cols.map((c) => {
          const a = reduction[mode]![c]!;
          return `${(100 * mean(a)).toFixed(1)}% [${(100 * a.min).toFixed(0)}…${(100 * a.worst).toFixed(0)}]`.padStart(20);
        }),
      ].join(''),
    );
  }
  lines.push(`worst instances (orchard, isolation): vs simple LB ${ratio.orchard!.all!.worstName}; vs strong LB ${ratioStrong.orchard!.all!.worstName}`);
  lines.push('');
  lines.push('seed-002 workstreams, makespan in hours (sequential = total work):');
  lines.push(['K', 'LB', 'strongLB', ...VARIANTS.map((v) => v.name)].map((h, i) => (i === 0 ? h.padEnd(4) : h.padStart(16))).join(''));
  for (const row of wsRows) {
    lines.push(
      [
        String(row.K).padEnd(4),
        (row.lowerBoundHours as number).toFixed(1).padStart(16),
        (row.strongLowerBoundHours as number).toFixed(1).padStart(16),
        ...VARIANTS.map((v) => (row[v.name] as number).toFixed(1).padStart(16)),
      ].join(''),
    );
  }
  lines.push(`critical path ${(wsRows[0]!.criticalPathHours as number).toFixed(1)} h, total work ${(wsRows[0]!.totalWorkHours as number).toFixed(1)} h`);
  lines.push(`elapsed ${(elapsed / 1000).toFixed(1)} s`);
  const o = ratio.orchard!.all!;
  const red = mean(reduction['vs wave']!.all!);
  lines.push(
    `targets: orchard mean ≤ 1.02: ${mean(o) <= 1.02 ? 'met' : 'NOT met'} (${mean(o).toFixed(3)}); worst ≤ 1.10: ${o.worst <= 1.1 ? 'met' : 'NOT met'} (${o.worst.toFixed(3)}); ≥ 25% shorter than wave (seed loop): ${red >= 0.25 ? 'met' : 'NOT met'} (${(100 * red).toFixed(1)}%)`,
  );
  console.log(lines.join('\n'));

  if (JSON_OUT) {
    const pack = (m: Record<string, Record<string, Agg>>, hi = 'worst', lo?: string) =>
      Object.fromEntries(
        Object.entries(m).map(([v, byK]) => [
          v,
          Object.fromEntries(Object.entries(byK).map(([k, a]) => [k, { mean: r3(mean(a)), [hi]: r3(a.worst), ...(lo ? { [lo]: r3(a.min) } : {}), n: a.n }])),
        ]),
      );
    const result = {
      bench: 'schedule',
      instances: instances.length,
      ks: KS,
      invalidSchedules: invalid,
      ratioToLowerBound: pack(ratio),
      ratioToStrongLowerBound: pack(ratioStrong),
      reductionVsWave: pack(reduction, 'max', 'min'),
      wsExample: wsRows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? r3(v) : v]))),
      targets: {
        orchardMeanLE102: mean(o) <= 1.02,
        orchardWorstLE110: o.worst <= 1.1,
        reductionVsWaveGE25: red >= 0.25,
      },
      elapsedMs: Math.round(elapsed),
    };
    console.log(JSON.stringify(result));
  }
}

main();
