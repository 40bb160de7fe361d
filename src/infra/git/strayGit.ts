// Git processes an earlier Orchard left running. An Orchard killed on its own (a crash, a
// SIGKILL of the extension host or the CLI, its process group spared) leaves its git children
// going: a `git merge` in the integration worktree, a `git merge --ff-only` in the user's
// checkout, a `git worktree add`. Their lock files look exactly like those of a git that was
// killed, and removing them while the git still writes lets two gits write one index: a merge
// commit with the right parents and the wrong tree, a ticket "merged" whose change is not on
// the target (crash soak, issue 16). So a lock is stale only once no such git is left: this
// unit finds them and waits for them to end.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { sep } from 'node:path';
import type { Logger } from '../../core/ports';

export interface GitProcess {
  pid: number;
  /** Its working directory (Linux); undefined elsewhere. */
  cwd?: string;
  /** Its command line. */
  argv: string[];
}

/** Where a stray git would be working: directories it runs in or names, or arguments it has (a branch, a ref). */
export interface StrayGitScope {
  dirs: readonly string[];
  mention?: readonly string[];
}

/** Running git processes that are not this process's own (nor its descendants'); with includeOwn, every one. */
export async function strayGitProcesses(opts: { includeOwn?: boolean } = {}): Promise<GitProcess[]> {
  if (existsSync('/proc/self/stat')) return fromProc(opts.includeOwn === true);
  const out = await new Promise<string>((resolve) =>
    execFile('ps', ['-eo', 'pid=,ppid=,args='], { maxBuffer: 16 * 1024 * 1024 }, (err, o) => resolve(err ? '' : String(o))),
  );
  const rows = out
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), argv: m[3]!.split(' ') }));
  const parent = new Map(rows.map((r) => [r.pid, r.ppid]));
  return rows.filter((r) => isGit(r.argv[0] ?? '') && (opts.includeOwn || !ours(r.pid, parent))).map(({ pid, argv }) => ({ pid, argv }));
}

function fromProc(includeOwn: boolean): GitProcess[] {
  const parent = new Map<number, number>();
  const found: GitProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // a zombie writes nothing
      parent.set(pid, Number(fields[1]));
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!isGit(argv[0] ?? '')) continue;
      let cwd: string | undefined;
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        /* another user's process, or gone */
      }
      found.push({ pid, ...(cwd && { cwd }), argv });
    } catch {
      /* gone meanwhile */
    }
  }
  return includeOwn ? found : found.filter((p) => !ours(p.pid, parent));
}

function isGit(argv0: string): boolean {
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  return base === 'git' || base.startsWith('git-');
}

/** This process or one of its descendants (its own git commands are not strays). */
function ours(pid: number, parent: Map<number, number>): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
    if (p === process.pid) return true;
  }
  return false;
}

export const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** Working in one of the directories, or naming one of them (or a mentioned word) as an argument. */
function inScope(p: GitProcess, scope: StrayGitScope): boolean {
  if (p.cwd && scope.dirs.some((d) => within(p.cwd!, d))) return true;
  return p.argv.slice(1).some((a) => scope.dirs.some((d) => within(a, d)) || (scope.mention ?? []).includes(a));
}

/**
 * Waits (up to timeoutMs, default a minute) until no stray git works in the scope, saying once
 * in the log what it waits for. Returns false when one is still running at the end.
 */
export async function waitForStrayGit(scope: StrayGitScope, log: Logger, timeoutMs = 60_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const strays = (await strayGitProcesses()).filter((p) => inScope(p, scope));
    if (strays.length === 0) return true;
    if (Date.now() >= end) {
      log.warn(`${scope.dirs[0]}: git still running after ${Math.round(timeoutMs / 1000)} s (pid ${strays.map((s) => s.pid).join(', ')}); going on`);
      return false;
    }
    if (!told)
      log.warn(`${scope.dirs[0]}: waiting for git left running by an earlier Orchard (pid ${strays[0]!.pid}: ${strays[0]!.argv.join(' ').slice(0, 120)})`);
    told = true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Removes lock files left by an interrupted git, once no stray git works in the scope (one
 * still writing would find its lock gone and a second git writing beside it), saying so in
 * the log.
 */
export async function clearStaleLocks(locks: readonly string[], scope: StrayGitScope, log: Logger): Promise<void> {
  if (!locks.some((l) => existsSync(l))) return;
  await waitForStrayGit(scope, log);
  for (const lock of locks) {
    if (!existsSync(lock)) continue;
    log.warn(`${scope.dirs[0]}: removing a stale ${lock.slice(lock.lastIndexOf('/') + 1)} left by an interrupted git command`);
    rmSync(lock, { force: true });
  }
}
