// Shared helpers for the tests that drive real git, real processes and the built bundles.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OrchardEvent } from '../../src/core/events';
import type { Orchestrator } from '../../src/core/orchestrator';
import type { Logger } from '../../src/core/ports';

export const ROOT = path.resolve(__dirname, '../..');
export const DIST = path.join(ROOT, 'dist');

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@localhost',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@localhost',
};

const BUNDLES = ['runner.js', 'orchard-agent.js', 'fake-agent.js', 'cli.js'];

function newestMtime(dir: string): number {
  let max = 0;
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    max = Math.max(max, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return max;
}

function distFresh(): boolean {
  const src = Math.max(newestMtime(path.join(ROOT, 'src')), fs.statSync(path.join(ROOT, 'esbuild.config.mjs')).mtimeMs);
  return BUNDLES.every((b) => {
    try {
      return fs.statSync(path.join(DIST, b)).mtimeMs >= src;
    } catch {
      return false;
    }
  });
}

let built = false;
/**
 * Builds dist/ with esbuild unless every bundle is newer than every source file. Test files
 * run in parallel processes, so the build happens under a directory lock.
 */
export function buildDist(): void {
  if (built) return;
  const lock = path.join(os.tmpdir(), `orchard-test-build-${Buffer.from(ROOT).toString('hex').slice(-32)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      execFileSync(process.execPath, ['-e', 'setTimeout(()=>{},100)']);
    }
  }
  try {
    if (!distFresh()) execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'inherit' });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  built = true;
}

export interface TempRepo {
  /** Temp folder holding the repo and its `<repo>.orchard` sibling. */
  root: string;
  repo: string;
  git(...args: string[]): string;
  /** Writes a file in the repo (not committed). */
  write(rel: string, text: string): void;
  commitAll(message: string): string;
  cleanup(): void;
}

const repos: TempRepo[] = [];

/** A fresh repository with one commit on main, in its own temp folder. */
export function makeRepo(prefix = 'orchard-test-'): TempRepo {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  const repo = path.join(root, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, ...GIT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  git('init', '-q', '-b', 'main');
  git('config', 'commit.gpgsign', 'false');
  fs.writeFileSync(path.join(repo, 'README.md'), '# test repo\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  const r: TempRepo = {
    root,
    repo,
    git,
    write(rel, text) {
      const p = path.join(repo, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
    },
    commitAll(message) {
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  repos.push(r);
  return r;
}

export function cleanupRepos(): void {
  // ORCHARD_KEEP_TEMP=1 keeps the temp repositories for a post-mortem.
  if (process.env.ORCHARD_KEEP_TEMP) return void console.log(`kept: ${repos.map((r) => r.root).join(' ')}`);
  while (repos.length) repos.pop()!.cleanup();
}

export interface CapturedLog extends Logger {
  lines: string[];
}

export function quietLog(): CapturedLog {
  const lines: string[] = [];
  const rec = (lvl: string) => (m: string) => void lines.push(`${lvl}: ${m}`);
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

/** Records every event the orchestrator applies, with the wall time it was seen. */
export function recordEvents(o: Orchestrator): OrchardEvent[] {
  const seen: OrchardEvent[] = [];
  o.onDidChange(({ events }) => seen.push(...events.map((e) => structuredClone(e))));
  return seen;
}

/** Alive, and not a zombie (this machine's init never reaps orphans). */
export { pidAlive } from '../../src/infra/process';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + Math.max(ms, MIN_WAIT_MS);
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Test limits are for hangs, not for speed: a loaded 2-core machine (two busy loops beside the
 * suite) runs a batch several times slower, so every wait gets at least this much.
 */
const MIN_WAIT_MS = 120_000;

/** Rejects if p does not settle within ms (at least MIN_WAIT_MS; so a hung orchestrator fails the test instead of the run). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  ms = Math.max(ms, MIN_WAIT_MS);
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}
