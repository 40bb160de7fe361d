// Shared pieces of the reliability suite: the real `orchard` CLI as a child process, a seeded
// random source, ticket graphs, and the invariants every scenario checks at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OrchardEvent } from '../../src/core/events';
import type { OrchardState } from '../../src/core/model';
import { replay } from '../../src/core/reduce';
import { DIST, GIT_ENV, pidAlive, sleep } from '../helpers/repo';

export const CLI = path.join(DIST, 'cli.js');

/** Long (soak) or fast (npm test) settings, from the environment. */
export const SETTINGS = {
  soak: process.env.ORCHARD_SOAK === '1',
  kills: Number(process.env.ORCHARD_SOAK_KILLS ?? '8'),
  tickets: Number(process.env.ORCHARD_SOAK_TICKETS ?? '12'),
  commands: Number(process.env.ORCHARD_SOAK_COMMANDS ?? '40'),
  seed: Number(process.env.ORCHARD_SOAK_SEED ?? '20240611'),
  floodMb: Number(process.env.ORCHARD_SOAK_FLOOD_MB ?? '100'),
};

/** mulberry32: a small seeded PRNG, so a failing soak run can be replayed with its seed. */
export function rng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

/** Figures a scenario reports: printed as `faults injected N, survived N, lost N`. */
export interface Figures {
  injected: number;
  survived: number;
  lost: number;
}
export const figures: Record<string, Figures> = {};
export function count(scenario: string, survived: boolean, lost = 0): void {
  const f = (figures[scenario] ??= { injected: 0, survived: 0, lost: 0 });
  f.injected++;
  if (survived) f.survived++;
  f.lost += lost;
}
export function printFigures(scenario: string, extra = ''): void {
  const f = figures[scenario] ?? { injected: 0, survived: 0, lost: 0 };
  // One line per scenario; test/soak/run.mjs adds them up.
  console.log(`[reliability] ${scenario}: faults injected ${f.injected}, survived ${f.survived}, lost ${f.lost}${extra ? ` (${extra})` : ''}`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...GIT_ENV, ORCHARD_FAKE_MS_PER_MINUTE: '5', ORCHARD_TEST_RETRY_SCALE: '0.001', NO_COLOR: '1', ...extra };
}

/** Runs `node dist/cli.js …` to the end. */
export function cliSync(cwd: string, args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: childEnv(env), encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, signal: r.signal, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export function cli(cwd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}

export interface GraphTicket {
  id: string;
  title: string;
  prompt: string;
  priority: string;
  dependsOn: string[];
  files: string[];
  estimate: number;
}

/**
 * n tickets: chains, fan-outs and fan-ins over disjoint files (so the merged tree is the same
 * whatever the order), with a seeded shape.
 */
export function ticketGraph(n: number, seed = 7): GraphTicket[] {
  const r = rng(seed);
  const out: GraphTicket[] = [];
  for (let i = 1; i <= n; i++) {
    const deps = new Set<string>();
    if (i > 1 && r.next() < 0.6) deps.add(`T${r.int(Math.max(1, i - 5), i - 1)}`);
    if (i > 3 && r.next() < 0.25) deps.add(`T${r.int(1, i - 1)}`);
    out.push({
      id: `T${i}`,
      title: `ticket ${i}`,
      prompt: `work on ticket ${i}\n@sleep ${r.int(100, 600)}`,
      priority: r.pick(['P1', 'P2', 'P3']),
      dependsOn: [...deps],
      files: [`src/t${i}.txt`],
      estimate: r.int(1, 5),
    });
  }
  return out;
}

export function writeTickets(file: string, tickets: unknown[]): void {
  fs.writeFileSync(file, JSON.stringify({ tickets }, null, 2));
}

export function stateDir(repo: string): string {
  return path.join(repo, '.git', 'orchard');
}

export function readEvents(repo: string): OrchardEvent[] {
  const text = fs.readFileSync(path.join(stateDir(repo), 'events.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as OrchardEvent);
}

export function readSnapshot(repo: string): OrchardState {
  return JSON.parse(fs.readFileSync(path.join(stateDir(repo), 'state.json'), 'utf8')) as OrchardState;
}

/** Problems with the invariants that hold whatever happened; [] when all is well. */
export function invariantProblems(repo: string, git: (...a: string[]) => string): string[] {
  const problems: string[] = [];
  const events = readEvents(repo);
  // seq strictly increasing, no duplicates
  for (let i = 1; i < events.length; i++)
    if (!(events[i]!.seq > events[i - 1]!.seq)) problems.push(`event seq ${events[i]!.seq} after ${events[i - 1]!.seq} (line ${i + 1})`);
  // no ticket merged twice
  const merged = new Map<string, number>();
  for (const e of events) if (e.type === 'ticket-merged') merged.set(e.id, (merged.get(e.id) ?? 0) + 1);
  for (const [id, n] of merged) if (n > 1) problems.push(`${id} merged ${n} times`);
  // snapshot == replay of the log (comparing the fields the fold owns)
  const snap = readSnapshot(repo);
  const folded = replay(events);
  if (snap.seq !== folded.seq) problems.push(`snapshot seq ${snap.seq} != log seq ${folded.seq}`);
  const norm = (s: OrchardState) => canonical({ tickets: s.tickets, runs: s.runs, locks: s.locks, escalations: s.escalations });
  if (snap.seq === folded.seq && norm(snap) !== norm(folded))
    problems.push(`snapshot differs from the replay of events.jsonl: ${firstDiffs(snap, folded).join('; ')}`);
  // no lock held by a run that is over
  for (const l of folded.locks) if (folded.runs[l.runId]?.endedAt !== undefined) problems.push(`lock ${l.pattern} held by ended run ${l.runId}`);
  // git: no prunable (orphaned) worktree, no stale index lock
  const wt = git('worktree', 'list', '--porcelain');
  if (/^prunable/m.test(wt)) problems.push(`orphaned worktree:\n${wt}`);
  if (fs.existsSync(path.join(repo, '.git', 'index.lock'))) problems.push('.git/index.lock left behind');
  return problems;
}

/**
 * Each ticket's line in its file on main (the fake agent appends `- T<i>: …` to src/t<i>.txt):
 * `lost` when missing; `redone` when written more than once (an agent built on its own
 * interrupted attempt; the crash test counts it as a failure, see orchard.afterInterruption).
 */
export function ticketLines(git: (...a: string[]) => string, n: number): { lost: string[]; redone: string[] } {
  const lost: string[] = [];
  const redone: string[] = [];
  for (let i = 1; i <= n; i++) {
    let text = '';
    try {
      text = git('show', `main:src/t${i}.txt`);
    } catch {
      /* missing */
    }
    const lines = text.split('\n').filter((l) => l.startsWith(`- T${i}:`));
    if (lines.length === 0) lost.push(`T${i} (missing on main)`);
    else if (lines.length > 1) redone.push(`T${i}`);
  }
  return { lost, redone };
}

/** Every file on main with its lines de-duplicated (a retry may redo an append), as one string. */
export function normalizedTree(git: (...a: string[]) => string, n: number): string {
  const names = git('ls-tree', '-r', '--name-only', 'main').split('\n').sort();
  const parts = [names.join(',')];
  for (let i = 1; i <= n; i++) {
    let text = '';
    try {
      text = git('show', `main:src/t${i}.txt`);
    } catch {
      /* missing */
    }
    parts.push([...new Set(text.split('\n'))].join('\n'));
  }
  return parts.join('\n--\n');
}

/** Pids of runs the state says are alive but are not ended: none must survive a finished batch. */
export function livePids(state: OrchardState): number[] {
  return Object.values(state.runs)
    .map((r) => r.pid)
    .filter((p): p is number => typeof p === 'number' && pidAlive(p));
}

export async function waitForFile(file: string, pred: (text: string) => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (pred(fs.readFileSync(file, 'utf8'))) return true;
    } catch {
      /* not there yet */
    }
    await sleep(25);
  }
  return false;
}

export function lineCount(file: string): number {
  try {
    const buf = fs.readFileSync(file);
    let n = 0;
    for (const b of buf) if (b === 10) n++;
    return n;
  } catch {
    return 0;
  }
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* gone */
  }
}

/** Paths where two JSON values differ (at most 5), for messages. */
export function firstDiffs(a: unknown, b: unknown, at = '', out: string[] = []): string[] {
  if (out.length >= 5 || canonical(a) === canonical(b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      firstDiffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`, out);
    return out;
  }
  out.push(`${at}: snapshot ${JSON.stringify(a)?.slice(0, 80)} vs log ${JSON.stringify(b)?.slice(0, 80)}`);
  return out;
}

/** JSON with sorted keys (key order is not state). */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
