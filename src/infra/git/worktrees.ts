// Ticket worktrees: one per ticket outside the workspace folder (default
// `<repo>.orchard/worktrees/<ticket>`), on branch orchard/<id>, created from the target tip.
// Per-repository setup (files copied by glob, shared directories, a setup command, optional
// sparse checkout), a warm pool of prepared worktrees claimed with a ref update, WIP refs,
// checks that an agent did not harm the user's branches, and cleanup that never deletes
// unmerged commits. Uncommitted agent work is committed, never dropped.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  copyFileSync,
  appendFileSync,
  readFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Run, Ticket } from '../../core/model';
import type { ChangeSummary, Logger, RunInspection, WorktreeInfo } from '../../core/ports';
import { WorktreeCleanup, type ReclaimOptions, type ReclaimResult, type StaleWorktree } from './cleanup';
import { gitText, listWorktrees, runGit, whileWorktreeAdded, type GitResult } from './run';

export { diskUsage, formatBytes, formatStale, type ReclaimOptions, type ReclaimResult, type StaleWorktree } from './cleanup';
import { clearStaleLocks, strayGitProcesses, waitForStrayGit, within, type GitProcess } from './strayGit';

/** How a directory of the main checkout (node_modules, .venv) reaches a worktree. */
export type ShareMode = 'copy' | 'hardlink' | 'symlink';

/**
 * What each mode breaks:
 * - copy: nothing is shared (safe); slow and uses disk for big folders.
 * - hardlink: fast, little disk; files are the same inodes, so a tool that edits a file in
 *   place (patch-package, a postinstall writing into node_modules) changes the main
 *   checkout's copy too. Tools that replace files (npm install) are fine. Same filesystem only.
 * - symlink: instant, no disk; the whole folder is shared: `npm install` in the worktree changes
 *   the main checkout's node_modules, and tools that resolve real paths (Node's module lookup
 *   from a package's realpath, bundlers without preserveSymlinks, jest haste) see the main repo.
 */
export const SHARE_MODE_NOTES: Record<ShareMode, string> = {
  copy: 'independent copy: safe, slow and disk-hungry for big folders',
  hardlink: 'same files (inodes): in-place edits (patch-package, postinstall scripts) change the main checkout too; same filesystem only',
  symlink: 'one folder for all: npm install in a worktree changes the main checkout; realpath-based resolution sees the main repo',
};

export interface WorktreeSetup {
  /** Globs relative to the repository root of files copied into each new worktree (.env*, config/*.local.json). */
  copy?: string[];
  /** Directories of the main checkout brought into each worktree. */
  share?: { path: string; mode: ShareMode }[];
  /** argv run in the new worktree after checkout (no shell), e.g. ["npm", "ci"]. */
  command?: string[];
  commandTimeoutMs?: number;
  /** Check out only the ticket's files (and the root's files): fast on big repos, the agent sees less. */
  sparse?: boolean;
}

export interface WorktreeOptions {
  repo: string;
  worktreesDir: string;
  /** The target branch's tip (new worktrees start there). */
  targetTip: () => Promise<string>;
  /** The target branch's name (to notice an agent committing to it directly). */
  targetBranch?: string;
  setup?: WorktreeSetup;
  /** The git common dir (for info/exclude); default <repo>/.git. */
  commonDir?: string;
  /** How many prepared worktrees to keep ready (0: none). */
  poolSize?: number;
  log: Logger;
}

/** What `git worktree add` writes to its registration's lock file until the checkout is whole (C locale). */
const ADD_LOCK_REASON = 'initializing';

/** git in cwd through the one runner; the exit code is returned, not thrown. */
function gitRun(cwd: string, args: readonly string[], env?: Record<string, string>): Promise<GitResult> {
  return runGit(args, { cwd, reject: false, ...(env && { env }) });
}

/** git in cwd that must succeed: its trimmed stdout (a GitError otherwise). */
const g = gitText;

async function rev(cwd: string, ref: string): Promise<string | undefined> {
  const r = await gitRun(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return r.ok ? r.stdout.trim() : undefined;
}

/** Reflog entries of ref made at or after sinceSec (unix seconds), newest first, as "<commit> <subject>". */
async function reflogSince(cwd: string, ref: string, sinceSec: number): Promise<string[]> {
  const out = (await gitRun(cwd, ['reflog', 'show', '--date=unix', '--format=%H%x09%gd%x09%gs', ref])).stdout;
  const entries: string[] = [];
  for (const line of out.split('\n')) {
    const [c, gd, subject = ''] = line.split('\t');
    const at = Number(/@\{(\d+)\}/.exec(gd ?? '')?.[1]);
    if (!c || !(at >= sinceSec)) continue;
    entries.push(`${c} ${subject}`);
  }
  return entries;
}

/** A glob segment (`*`, `?`, `[...]`) as a regular expression. */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (const ch of seg) re += ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : /[.+^${}()|\\]/.test(ch) ? `\\${ch}` : ch;
  return new RegExp(`^${re}$`);
}

/** Files of dir matching a repository-relative glob (`**` any depth; .git and node_modules skipped for `**`). */
export function globFiles(dir: string, pattern: string): string[] {
  const segs = pattern.split('/').filter(Boolean);
  const out: string[] = [];
  const walk = (abs: string, rel: string, i: number): void => {
    if (i === segs.length) {
      try {
        if (statSync(abs).isFile()) out.push(rel);
      } catch {
        /* dangling */
      }
      return;
    }
    const seg = segs[i]!;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return;
    }
    if (seg === '**') {
      walk(abs, rel, i + 1);
      for (const n of names) {
        if (n === '.git' || n === 'node_modules') continue;
        const p = join(abs, n);
        try {
          if (lstatSync(p).isDirectory()) walk(p, rel ? `${rel}/${n}` : n, i);
        } catch {
          /* gone */
        }
      }
      return;
    }
    const re = segmentRegex(seg);
    for (const n of names) if (re.test(n) && n !== '.git') walk(join(abs, n), rel ? `${rel}/${n}` : n, i + 1);
  };
  walk(dir, '', 0);
  return out;
}

/** Hard-links every file of src into dst (directories are created). */
function hardlinkTree(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    const d = join(dst, e.name);
    if (e.isDirectory()) hardlinkTree(s, d);
    else if (e.isSymbolicLink()) cpSync(s, d, { verbatimSymlinks: true });
    else
      try {
        linkSync(s, d);
      } catch {
        copyFileSync(s, d);
      }
  }
}

function execArgv(argv: string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${String(stdout)}${String(stderr)}` });
    });
  });
}

export interface SetupTimings {
  checkoutMs: number;
  setupMs: number;
  pooled: boolean;
  sparse: boolean;
}

export class WorktreeManager {
  /** How long each prepared worktree took (the last few; the bench and the log read these). */
  readonly timings: { ticketId: string; totalMs: number; t: SetupTimings }[] = [];
  private pool: string[] = [];
  private refilling: Promise<void> | undefined;
  private poolSeq = 0;

  private readonly cleanup: WorktreeCleanup;

  constructor(private readonly opts: WorktreeOptions) {
    this.cleanup = new WorktreeCleanup({
      repo: opts.repo,
      worktreesDir: opts.worktreesDir,
      targetBranch: opts.targetBranch,
      saveWip: (it, message) =>
        this.saveWip(
          { id: it.ticketId ?? 'x', ticketId: it.ticketId ?? 'x', attempt: 0, branch: it.branch, worktree: it.path, slot: 0, startedAt: 0 },
          message,
        ),
    });
  }

  get worktreesDir(): string {
    return this.opts.worktreesDir;
  }

  private get poolDir(): string {
    return join(this.opts.worktreesDir, '.pool');
  }

  worktreePath(ticketId: string): string {
    return join(this.opts.worktreesDir, ticketId);
  }

  branchOf(ticketId: string): string {
    return `orchard/${ticketId}`;
  }

  private targetTip(): Promise<string> {
    return this.opts.targetTip();
  }

  private commonDir(): string {
    return this.opts.commonDir ?? join(this.opts.repo, '.git');
  }

  /**
   * No run uses this worktree now (live runs are adopted, never prepared again), so a lock file
   * left by a killed git process (index.lock, HEAD.lock, the branch's ref lock) is stale.
   */
  private async clearStaleLocks(path: string, branch: string, gitdir?: string): Promise<void> {
    gitdir ??= (await gitRun(path, ['rev-parse', '--absolute-git-dir'])).stdout.trim();
    if (gitdir)
      await clearStaleLocks([...worktreeLocks(gitdir), this.refLock(branch)], { dirs: [path], mention: [branch, `refs/heads/${branch}`] }, this.opts.log);
  }

  private refLock(branch: string): string {
    return join(this.commonDir(), 'refs', 'heads', `${branch}.lock`);
  }

  /**
   * A `git worktree add` killed half-way (Orchard's process died) leaves HEAD at a placeholder
   * object, or HEAD right but the checkout unfinished. Point HEAD back at the ticket's branch if
   * needed, and bring back tracked files missing from the working tree: otherwise the next agent
   * (or Orchard's own commit of leftover work) would commit their deletion and the merge would
   * delete other tickets' files from the target. Files that are there stay as they are; an
   * earlier attempt's uncommitted work was already committed or saved on a WIP ref.
   */
  private async repairHead(path: string, branch: string, base: string): Promise<void> {
    const gitdir = (await gitRun(path, ['rev-parse', '--absolute-git-dir'])).stdout.trim();
    // A merge or rebase in progress was left on purpose (a ticket sent back with its conflict):
    // the agent resolves it; nothing here may touch it.
    if (gitdir && ['MERGE_HEAD', 'REBASE_HEAD', 'CHERRY_PICK_HEAD', 'rebase-merge', 'rebase-apply'].some((f) => existsSync(join(gitdir, f)))) return;
    await this.clearStaleLocks(path, branch, gitdir);
    let resetIndex = gitdir !== '' && !existsSync(join(gitdir, 'index'));
    if (!(await gitRun(path, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).ok) {
      this.opts.log.warn(`${path}: HEAD was unreadable (an interrupted worktree setup); pointing it back at ${branch}`);
      if (!(await rev(this.opts.repo, `refs/heads/${branch}`))) await g(this.opts.repo, ['branch', branch, base]);
      await g(path, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
      resetIndex = true;
    }
    if (gitdir && (await this.finishInterruptedAdd(path, branch, gitdir))) return;
    // A missing index shows every file as deleted: rebuild it from HEAD (the files stay as they are).
    if (resetIndex) await g(path, ['reset', '--mixed', '--quiet']);
    const missing = (await gitRun(path, ['ls-files', '--deleted', '-z'])).stdout.split('\0').filter(Boolean);
    if (missing.length) this.opts.log.warn(`${path}: ${missing.length} tracked file(s) missing (an interrupted checkout); restoring them`);
    for (let i = 0; i < missing.length; i += 500) await g(path, ['checkout', '--', ...missing.slice(i, i + 500)]);
  }

  /**
   * `git worktree add` locks its registration ("initializing") before it writes a file and
   * unlocks it once the checkout is whole. Found locked, the add was killed: every file in the
   * folder came from that checkout, and one was being written (a soak seed's agent then
   * committed README.md cut short, and the merge put it on main). Tracked files are set back to
   * the branch tip and the lock removed. No agent ever ran there; should an older Orchard have
   * let one, whatever differs is kept on refs/orchard/setup-kept/ first.
   */
  private async finishInterruptedAdd(path: string, branch: string, gitdir: string): Promise<boolean> {
    const locked = join(gitdir, 'locked');
    let reason: string;
    try {
      reason = readFileSync(locked, 'utf8').trim();
    } catch {
      return false;
    }
    if (reason !== ADD_LOCK_REASON) return false;
    const changed = (await gitRun(path, ['stash', 'create', `orchard: ${branch} files found after an interrupted worktree setup`])).stdout.trim();
    if (changed) {
      const ref = `refs/orchard/setup-kept/${branch}/${Date.now()}`;
      await g(this.opts.repo, ['update-ref', ref, changed]);
      this.opts.log.warn(`${path}: files that differed from ${branch} after an interrupted setup are kept on ${ref}`);
    }
    await g(path, ['reset', '--hard', '--quiet']);
    rmSync(locked, { force: true });
    this.opts.log.warn(`${path}: its setup (git worktree add) was interrupted; tracked files set back to ${branch}`);
    return true;
  }

  async prepareWorktree(ticket: Ticket, _attempt = 1): Promise<WorktreeInfo> {
    const t0 = Date.now();
    const branch = this.branchOf(ticket.id);
    const path = this.worktreePath(ticket.id);
    const repo = this.opts.repo;
    const base = await this.targetTip();
    const branchTip = await rev(repo, `refs/heads/${branch}`);
    // A first attempt has neither: nothing earlier can still be setting it up.
    // A `git worktree add` of this folder left running by a killed Orchard (its `git reset --hard`
    // child still writing files and index) raced the preparation: a retry's agent once committed
    // a file as deleted that the checkout had not written yet. Wait for it.
    if (branchTip || existsSync(path)) await waitForStrayGit({ dirs: [path] }, this.opts.log);
    setAsideBrokenWorktree(path, this.opts.log);
    if (existsSync(join(path, '.git'))) {
      await this.repairHead(path, branch, base);
      // A retry continues in the same worktree, on the same branch, keeping earlier work.
      const mb = branchTip ? (await gitRun(repo, ['merge-base', base, branch])).stdout.trim() : '';
      return { path, branch, base: mb || base, head: await rev(repo, `refs/heads/${branch}`) };
    }
    // Registered but its folder is gone (deleted by an agent or a user): forget it, keep the branch.
    unlockInterruptedAdd(this.commonDir(), path, this.opts.log);
    await setAsideBrokenRegistrations(this.commonDir(), [this.opts.worktreesDir], this.opts.log);
    await gitRun(repo, ['worktree', 'prune']);
    try {
      mkdirSync(this.opts.worktreesDir, { recursive: true });
    } catch (e) {
      throw new Error(
        `Cannot create the worktrees folder ${this.opts.worktreesDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): move away the file in its way or make it writable, or set orchard.worktreeLocation to a writable folder.`,
      );
    }
    if (existsSync(path)) {
      throw new Error(`${path} exists but is not a git worktree of ${repo}; move it away and retry the ticket.`);
    }
    const sparse = !!this.opts.setup?.sparse && ticket.files.length > 0;
    let pooled = false;
    let checkoutMs = 0;
    let setupMs = 0;
    if (!branchTip && !sparse && (await this.claimFromPool(path, branch, base))) {
      pooled = true;
      checkoutMs = Date.now() - t0;
    } else {
      // A ref lock left by a killed `git branch` (worktree add's first step) would fail the add.
      await clearStaleLocks([this.refLock(branch)], { dirs: [path], mention: [branch, `refs/heads/${branch}`] }, this.opts.log);
      // Git refuses the add for the instant another worktree's registration is half-written (the
      // pool or the merge queue adding theirs), before the worktree exists, so it is tried again.
      // `-b` may have made the branch before the refusal: then the next try checks it out.
      await whileWorktreeAdded(async () => {
        if (existsSync(path)) throw new Error(`${path} appeared while its worktree was being added; retry the ticket.`);
        const made = branchTip || (await rev(repo, `refs/heads/${branch}`));
        const args = made
          ? ['worktree', 'add', ...(sparse ? ['--no-checkout'] : []), path, branch]
          : ['worktree', 'add', ...(sparse ? ['--no-checkout'] : []), '-b', branch, path, base];
        // In the C locale the add's lock reads "initializing" (finishInterruptedAdd knows it by that word).
        await g(repo, args, { LC_ALL: 'C' });
      });
      if (sparse) await this.sparseCheckout(path, ticket.files);
      checkoutMs = Date.now() - t0;
      const s0 = Date.now();
      await this.runSetup(path);
      setupMs = Date.now() - s0;
    }
    this.timings.push({ ticketId: ticket.id, totalMs: Date.now() - t0, t: { checkoutMs, setupMs, pooled, sparse } });
    if (this.timings.length > 100) this.timings.shift();
    this.opts.log.debug(`${ticket.id}: worktree ready in ${Date.now() - t0} ms${pooled ? ' (warm pool)' : sparse ? ' (sparse)' : ''}`);
    if (pooled) void this.refillPool();
    const mb = branchTip ? (await gitRun(repo, ['merge-base', base, branch])).stdout.trim() : '';
    return { path, branch, base: mb || base, head: await rev(repo, `refs/heads/${branch}`) };
  }

  /** Limits the checkout to the ticket's files plus the files at the root (package.json, configs). */
  private async sparseCheckout(path: string, files: string[]): Promise<void> {
    const patterns = ['/*', '!/*/', ...files.map((f) => (f.startsWith('/') ? f : `/${f}`))];
    // Every pattern starts with / or !, so none can be read as an option.
    await g(path, ['sparse-checkout', 'set', '--no-cone', ...patterns]);
    await g(path, ['checkout']);
  }

  /** Copies files by glob, brings shared directories in, runs the setup command. */
  async runSetup(path: string): Promise<void> {
    const setup = this.opts.setup;
    if (!setup) return;
    const repo = this.opts.repo;
    for (const pattern of setup.copy ?? []) {
      for (const rel of globFiles(repo, pattern)) {
        const dst = join(path, rel);
        if (existsSync(dst)) continue; // tracked files come from git; never overwrite
        mkdirSync(dirname(dst), { recursive: true });
        copyFileSync(join(repo, rel), dst);
      }
    }
    for (const share of setup.share ?? []) {
      const src = join(repo, share.path);
      const dst = join(path, share.path);
      if (!existsSync(src) || existsSync(dst)) continue;
      mkdirSync(dirname(dst), { recursive: true });
      if (share.mode === 'symlink') symlinkSync(src, dst, 'dir');
      else if (share.mode === 'hardlink') {
        const r = await execArgv(['cp', '-al', src, dst], path, 600_000);
        if (r.code !== 0) {
          rmSync(dst, { recursive: true, force: true });
          hardlinkTree(src, dst);
        }
      } else cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
      // A shared folder must not show up as the agent's change.
      this.exclude(`/${share.path.replace(/^\/+|\/+$/g, '')}`);
    }
    if (setup.command?.length) {
      const r = await execArgv(setup.command, path, setup.commandTimeoutMs ?? 600_000);
      if (r.code !== 0)
        throw new Error(
          `the worktree setup command ${JSON.stringify(setup.command)} exited with ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' ⏎ ')}`,
        );
    }
  }

  /** Adds a line to the repository's info/exclude (shared by all worktrees) once. */
  private exclude(line: string): void {
    try {
      const file = join(this.opts.commonDir ?? join(this.opts.repo, '.git'), 'info', 'exclude');
      mkdirSync(dirname(file), { recursive: true });
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (!text.split('\n').includes(line)) appendFileSync(file, `${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`);
    } catch {
      /* not fatal: the folder may show as untracked */
    }
  }

  /** Keeps Orchard's own files in worktrees (agent-status.json, Claude hook settings) out of commits. */
  excludeOrchardFiles(): void {
    this.exclude('/agent-status.json');
    this.exclude('/.claude/settings.local.json');
  }

  // ---- warm pool ---------------------------------------------------------------------

  /** Prepares worktrees until the pool holds poolSize of them (detached at the target tip, setup done). */
  refillPool(): Promise<void> {
    const want = this.opts.poolSize ?? 0;
    if (want <= 0) return Promise.resolve();
    return (this.refilling ??= (async () => {
      try {
        mkdirSync(this.poolDir, { recursive: true });
        while (this.pool.length < want) {
          const path = join(this.poolDir, `p${process.pid}-${Date.now().toString(36)}-${this.poolSeq++}`);
          const tip = await this.targetTip();
          await whileWorktreeAdded(() => g(this.opts.repo, ['worktree', 'add', '--detach', path, tip], { LC_ALL: 'C' }));
          await this.runSetup(path);
          this.pool.push(path);
        }
      } catch (e) {
        this.opts.log.warn(`could not fill the worktree pool: ${(e as Error).message}`);
      } finally {
        this.refilling = undefined;
      }
    })());
  }

  /** Pool worktrees left from an earlier process are taken back (they hold nothing of anyone's). */
  async adoptPool(): Promise<void> {
    if (!existsSync(this.poolDir)) return;
    const registered = new Set((await listWorktrees(this.opts.repo)).map((w) => w.path));
    for (const name of readdirSync(this.poolDir)) {
      const p = join(this.poolDir, name);
      if (registered.has(p) && !this.pool.includes(p) && (await gitRun(p, ['status', '--porcelain'])).stdout.trim() === '') this.pool.push(p);
    }
  }

  get poolCount(): number {
    return this.pool.length;
  }

  /** Moves a prepared worktree to path and puts it on a new branch at base: ref updates, no checkout. */
  private async claimFromPool(path: string, branch: string, base: string): Promise<boolean> {
    const p = this.pool.shift();
    if (!p) return false;
    try {
      const head = await rev(p, 'HEAD');
      // The target moved since the pool was filled: bring the prepared files along (incremental).
      if (head !== base) await g(p, ['checkout', '--quiet', '--detach', base]);
      await g(this.opts.repo, ['worktree', 'move', p, path]);
      await g(path, ['update-ref', '-m', 'orchard: claimed from the worktree pool', `refs/heads/${branch}`, base, '']);
      await g(path, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
      return true;
    } catch (e) {
      this.opts.log.warn(`worktree pool: could not claim ${p}: ${(e as Error).message}; checking out instead`);
      await gitRun(this.opts.repo, ['worktree', 'remove', '--force', existsSync(path) ? path : p]);
      return false;
    }
  }

  /** Removes the pool's worktrees (they hold no work). */
  async drainPool(): Promise<void> {
    await this.refilling;
    for (const p of this.pool.splice(0)) await gitRun(this.opts.repo, ['worktree', 'remove', '--force', p]);
  }

  // ---- after the run -----------------------------------------------------------------

  async collectChanges(run: Run, message: string): Promise<ChangeSummary> {
    const wt = run.worktree;
    if (!existsSync(wt)) {
      // The worktree is gone; the branch (in the common dir) still holds every commit.
      const base = run.base ?? (await this.targetTip());
      return this.summarise(this.opts.repo, base, `refs/heads/${run.branch}`);
    }
    const status = await g(wt, ['status', '--porcelain', '--untracked-files=normal']);
    if (status !== '') {
      // Uncommitted work is never thrown away: it becomes a commit on the ticket's branch.
      await g(wt, ['add', '-A']);
      await g(wt, ['commit', '--no-verify', '-q', '-m', message]);
    }
    const base = run.base ?? (await this.targetTip());
    return this.summarise(wt, base, 'HEAD');
  }

  private async summarise(cwd: string, base: string, head: string): Promise<ChangeSummary> {
    // Files changed come from git, never from the agent's word.
    const files = (await gitRun(cwd, ['diff', '--name-only', `${base}..${head}`])).stdout.split('\n').filter(Boolean);
    const commits = Number((await gitRun(cwd, ['rev-list', '--count', `${base}..${head}`])).stdout.trim()) || 0;
    return { files, commits };
  }

  /**
   * The worktree as it is (uncommitted files included) as a commit on
   * refs/orchard/wip/<ticket>/<attempt>, without touching the branch, the index or the files.
   */
  async saveWip(run: Run, message: string): Promise<string | undefined> {
    const wt = run.worktree;
    if (!wt || !existsSync(wt)) return undefined;
    const head = await rev(wt, 'HEAD');
    if (!head) return undefined;
    try {
      const tree = await this.worktreeTree(wt);
      const commit = await g(wt, ['commit-tree', tree, '-p', head, '-m', message]);
      const ref = `refs/orchard/wip/${run.ticketId}/${run.attempt}`;
      await g(wt, ['update-ref', '-m', message, ref, commit]);
      return ref;
    } catch (e) {
      this.opts.log.warn(`could not save the work in progress of ${run.id}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The tree of everything in the worktree (committed, changed, untracked; not ignored), through a throw-away index. */
  private async worktreeTree(wt: string): Promise<string> {
    const tmp = mkdtempSync(join(tmpdir(), 'orchard-wip-'));
    try {
      const env = { GIT_INDEX_FILE: join(tmp, 'index') };
      await g(wt, ['read-tree', 'HEAD'], env);
      await g(wt, ['add', '-A'], env);
      return await g(wt, ['write-tree'], env);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  async restartAttempt(run: Run, to: string): Promise<string | undefined> {
    const repo = this.opts.repo;
    const branchRef = `refs/heads/${run.branch}`;
    const tip = await rev(repo, branchRef);
    if (!tip) return undefined;
    const wt = run.worktree && existsSync(join(run.worktree, '.git')) ? run.worktree : undefined;
    if (wt && (await rev(wt, 'HEAD')) !== tip) return undefined; // not on its branch: run inspection's business
    const clean = wt ? (await gitRun(wt, ['status', '--porcelain', '--untracked-files=all'])).stdout.trim() === '' : true;
    if (tip === to && clean) return undefined; // nothing was done yet
    if (!(await gitRun(repo, ['merge-base', '--is-ancestor', to, tip])).ok) return undefined; // history rewritten: keep as is
    const message = `orchard: ${run.ticketId} attempt ${run.attempt} interrupted (restarted from ${to.slice(0, 8)})`;
    let ref: string | undefined;
    if (wt) {
      await this.clearStaleLocks(wt, run.branch);
      ref = await this.saveWip(run, message);
    } else {
      ref = `refs/orchard/wip/${run.ticketId}/${run.attempt}`;
      await g(repo, ['update-ref', '-m', message, ref, tip]);
    }
    // Only once the ref holds every file of the interrupted attempt is anything put back.
    if (!ref || !(await rev(repo, ref))) return undefined;
    if (wt) {
      // The ref must hold the worktree exactly as it is (tracked, changed and untracked files).
      const now = await this.worktreeTree(wt).catch(() => '');
      const held = (await gitRun(wt, ['rev-parse', '--verify', '--quiet', `${ref}^{tree}`])).stdout.trim();
      if (!now || now !== held) {
        this.opts.log.warn(`${run.ticketId}: could not verify ${ref} holds the interrupted attempt's files; the next attempt continues on top of them`);
        return undefined;
      }
      await g(wt, ['reset', '--hard', '--quiet', to]);
      await g(wt, ['clean', '-fdq']);
    } else await g(repo, ['update-ref', '-m', message, branchRef, to, tip]);
    this.opts.log.info(
      `${run.ticketId}: attempt ${run.attempt} was interrupted; the next attempt starts again from ${to.slice(0, 8)} (its work is kept on ${ref})`,
    );
    return ref;
  }

  /**
   * What the agent did to git beyond its branch: deleted its worktree, switched it to another
   * branch, committed to the target branch, rewrote history below its base. Every commit it
   * would otherwise lose is kept on a ref under refs/orchard/; the target branch is never moved.
   */
  async inspectRun(run: Run): Promise<RunInspection> {
    const problems: string[] = [];
    const repaired: string[] = [];
    const repo = this.opts.repo;
    const since = Math.floor(run.startedAt / 1000);
    const keep = async (kind: string, commit: string): Promise<string> => {
      const ref = `refs/orchard/${kind}/${run.ticketId}/${run.attempt}`;
      await gitRun(repo, ['update-ref', ref, commit]);
      return ref;
    };
    if (!run.worktree || !existsSync(run.worktree)) {
      problems.push(`the agent deleted its worktree ${run.worktree}`);
      await gitRun(repo, ['worktree', 'prune']);
      const tip = await rev(repo, `refs/heads/${run.branch}`);
      if (tip) repaired.push(`the branch ${run.branch} still holds its commits (${tip.slice(0, 8)}); the next attempt gets a new worktree`);
      return { problems, repaired };
    }
    const on = (await gitRun(run.worktree, ['symbolic-ref', '--quiet', 'HEAD'])).stdout.trim();
    if (on !== `refs/heads/${run.branch}`) {
      const head = await rev(run.worktree, 'HEAD');
      problems.push(`the agent left its worktree on ${on ? on.replace('refs/heads/', '') : `a detached HEAD (${head?.slice(0, 8)})`} instead of ${run.branch}`);
      const wip = await this.saveWip(run, `orchard: state of ${run.ticketId} before switching back to ${run.branch}`);
      if (head) repaired.push(`kept ${head.slice(0, 8)} on ${await keep('stray', head)}`);
      await gitRun(run.worktree, ['checkout', '--quiet', '--force', run.branch]);
      repaired.push(`switched the worktree back to ${run.branch}${wip ? `; its files are on ${wip}` : ''}`);
    }
    const target = this.opts.targetBranch;
    if (target) {
      // The agent's own HEAD log says whether it checked out or pushed to the target.
      const headLog = (await reflogSince(run.worktree, 'HEAD', since)).map((e) => e.split(' ').slice(1).join(' ')).join('\n');
      const targetLog = await reflogSince(repo, `refs/heads/${target}`, since);
      // Or the target now points at a commit of the agent's (update-ref, push), which Orchard's merges never do.
      const agentHead = await rev(run.worktree, 'HEAD');
      let fromAgent = false;
      for (const l of targetLog) {
        const [c, ...subject] = l.split(' ');
        if (subject.join(' ').startsWith('orchard') || !c || !agentHead) continue;
        // A commit the base already holds was on the target before the run (the reflog has whole seconds).
        const beforeRun = !!run.base && (await gitRun(repo, ['merge-base', '--is-ancestor', c, run.base])).ok;
        if (!beforeRun && (await gitRun(repo, ['merge-base', '--is-ancestor', c, agentHead])).ok) fromAgent = true;
      }
      const touched = new RegExp(`checkout: moving from \\S+ to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(headLog) || fromAgent;
      if (touched && targetLog.length) {
        const newest = targetLog[0]!.split(' ')[0]!;
        problems.push(`the agent changed the target branch ${target} directly`);
        repaired.push(
          `${target} was not moved back (it may hold your work too); its tip ${newest.slice(0, 8)} is kept on ${await keep('target', newest)} — check it and revert by hand if needed`,
        );
      }
    }
    if (run.base) {
      const ok = await gitRun(run.worktree, ['merge-base', '--is-ancestor', run.base, 'HEAD']);
      const branchLog = await reflogSince(repo, `refs/heads/${run.branch}`, since);
      const rewrites = branchLog.filter((l) => /^\w+ (reset:|rebase|commit \(amend\)|filter-branch)/.test(l));
      if (rewrites.length) {
        // Every tip the branch had before a rewrite stays reachable.
        const idx = branchLog.indexOf(rewrites[rewrites.length - 1]!);
        const before = branchLog[idx + 1]?.split(' ')[0];
        if (before) repaired.push(`the branch's history was rewritten; the earlier tip ${before.slice(0, 8)} is kept on ${await keep('rewritten', before)}`);
      }
      if (!ok.ok) problems.push(`the agent rewrote ${run.branch} below its base ${run.base.slice(0, 8)}`);
    }
    return { problems, repaired };
  }

  // ---- cleanup -----------------------------------------------------------------------

  /** Ticket worktrees, prepared pool worktrees, stray folders and orphaned orchard/* branches, with disk use. */
  listStale(activeTickets: ReadonlySet<string> = new Set()): Promise<StaleWorktree[]> {
    return this.cleanup.listStale(activeTickets);
  }

  /**
   * Removes what is safe (cleanup.ts has the rules): merged worktrees and branches, pool
   * worktrees, registrations of deleted folders. With confirm, unmerged ones go too, but their
   * commits are kept first on refs/orchard/archive/<branch> and uncommitted files on a WIP ref.
   */
  async reclaim(items: readonly StaleWorktree[], opts: ReclaimOptions = {}): Promise<ReclaimResult> {
    const res = await this.cleanup.reclaim(items, opts);
    this.pool = this.pool.filter((p) => !res.removed.includes(p));
    return res;
  }

  /** Removes one ticket's worktree: only when its branch is merged, or when the user confirms (commits archived). */
  async removeWorktree(ticketId: string, opts: { confirm?: boolean } = {}): Promise<ReclaimResult> {
    const items = (await this.listStale()).filter((i) => i.ticketId === ticketId && i.kind !== 'orphan-branch');
    return this.reclaim(items, opts);
  }
}

/**
 * A `git worktree add` killed at its very start leaves a folder with no .git file yet, or
 * one empty or cut short: git refuses every command there. Nothing of an agent's can be in
 * it (the agent starts only once the worktree is ready), but it is moved aside, not deleted.
 */
export function setAsideBrokenWorktree(path: string, log: Logger): boolean {
  if (!existsSync(path)) return false;
  const dotGit = join(path, '.git');
  let text = '';
  try {
    if (lstatSync(dotGit).isDirectory()) return false; // a repository of its own: not ours to move
    text = readFileSync(dotGit, 'utf8');
  } catch {
    /* no .git at all */
  }
  const gitdir = /^gitdir: (.+)$/m.exec(text)?.[1]?.trim();
  // Its registration under .git/worktrees/ must be whole too (a kill between the two, or a
  // later prune of the half-made entry, leaves the .git file pointing at nothing).
  if (gitdir && ['HEAD', 'commondir'].every((f) => written(join(isAbsolute(gitdir) ? gitdir : join(path, gitdir), f)))) return false;
  const aside = `${path}.interrupted-${Date.now()}`;
  renameSync(path, aside);
  log.warn(`${path}: its .git file was cut short (an interrupted worktree setup); moved it to ${aside} and setting the worktree up again`);
  return true;
}

/**
 * `git worktree add` locks the new registration ("initializing") until the checkout is done.
 * Killed before that, the lock stays: prune keeps the entry and every later add of the folder
 * fails ("a missing but locked worktree"; a soak seed's ticket failed after 10 tries). This
 * folder is Orchard's own, gone or set aside, and no git works there any more (waited for
 * above): the lock is the killed add's, and it is removed.
 */
export function unlockInterruptedAdd(commonDir: string, path: string, log: Logger): void {
  if (existsSync(path)) return;
  for (const { name, dir: reg } of registrations(commonDir)) {
    const locked = join(reg, 'locked');
    try {
      if (!existsSync(locked) || readFileSync(join(reg, 'gitdir'), 'utf8').trim() !== join(path, '.git')) continue;
      const reason = readFileSync(locked, 'utf8').trim();
      rmSync(locked, { force: true });
      log.warn(
        `${path}: unlocked its registration .git/worktrees/${name} (locked "${reason}" by a git worktree add that was interrupted) so it can be set up again`,
      );
    } catch {
      /* not a whole registration: prune handles it */
    }
  }
}

/** The linked worktrees' registrations (.git/worktrees/<name>). */
function registrations(commonDir: string): { name: string; dir: string }[] {
  const dir = join(commonDir, 'worktrees');
  try {
    return readdirSync(dir).map((name) => ({ name, dir: join(dir, name) }));
  } catch {
    return [];
  }
}

/** The file exists and is not empty (a kill while git wrote it leaves it empty). */
function written(file: string): boolean {
  try {
    return statSync(file).size > 0;
  } catch {
    return false;
  }
}

/**
 * A `git worktree add` killed while it wrote its registration (.git/worktrees/<name>) leaves
 * it without `commondir`, `gitdir` or `HEAD`, or with one of them empty, and then every
 * later `worktree add` of the repository fails ("failed to read .git/worktrees/T13/commondir"; a soak seed failed six
 * tickets on it). A registration like that, of one of Orchard's own folders (`owned`), that no
 * git (this process's included) is still writing, is moved to .git/orchard-broken-worktrees/
 * (it holds only git's bookkeeping: the work is on the branch and in the folder, set aside).
 */
export async function setAsideBrokenRegistrations(
  commonDir: string,
  owned: readonly string[],
  log: Logger,
  gitsNow: () => Promise<GitProcess[]> = () => strayGitProcesses({ includeOwn: true }),
): Promise<void> {
  const whole = (reg: string) => ['commondir', 'gitdir', 'HEAD'].every((f) => written(join(reg, f)));
  for (const { name, dir: reg } of registrations(commonDir)) {
    if (whole(reg)) continue;
    let folder: string | undefined;
    try {
      folder = dirname(readFileSync(join(reg, 'gitdir'), 'utf8').trim()) || undefined;
    } catch {
      /* not written yet, or never */
    }
    if (folder && !owned.some((o) => within(folder!, o))) continue; // the user's: not ours to touch
    const gits = await gitsNow();
    const writing = gits.some((p) =>
      folder ? p.argv.some((a) => within(a, folder!)) || (!!p.cwd && within(p.cwd, folder)) : p.argv.includes('worktree') && p.argv.includes('add'),
    );
    if (writing) continue;
    // Whole now: a `worktree add` finished writing it, and exited, while the processes were
    // read. Moved aside, a live worktree (an agent working in it) would lose its registration:
    // every git command there failed, and the run was taken for a broken one.
    if (whole(reg)) continue;
    const aside = join(commonDir, 'orchard-broken-worktrees', `${name}-${Date.now()}`);
    try {
      mkdirSync(dirname(aside), { recursive: true });
      renameSync(reg, aside);
      log.warn(
        `.git/worktrees/${name}: left half-written by an interrupted git worktree add${folder ? ` of ${folder}` : ''}; moved to ${aside} so worktrees can be added again`,
      );
    } catch {
      /* gone meanwhile */
    }
  }
}

/** Lock files git keeps in a worktree's own git dir while it writes the index or moves HEAD. */
export function worktreeLocks(gitdir: string): string[] {
  return ['index.lock', 'HEAD.lock', 'ORIG_HEAD.lock'].map((f) => join(gitdir, f));
}
