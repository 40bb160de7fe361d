// Seeded randomness for simulations, benchmarks and property tests (never Math.random):
// mulberry32, plus a generator of random ticket DAGs of several shapes.
import type { Priority, TicketSpec } from './model';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  /** Normal (Box–Muller). */
  normal(mean = 0, sd = 1): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** exp(normal(mu, sigma)): median e^mu. */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
  /** A new independent generator derived from this one. */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
}

export const DAG_SHAPES = ['layered', 'chains', 'fan', 'sparse', 'dense', 'diamond'] as const;
export type DagShape = (typeof DAG_SHAPES)[number];

export interface DagOptions {
  shape: DagShape;
  size: number;
  /** Median estimate in minutes (lognormal); default 30. */
  medianMinutes?: number;
  /** Lognormal sigma; default 0.6. */
  sigma?: number;
  /** Mix of priorities; default all P2 (pure makespan). */
  priorities?: readonly Priority[];
  /** Files per ticket: 'scattered' (a small fake tree, some overlap, default), 'none'. */
  files?: 'scattered' | 'none';
  /** Id prefix; ids are zero-padded so id order = creation order. */
  prefix?: string;
}

const AREAS = ['core', 'ui', 'api', 'db', 'util', 'auth', 'cli', 'docs'];
const LEAVES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];

/** One to three paths/globs from a small fake tree (src/<area>/<leaf>.ts, tests, docs, a few globs). */
export function randomScope(rng: Rng): string[] {
  const n = rng.int(1, 3);
  const out = new Set<string>();
  for (let k = 0; k < n; k++) {
    const area = rng.pick(AREAS);
    const r = rng.next();
    if (r < 0.65) out.add(`src/${area}/${rng.pick(LEAVES)}.ts`);
    else if (r < 0.8) out.add(`test/${area}/${rng.pick(LEAVES)}.test.ts`);
    else if (r < 0.9) out.add(`src/${area}/*.ts`);
    else if (r < 0.95) out.add(`src/${area}`);
    else out.add(area === 'docs' ? 'docs/**/*.md' : `src/${area}/**`);
  }
  return [...out];
}

/**
 * A random acyclic set of tickets. Edges always go from a lower to a higher index, so the
 * result is a DAG by construction. Shapes:
 * - layered: 3–8 layers, each ticket depends on 1–3 tickets of the previous layer;
 * - chains: several independent chains (lengths vary), a few cross links;
 * - fan: fan-out from a few roots, then fan-in to a few sinks, repeated;
 * - sparse: each ticket depends on each earlier one with probability ~1.5/i;
 * - dense: each ticket depends on each of the ~10 previous ones with probability 0.35;
 * - diamond: stacked diamonds (one → several → one).
 */
export function randomDag(rng: Rng, o: DagOptions): TicketSpec[] {
  const n = Math.max(1, Math.floor(o.size));
  const pad = String(n).length;
  const prefix = o.prefix ?? 'T-';
  const id = (i: number): string => `${prefix}${String(i + 1).padStart(pad, '0')}`;
  const deps: Array<Set<number>> = Array.from({ length: n }, () => new Set<number>());
  const link = (from: number, to: number): void => {
    if (from < to) deps[to]!.add(from);
  };
  switch (o.shape) {
    case 'layered': {
      const layers = Math.min(n, rng.int(3, 8));
      const bounds: number[] = [0];
      for (let l = 1; l < layers; l++) bounds.push(Math.floor((l * n) / layers));
      bounds.push(n);
      for (let l = 1; l < layers; l++) {
        const [ps, pe, cs, ce] = [bounds[l - 1]!, bounds[l]!, bounds[l]!, bounds[l + 1]!];
        if (pe <= ps) continue;
        for (let i = cs; i < ce; i++) for (let k = rng.int(1, 3); k > 0; k--) link(rng.int(ps, pe - 1), i);
      }
      break;
    }
    case 'chains': {
      const chains = Math.max(1, Math.min(n, rng.int(2, 6)));
      const last: number[] = new Array(chains).fill(-1);
      for (let i = 0; i < n; i++) {
        const c = rng.int(0, chains - 1);
        if (last[c]! >= 0) link(last[c]!, i);
        if (rng.bool(0.1)) {
          const other = last[rng.int(0, chains - 1)]!;
          if (other >= 0) link(other, i);
        }
        last[c] = i;
      }
      break;
    }
    case 'fan': {
      let i = 0;
      let prevSinks: number[] = [];
      while (i < n) {
        const roots: number[] = [];
        for (let k = rng.int(1, 3); k > 0 && i < n; k--, i++) {
          roots.push(i);
          for (const s of prevSinks) link(s, i);
        }
        const mids: number[] = [];
        for (let k = rng.int(3, 12); k > 0 && i < n; k--, i++) {
          mids.push(i);
          link(rng.pick(roots), i);
          if (rng.bool(0.3)) link(rng.pick(roots), i);
        }
        prevSinks = [];
        for (let k = rng.int(1, 2); k > 0 && i < n; k--, i++) {
          prevSinks.push(i);
          for (const m of mids) if (rng.bool(0.7)) link(m, i);
          if (mids.length) link(rng.pick(mids), i);
        }
      }
      break;
    }
    case 'sparse':
      for (let i = 1; i < n; i++) {
        const p = Math.min(1, 1.5 / i);
        if (i < 200) {
          for (let j = 0; j < i; j++) if (rng.bool(p)) link(j, i);
        } else for (let k = 0; k < 2; k++) if (rng.bool(0.75)) link(rng.int(0, i - 1), i);
      }
      break;
    case 'dense':
      for (let i = 1; i < n; i++) for (let j = Math.max(0, i - 10); j < i; j++) if (rng.bool(0.35)) link(j, i);
      break;
    case 'diamond': {
      let top = -1;
      let i = 0;
      while (i < n) {
        const head = i++;
        if (top >= 0) link(top, head);
        const mids: number[] = [];
        for (let k = rng.int(2, 6); k > 0 && i < n; k--, i++) {
          mids.push(i);
          link(head, i);
        }
        if (i < n) {
          const tail = i++;
          for (const m of mids) link(m, tail);
          if (mids.length === 0) link(head, tail);
          top = tail;
        } else top = head;
      }
      break;
    }
  }
  const median = o.medianMinutes ?? 30;
  const sigma = o.sigma ?? 0.6;
  const prios = o.priorities ?? ['P2'];
  const out: TicketSpec[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: id(i),
      title: `Ticket ${i + 1}`,
      prompt: `Do ticket ${i + 1}`,
      priority: rng.pick(prios),
      dependsOn: [...deps[i]!].sort((a, b) => a - b).map(id),
      files: o.files === 'none' ? [] : randomScope(rng),
      labels: [],
      estimate: Math.max(5, Math.round(rng.lognormal(Math.log(median), sigma))),
    });
  }
  return out;
}
