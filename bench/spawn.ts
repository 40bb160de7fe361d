// bench:spawn — time from "start ticket" to "agent process running" for 8 tickets on a
// generated repository of 50,000 files, against raw `git worktree add` of the same 8 in the
// same run. Orchard's path is the real one: WorktreeManager.prepareWorktree (full checkout,
// sparse checkout, or a warm-pool claim) + AgentLauncher.start (run folder, runner process)
// until the runner has written the agent's pid. Targets: full ≤ 1.2× raw, sparse/pool ≤ 0.1× raw.
//   npm run bench:spawn [-- --files 50000 --tickets 8 --json]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Run, Ticket } from '../src/core/model';
import { AgentLauncher, HeadlessRunnerHost } from '../src/infra/agents/launcher';
import { WorktreeManager } from '../src/infra/git/worktrees';
import { runFiles } from '../src/infra/runner/protocol';

const { values } = parseArgs({ options: { files: { type: 'string' }, tickets: { type: 'string' }, json: { type: 'boolean' } } });
const FILES = Number(values.files ?? 50_000);
const TICKETS = Number(values.tickets ?? 8);
const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');
const log = { debug: () => undefined, info: () => undefined, warn: (m: string) => console.error(`warning: ${m}`), error: (m: string) => console.error(m) };
const say = (m: string) => (values.json ? process.stderr.write(`${m}\n`) : console.log(m));

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=B', '-c', 'user.email=b@l', ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
}

/** A repository of FILES files in 500 folders, one commit, written with git fast-import. */
function makeRepo(dir: string): string {
  const repo = join(dir, 'repo');
  git(dir, 'init', '-q', '-b', 'main', repo);
  const parts: string[] = ['commit refs/heads/main', 'committer B <b@l> 1700000000 +0000', 'data 4', 'gen', ''];
  for (let i = 0; i < FILES; i++) {
    const body = `// file ${i}\nexport const v${i} = ${i};\n`;
    parts.push(`M 100644 inline src/d${i % 500}/f${i}.ts`, `data ${Buffer.byteLength(body)}`, body);
  }
  parts.push('');
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: parts.join('\n'), maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`fast-import failed: ${String(r.stderr)}`);
  git(repo, 'checkout', '-q', '-f', 'main');
  return repo;
}

const ticket = (id: string): Ticket => ({
  id,
  title: id,
  prompt: 'bench',
  priority: 'P2',
  dependsOn: [],
  files: [`src/d1/f1.ts`, `src/d2/f2.ts`, `src/d${Number(id.replace(/\D/g, '')) % 500}/*.ts`],
  labels: [],
  status: 'running',
  createdAt: 0,
  attempts: 0,
});

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

interface Variant {
  name: string;
  perTicketMs: number[];
  totalMs: number;
}

interface OrchardPath {
  variant: Variant;
  one(i: number): Promise<void>;
  finish(): Promise<void>;
}

async function orchardPath(repo: string, name: string, opts: { sparse?: boolean; pool?: number }): Promise<OrchardPath> {
  const wtDir = join(repo, '..', `wt-${name}`);
  const stateDir = join(repo, '.git', 'orchard', name);
  const m = new WorktreeManager({
    repo,
    worktreesDir: wtDir,
    targetTip: async () => git(repo, 'rev-parse', 'refs/heads/main'),
    targetBranch: 'main',
    setup: opts.sparse ? { sparse: true } : undefined,
    poolSize: opts.pool,
    log,
  });
  if (opts.pool) {
    // The pool is filled ahead of time (at session start, and refilled after each claim): not timed.
    const t0 = Date.now();
    await m.refillPool();
    say(`  ${name}: pool of ${m.poolCount} prepared in ${Date.now() - t0} ms (ahead of time, not counted)`);
  }
  const agent = { name: 'bench', description: 'bench', argv: [process.execPath, '-e', 'setTimeout(() => {}, 200)'] };
  const launcher = new AgentLauncher({
    stateDir,
    distDir: DIST,
    host: new HeadlessRunnerHost(),
    defaultProfile: 'bench',
    profiles: { bench: agent },
    log,
    pollMs: 50,
  });
  const variant: Variant = { name, perTicketMs: [], totalMs: 0 };
  const handles: Promise<unknown>[] = [];
  return {
    variant,
    async one(i) {
      const t = { ...ticket(`${name}${i}`), agent: 'bench' };
      const t0 = performance.now();
      const wt = await m.prepareWorktree(t, 1);
      const run: Run = { id: `${t.id}-r1`, ticketId: t.id, slot: 1, attempt: 1, branch: wt.branch, worktree: wt.path, base: wt.base, startedAt: Date.now() };
      const h = await launcher.start(t, run);
      const status = runFiles(launcher.runDir(run.id)).status;
      await waitFor(() => existsSync(status) && !!JSON.parse(readFileSync(status, 'utf8')).agentPid);
      const ms = performance.now() - t0;
      variant.perTicketMs.push(ms);
      variant.totalMs += ms;
      handles.push(h.exited);
      // The session refills in the background; here it is awaited so it does not overlap the next timing.
      if (opts.pool) await m.refillPool();
    },
    async finish() {
      await Promise.all(handles);
      say(`  ${name}: worktree part per ticket ${m.timings.map((x) => x.totalMs).join(', ')} ms`);
    },
  };
}

function rawOne(repo: string, v: Variant, i: number): void {
  const t0 = performance.now();
  git(repo, 'worktree', 'add', '-q', '-b', `raw/${i}`, join(repo, '..', 'wt-raw', `R${i}`), 'main');
  const ms = performance.now() - t0;
  v.perTicketMs.push(ms);
  v.totalMs += ms;
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'orchard-bench-spawn-'));
  try {
    const t0 = Date.now();
    const repo = makeRepo(dir);
    say(`repository: ${FILES} files, generated in ${Date.now() - t0} ms; ${TICKETS} tickets per variant`);
    // Paired: ticket i goes through raw git and each Orchard path in turn, so load on the
    // machine falls on all of them alike.
    const raw: Variant = { name: 'raw git worktree add', perTicketMs: [], totalMs: 0 };
    const full = await orchardPath(repo, 'full', {});
    const sparse = await orchardPath(repo, 'sparse', { sparse: true });
    const pool = await orchardPath(repo, 'pool', { pool: 2 });
    for (let i = 0; i < TICKETS; i++) {
      rawOne(repo, raw, i);
      await full.one(i);
      await sparse.one(i);
      await pool.one(i);
    }
    for (const p of [full, sparse, pool]) await p.finish();
    const ratio = (v: Variant) => v.totalMs / raw.totalMs;
    const fmt = (v: Variant) =>
      `${v.name.padEnd(22)} total ${v.totalMs.toFixed(0).padStart(6)} ms  per ticket ${(v.totalMs / TICKETS).toFixed(0).padStart(5)} ms  (min ${Math.min(...v.perTicketMs).toFixed(0)}, max ${Math.max(...v.perTicketMs).toFixed(0)})  ${ratio(v).toFixed(3)}× raw`;
    for (const v of [raw, full.variant, sparse.variant, pool.variant]) say(fmt(v));
    const targets = { full: ratio(full.variant) <= 1.2, sparse: ratio(sparse.variant) <= 0.1, pool: ratio(pool.variant) <= 0.1 };
    say(
      `targets: full ≤ 1.2× raw ${targets.full ? 'met' : 'MISSED'}; sparse ≤ 0.1× ${targets.sparse ? 'met' : 'MISSED'}; pool ≤ 0.1× ${targets.pool ? 'met' : 'MISSED'}`,
    );
    const result = {
      bench: 'spawn',
      files: FILES,
      tickets: TICKETS,
      rawMs: Math.round(raw.totalMs),
      fullMs: Math.round(full.variant.totalMs),
      sparseMs: Math.round(sparse.variant.totalMs),
      poolMs: Math.round(pool.variant.totalMs),
      fullRatio: Number(ratio(full.variant).toFixed(3)),
      sparseRatio: Number(ratio(sparse.variant).toFixed(3)),
      poolRatio: Number(ratio(pool.variant).toFixed(3)),
      perTicketMs: Object.fromEntries([raw, full.variant, sparse.variant, pool.variant].map((v) => [v.name, v.perTicketMs.map((x) => Math.round(x))])),
      targets,
    };
    if (values.json) console.log(JSON.stringify(result));
    process.exitCode = targets.full && targets.sparse && targets.pool ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
