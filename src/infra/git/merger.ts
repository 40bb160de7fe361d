// Merges in a dedicated integration worktree (never the user's checkout): bring the ticket's
// branch onto the target tip (merge --no-ff, rebase + fast-forward, or squash), run the
// post-merge tests, then move the target by compare-and-swap; the user's checkout is
// fast-forwarded only when clean (or, when asked, after stashing its changes). Nothing is
// ever reset or forced: a failed step leaves the target where it was.
//
// A merge, rebase or commit that stops (git prints CONFLICT, exits non-zero) is an expected
// outcome, so every outcome is read back from the repository, never from a promise. All git
// goes through the one runner (run.ts).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import type { MergeStrategy, Run, Ticket } from '../../core/model';
import type { BatchMergeResult, Logger, MergeOptions, MergeResult } from '../../core/ports';
import { isClean, listWorktrees, revParse } from './git';
import { GitError, runGit, runGitBuffer, whileWorktreeAdded, type GitOptions, type GitResult } from './run';
import { clearStaleLocks, waitForStrayGit } from './strayGit';
import { setAsideBrokenRegistrations, setAsideBrokenWorktree, unlockInterruptedAdd, worktreeLocks } from './worktrees';

export interface MergerOptions {
  repo: string;
  targetBranch: string;
  integrationDir: string;
  /** argv run in the integration worktree after each merge; the target moves only if it exits 0. */
  testCommand?: readonly string[];
  testTimeoutMs?: number;
  targetTip: () => Promise<string>;
  log: Logger;
}

export type { BatchMergeResult, MergeOptions };

export interface BatchItem {
  ticket: Ticket;
  run: Run;
}

/** State of a conflict left open in the integration worktree for the human. */
interface Hold {
  ticketId: string;
  strategy: MergeStrategy;
  tip: string;
  branch: string;
  branchTip: string;
  message: string;
  files: string[];
}

/** git whose outcome is its exit code (merge-base --is-ancestor, a rebase that may stop): never thrown. */
function gitx(cwd: string, args: string[], opts: Omit<GitOptions, 'cwd' | 'reject'> = {}): Promise<GitResult> {
  return runGit(args, { ...opts, cwd, reject: false });
}

/** git that must succeed (a GitError otherwise): its stdout, untrimmed. */
async function raw(cwd: string, args: string[]): Promise<string> {
  return (await runGit(args, { cwd })).stdout;
}

const isAncestor = async (cwd: string, a: string, b: string): Promise<boolean> => (await gitx(cwd, ['merge-base', '--is-ancestor', a, b])).ok;

type Applied =
  { kind: 'applied'; head: string } | { kind: 'nothing' } | { kind: 'conflict'; files: string[] } | { kind: 'unexpected-tree'; tree: string; expected: string };

export class Merger {
  /** Post-merge test runs so far (benchmarks and the report count them). */
  testRuns = 0;
  /** Total time spent in post-merge tests (ms). */
  testMs = 0;
  private integrationReady = false;

  constructor(private readonly opts: MergerOptions) {}

  get integrationDir(): string {
    return this.opts.integrationDir;
  }

  private targetTip(): Promise<string> {
    return this.opts.targetTip();
  }

  private async integrationWorktree(tip: string): Promise<string> {
    const repo = this.opts.repo;
    // Checked once per Merger (and again whenever the folder is gone).
    if (!this.integrationReady || !existsSync(this.opts.integrationDir)) {
      // First use by this process, which holds the writer lease: only a git left running by a
      // killed Orchard can work in the integration worktree. It is waited for (a merge built
      // beside it got the right parents and the wrong tree), then its lock files are stale.
      const scope = { dirs: [this.opts.integrationDir] };
      await waitForStrayGit(scope, this.opts.log);
      // A `worktree add` of it killed half-way: its .git file cut short (every merge failed on
      // "invalid gitfile format" and escalated) or its registration still locked.
      setAsideBrokenWorktree(this.opts.integrationDir, this.opts.log);
      const common = await this.commonDir();
      unlockInterruptedAdd(common, this.opts.integrationDir, this.opts.log);
      await setAsideBrokenRegistrations(common, [this.opts.integrationDir], this.opts.log);
      const registered = existsSync(this.opts.integrationDir) && (await listWorktrees(this.opts.repo)).some((w) => w.path === this.opts.integrationDir);
      if (!registered) {
        mkdirSync(dirname(this.opts.integrationDir), { recursive: true });
        await raw(repo, ['worktree', 'prune']).catch(() => undefined);
        // Another ticket's worktree being added right now fails this add for an instant (a soak seed).
        await whileWorktreeAdded(() => raw(repo, ['worktree', 'add', '--detach', this.opts.integrationDir, tip]));
      } else if (!this.readHold()) {
        const gitdir = (await gitx(this.opts.integrationDir, ['rev-parse', '--absolute-git-dir'])).stdout.trim();
        if (gitdir) await clearStaleLocks(worktreeLocks(gitdir), scope, this.opts.log);
      }
      this.integrationReady = true;
    }
    const held = this.readHold();
    if (held) throw new Error(`the integration worktree holds the open conflict of ${held.ticketId}; continue, send back, keep or discard it first`);
    await this.cleanIntegration();
    const ig = this.opts.integrationDir;
    await raw(ig, ['checkout', '--detach', '--force', tip]);
    await raw(ig, ['clean', '-fdq']);
    return this.opts.integrationDir;
  }

  /** Leftovers of an interrupted merge or rebase are aborted; the integration worktree holds nothing of its own. */
  private async cleanIntegration(): Promise<void> {
    const dir = this.opts.integrationDir;
    const state = await this.operationState(dir);
    if (state.merge) await raw(dir, ['merge', '--abort']).catch(() => undefined);
    if (state.rebase) await raw(dir, ['rebase', '--abort']).catch(() => undefined);
    if (state.cherryPick) await raw(dir, ['cherry-pick', '--abort']).catch(() => undefined);
  }

  /** Which operation is in progress in a worktree, from its admin files (one git call). */
  private async operationState(dir: string): Promise<{ merge: boolean; rebase: boolean; cherryPick: boolean }> {
    const names = ['MERGE_HEAD', 'rebase-merge', 'rebase-apply', 'CHERRY_PICK_HEAD'];
    const out = (await raw(dir, ['rev-parse', ...names.flatMap((n) => ['--git-path', n])])).trim().split('\n');
    const has = (i: number) => {
      const p = out[i]?.trim();
      return !!p && existsSync(isAbsolute(p) ? p : join(dir, p));
    };
    return { merge: has(0), rebase: has(1) || has(2), cherryPick: has(3) };
  }

  private async commonDir(): Promise<string> {
    const r = await gitx(this.opts.repo, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
    return r.ok && r.stdout.trim() ? r.stdout.trim() : join(this.opts.repo, '.git');
  }

  private holdFile(): string {
    // In the repository's common dir (the integration worktree's admin folder may not exist yet).
    return join(dirname(this.opts.integrationDir), 'integration-hold.json');
  }

  private readHold(): Hold | undefined {
    try {
      return JSON.parse(readFileSync(this.holdFile(), 'utf8')) as Hold;
    } catch {
      return undefined;
    }
  }

  /** The ticket whose conflict is open in the integration worktree, if any. */
  heldBy(): string | undefined {
    return this.readHold()?.ticketId;
  }

  private async unmerged(dir: string): Promise<string[]> {
    return (await raw(dir, ['diff', '--name-only', '--diff-filter=U'])).split('\n').filter(Boolean);
  }

  private async inProgress(dir: string): Promise<boolean> {
    // Not REBASE_HEAD: git leaves it behind after a successful rebase --continue.
    const st = await this.operationState(dir);
    return st.merge || st.rebase || st.cherryPick;
  }

  /** Brings `branch` onto the integration worktree's HEAD (`prev`) with the strategy. On conflict the state is left for the caller. */
  private async apply(strategy: MergeStrategy, prev: string, branch: string, message: string): Promise<Applied> {
    const dir = this.opts.integrationDir;
    const branchTip = await revParse(dir, branch);
    if (!branchTip) throw new Error(`the branch ${branch} does not exist; the ticket's work cannot be merged`);
    const ahead = Number((await raw(dir, ['rev-list', '--count', `${prev}..${branchTip}`])).trim());
    if (ahead === 0) return { kind: 'nothing' };
    if (strategy === 'merge') {
      await raw(dir, ['merge', '--no-ff', '--no-edit', '-m', message, branchTip]).catch(() => undefined);
    } else if (strategy === 'squash') {
      await raw(dir, ['merge', '--squash', branchTip]).catch(() => undefined);
    } else {
      await gitx(dir, ['rebase', '--no-autosquash', prev, branchTip]);
    }
    const files = await this.unmerged(dir);
    if (files.length || (strategy !== 'squash' && (await this.inProgress(dir)))) return { kind: 'conflict', files };
    if (strategy === 'squash') {
      const staged = (await raw(dir, ['diff', '--cached', '--name-only'])).trim();
      if (!staged) return { kind: 'nothing' };
      await raw(dir, ['commit', '--no-verify', '-q', '-m', message]).catch(() => undefined);
    }
    return this.verify(strategy, prev, branchTip);
  }

  /** Reads back what apply() produced and checks it is what the strategy promises. */
  private async verify(strategy: MergeStrategy, prev: string, branchTip: string): Promise<Applied> {
    const ig = this.opts.integrationDir;
    const head = (await raw(ig, ['rev-parse', 'HEAD'])).trim();
    if (head === prev) return { kind: 'nothing' };
    const parents = (await raw(ig, ['rev-list', '--parents', '-n', '1', head])).trim().split(' ').slice(1);
    const ok =
      strategy === 'merge'
        ? parents[0] === prev && parents[1] === branchTip
        : strategy === 'squash'
          ? parents.length === 1 && parents[0] === prev
          : (await isAncestor(this.opts.integrationDir, prev, head)) && (await raw(ig, ['rev-list', '--merges', '--count', `${prev}..${head}`])).trim() === '0';
    if (!ok)
      throw new Error(
        `bringing ${branchTip.slice(0, 8)} onto the target with ${strategy} did not give the expected commit (HEAD ${head.slice(0, 8)}); the branch is kept, try Merge Now again.`,
      );
    // The right parents are not enough: a merge written beside another git (one a killed Orchard
    // left running) once had them and lacked the branch's change. Its tree must be the one
    // `git merge-tree` computes from the two commits alone (rebase replays commit by commit).
    if (strategy !== 'rebase') {
      const expected = await gitx(this.opts.repo, ['merge-tree', '--write-tree', '--no-messages', prev, branchTip]);
      const tree = (await raw(ig, ['rev-parse', `${head}^{tree}`])).trim();
      const want = expected.ok ? expected.stdout.split('\n')[0]!.trim() : '';
      if (want && tree !== want) return { kind: 'unexpected-tree', tree, expected: want };
    }
    return { kind: 'applied', head };
  }

  private async runTests(dir: string): Promise<{ ok: true } | { ok: false; output: string }> {
    if (!this.opts.testCommand?.length) return { ok: true };
    const [cmd, ...args] = this.opts.testCommand;
    const t0 = Date.now();
    this.testRuns++;
    const r = await execa(cmd!, args, { cwd: dir, reject: false, all: true, timeout: this.opts.testTimeoutMs ?? 600_000 });
    this.testMs += Date.now() - t0;
    if (r.exitCode === 0) return { ok: true };
    const why = r.timedOut
      ? `the test command timed out after ${Math.round((this.opts.testTimeoutMs ?? 600_000) / 1000)} s\n`
      : `the test command exited with ${r.exitCode ?? r.signal}\n`;
    return { ok: false, output: (why + String(r.all ?? '')).slice(-4000) };
  }

  private static message(ticket: Ticket): string {
    return `Merge ticket ${ticket.id}: ${ticket.title}`;
  }

  /** Whether the branch would conflict with the target tip (or `onto`), by `git merge-tree --write-tree`: the files, or undefined when clean. */
  async predictConflict(branch: string, onto?: string): Promise<string[] | undefined> {
    const base = onto ?? (await this.targetTip());
    const args = ['merge-tree', '--write-tree', '--name-only', '--no-messages', base, branch];
    const r = await gitx(this.opts.repo, args);
    if (r.exitCode === 0) return undefined;
    if (r.exitCode === 1) return r.stdout.split('\n').slice(1).filter(Boolean);
    this.opts.log.debug(`merge-tree could not predict ${branch}: ${r.stderr.trim()}`);
    return undefined;
  }

  async merge(ticket: Ticket, run: Run, options: MergeOptions = {}): Promise<MergeResult> {
    const r = await this.mergeBatch([{ ticket, run }], options);
    if (r.kind === 'merged') {
      const commit = r.commits[ticket.id];
      return commit ? { kind: 'merged', commit, ...(r.note && { note: r.note }) } : { kind: 'nothing-to-merge', containedIn: await this.targetTip() };
    }
    if (r.kind === 'conflict') return { kind: 'conflict', files: r.files };
    return r;
  }

  /**
   * Merges the items one after the other onto the target tip (the chain one-at-a-time merging
   * would build), tests the top once, and moves the target there by compare-and-swap. When the
   * target moves meanwhile, the chain is rebuilt on the new tip.
   */
  async mergeBatch(items: readonly BatchItem[], options: MergeOptions = {}): Promise<BatchMergeResult> {
    const strategy = options.strategy ?? 'merge';
    const target = this.opts.targetBranch;
    const unexpected = new Map<string, string>();
    for (let attempt = 0; attempt < 5; attempt++) {
      const tip = await this.targetTip();
      const dir = await this.integrationWorktree(tip);
      const commits: Record<string, string> = {};
      let head = tip;
      let redo = false;
      for (const { ticket, run } of items) {
        const a = await this.apply(strategy, head, run.branch, Merger.message(ticket));
        if (a.kind === 'conflict') {
          await this.cleanIntegration();
          return { kind: 'conflict', ticketId: ticket.id, files: a.files };
        }
        if (a.kind === 'unexpected-tree') {
          // Merged again from scratch; the same tree twice is what this repository's merge
          // gives (a merge driver of its .gitattributes), not a merge that went wrong.
          const key = `${head}:${run.branch}`;
          if (unexpected.get(key) !== a.tree) {
            unexpected.set(key, a.tree);
            this.opts.log.warn(
              `${ticket.id}: the merge gave tree ${a.tree.slice(0, 8)}, not ${a.expected.slice(0, 8)} as git merge-tree computes; merging again from scratch`,
            );
            redo = true;
            break;
          }
          head = (await raw(this.opts.integrationDir, ['rev-parse', 'HEAD'])).trim();
          commits[ticket.id] = head;
          continue;
        }
        commits[ticket.id] = a.kind === 'applied' ? a.head : '';
        if (a.kind === 'applied') head = a.head;
      }
      if (redo) continue;
      if (head === tip) return { kind: 'merged', commits, top: tip };
      const tests = await this.runTests(dir);
      if (!tests.ok) return { kind: 'test-failed', output: tests.output };
      const moved = await this.advanceTarget(target, tip, head, options.stashDirty);
      if (moved.kind === 'moved') return { kind: 'merged', commits, top: head, ...(moved.note && { note: moved.note }) };
      if (moved.kind === 'dirty') return { kind: 'target-dirty', checkout: moved.checkout };
      this.opts.log.info(`${target} moved while ${items.map((i) => i.ticket.id).join(', ')} merged; merging again on the new tip`);
    }
    throw new Error(`${target} kept moving while ${items.map((i) => i.ticket.id).join(', ')} merged; try "Merge Now" again.`);
  }

  /**
   * "Open the conflicted files": redoes the merge in the integration worktree and leaves the
   * conflict there for the human. Returns the integration worktree and the conflicted files.
   */
  async openConflict(ticket: Ticket, run: Run, options: MergeOptions = {}): Promise<{ dir: string; files: string[] }> {
    const existing = this.readHold();
    if (existing?.ticketId === ticket.id) return { dir: this.opts.integrationDir, files: existing.files };
    const strategy = options.strategy ?? 'merge';
    const tip = await this.targetTip();
    const dir = await this.integrationWorktree(tip);
    const message = Merger.message(ticket);
    const a = await this.apply(strategy, tip, run.branch, message);
    if (a.kind !== 'conflict') {
      // It merges cleanly now (the target changed): nothing to resolve by hand.
      await this.cleanIntegration();
      await raw(dir, ['checkout', '--detach', '--force', tip]);
      return { dir, files: [] };
    }
    const branchTip = (await revParse(dir, run.branch))!;
    const hold: Hold = { ticketId: ticket.id, strategy, tip, branch: run.branch, branchTip, message, files: a.files };
    writeFileSync(this.holdFile(), JSON.stringify(hold, null, 2));
    return { dir, files: a.files };
  }

  /** Files of the open conflict that still hold conflict markers or are unmerged. */
  private async stillConflicted(hold: Hold): Promise<string[]> {
    const dir = this.opts.integrationDir;
    const out = new Set<string>();
    for (const f of hold.files) {
      let text = '';
      try {
        text = readFileSync(join(dir, f), 'utf8');
      } catch {
        continue; // deleted as the resolution
      }
      if (/^(<<<<<<<|>>>>>>>)( |$)/m.test(text) || /^=======$/m.test(text)) out.add(f);
    }
    return [...out];
  }

  /** "Continue Merge": after the human resolved the conflict in the integration worktree. */
  async continueMerge(ticket: Ticket, _run: Run, options: MergeOptions = {}): Promise<MergeResult> {
    const hold = this.readHold();
    if (!hold || hold.ticketId !== ticket.id) throw new Error(`no conflict of ${ticket.id} is open in the integration worktree; open it first`);
    const dir = this.opts.integrationDir;
    const left = await this.stillConflicted(hold);
    if (left.length) return { kind: 'conflict', files: left };
    await raw(dir, ['add', '-A']);
    if (hold.strategy === 'rebase') {
      await gitx(dir, ['rebase', '--continue']);
      const files = await this.unmerged(dir);
      if (files.length || (await this.inProgress(dir))) {
        // The next commit of the branch conflicts too: the conflict stays open with those files.
        writeFileSync(this.holdFile(), JSON.stringify({ ...hold, files }, null, 2));
        return { kind: 'conflict', files };
      }
    } else {
      await raw(dir, ['commit', '--no-verify', '-q', '-m', hold.message]).catch(() => undefined);
      if (await this.inProgress(dir)) return { kind: 'conflict', files: await this.unmerged(dir) };
    }
    let head = (await raw(dir, ['rev-parse', 'HEAD'])).trim();
    if (head === hold.tip) {
      rmSync(this.holdFile(), { force: true });
      return { kind: 'nothing-to-merge' };
    }
    await this.verify(hold.strategy, hold.tip, hold.branchTip);
    rmSync(this.holdFile(), { force: true });
    let tip = hold.tip;
    for (let attempt = 0; attempt < 5; attempt++) {
      const tests = await this.runTests(dir);
      if (!tests.ok) return { kind: 'test-failed', output: tests.output };
      const moved = await this.advanceTarget(this.opts.targetBranch, tip, head, options.stashDirty);
      if (moved.kind === 'moved') return { kind: 'merged', commit: head };
      if (moved.kind === 'dirty') return { kind: 'target-dirty', checkout: moved.checkout };
      // The target moved meanwhile: bring the resolved work onto the new tip.
      const resolved = head;
      tip = await this.targetTip();
      await raw(dir, ['checkout', '--detach', '--force', tip]);
      if (hold.strategy === 'merge') await raw(dir, ['merge', '--no-ff', '--no-edit', '-m', hold.message, resolved]).catch(() => undefined);
      else await gitx(dir, ['rebase', '--onto', tip, hold.tip, resolved]);
      const files = await this.unmerged(dir);
      if (files.length || (await this.inProgress(dir))) {
        await this.cleanIntegration();
        return { kind: 'conflict', files };
      }
      head = (await raw(dir, ['rev-parse', 'HEAD'])).trim();
    }
    throw new Error(`${this.opts.targetBranch} kept moving while ${ticket.id} merged; try "Merge Now" again.`);
  }

  /** Drops the open conflict (send back, keep for later, discard): the integration worktree is cleaned. */
  async abandonConflict(ticketId?: string): Promise<void> {
    const hold = this.readHold();
    if (ticketId && hold && hold.ticketId !== ticketId) return;
    rmSync(this.holdFile(), { force: true });
    if (existsSync(this.opts.integrationDir)) {
      await this.cleanIntegration();
      const tip = await this.targetTip();
      await raw(this.opts.integrationDir, ['checkout', '--detach', '--force', tip]).catch(() => undefined);
      await raw(this.opts.integrationDir, ['clean', '-fdq']).catch(() => undefined);
    }
  }

  /**
   * "Send back rebased onto the target": in the ticket's worktree, rebase its branch onto the
   * target tip (the old tip is kept under refs/orchard/backup/); when that conflicts, the target
   * is merged in instead and the conflict is left in the worktree for the agent to resolve.
   */
  async bringUpToDate(run: Run): Promise<{ kind: 'rebased' | 'up-to-date' } | { kind: 'conflict'; files: string[] }> {
    const wt = run.worktree;
    const tip = await this.targetTip();
    const head = (await raw(wt, ['rev-parse', 'HEAD'])).trim();
    if (await isAncestor(run.worktree, tip, head)) return { kind: 'up-to-date' };
    if (!(await isClean(run.worktree))) {
      await raw(wt, ['add', '-A']);
      // Not thrown when there was nothing git could commit (only stdout, as before): HEAD is read back next.
      const commit = ['commit', '--no-verify', '-q', '-m', `orchard: work in progress of ${run.ticketId}`];
      const c = await gitx(wt, commit);
      if (!c.ok && c.stderr.trim()) throw new GitError(commit, wt, c.exitCode, c.stderr);
    }
    const before = (await raw(wt, ['rev-parse', 'HEAD'])).trim();
    await raw(this.opts.repo, ['update-ref', `refs/orchard/backup/${run.ticketId}/${Date.now()}`, before]);
    await gitx(run.worktree, ['rebase', tip]);
    const rebasing = (await this.inProgress(run.worktree)) || (await this.unmerged(run.worktree)).length > 0;
    if (!rebasing) return { kind: 'rebased' };
    await raw(wt, ['rebase', '--abort']).catch(() => undefined);
    await raw(wt, ['merge', '--no-commit', '--no-ff', tip]).catch(() => undefined);
    return { kind: 'conflict', files: await this.unmerged(run.worktree) };
  }

  /**
   * "Discard": the branch's work is kept under refs/orchard/discarded/<ticket>/<time> (nothing
   * is lost); the worktree is removed only when it is clean, then the branch ref goes.
   */
  async discard(run: Run): Promise<string | undefined> {
    const repo = this.opts.repo;
    const tip = await revParse(repo, `refs/heads/${run.branch}`);
    if (!tip) return undefined;
    const ref = `refs/orchard/discarded/${run.ticketId}/${Date.now()}`;
    await raw(repo, ['update-ref', '-m', 'orchard: discarded', ref, tip]);
    if ((await revParse(repo, ref)) !== tip) throw new Error(`could not keep ${run.branch} under ${ref}; nothing was discarded`);
    const wt = (await listWorktrees(repo)).find((w) => w.branch === run.branch);
    if (wt) {
      if (!(await isClean(wt.path))) return ref; // uncommitted work stays where it is
      await raw(repo, ['worktree', 'remove', wt.path]).catch(() => undefined);
      if ((await listWorktrees(repo)).some((w) => w.path === wt.path)) return ref;
    }
    await raw(repo, ['update-ref', '-d', `refs/heads/${run.branch}`, tip]).catch(() => undefined);
    return ref;
  }

  private ffIntentFile(): string {
    return join(dirname(this.opts.integrationDir), 'fast-forward-intent.json');
  }

  /**
   * Orchard died while fast-forwarding the user's checkout: git was writing the new index and
   * files but had not yet moved the branch (its lock files are left). A kill can land anywhere
   * in that write: the index old or new, some files at the new commit and some still at the
   * old. When every difference in the checkout is such a half-written path (it lies in
   * from..to and holds exactly the from or the to version, in the index and on disk), the
   * fast-forward is finished; anything else (a path outside from..to, content of neither
   * version) is the user's and the checkout is left alone.
   */
  private async finishInterruptedFastForward(checkout: string, target: string): Promise<void> {
    const file = this.ffIntentFile();
    if (!existsSync(file)) return;
    let intent: { checkout: string; target: string; from: string; to: string };
    try {
      intent = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      rmSync(file, { force: true });
      return;
    }
    // The intent goes only once the fast-forward is finished or found not to be Orchard's to
    // finish: a kill while finishing it (a soak seed: the intent removed first, the checkout
    // then "dirty" for every later merge) leaves it for the next process.
    const done = () => rmSync(file, { force: true });
    if (intent.checkout !== checkout || intent.target !== target) return done();
    // The killed Orchard's `git merge --ff-only` may still be running: it finishes the job itself.
    const scope = { dirs: [checkout], mention: [target, `refs/heads/${target}`] };
    await waitForStrayGit(scope, this.opts.log);
    const head = await revParse(checkout, 'HEAD');
    // HEAD at `to`: the branch was moved (by git, or by an earlier finish killed before its reset).
    if (head !== intent.from && head !== intent.to) return done();
    const run = (args: string[]) => gitx(checkout, args, { asUser: true });
    const gitdir = (await run(['rev-parse', '--absolute-git-dir'])).stdout.trim();
    const common = (await run(['rev-parse', '--path-format=absolute', '--git-common-dir'])).stdout.trim();
    if (gitdir) await clearStaleLocks([...worktreeLocks(gitdir), ...(common ? [join(common, 'refs', 'heads', `${target}.lock`)] : [])], scope, this.opts.log);
    if (!(await this.onlyHalfWritten(checkout, intent.from, intent.to))) return done();
    if (head === intent.from) {
      const moved = await run(['update-ref', '-m', 'orchard: merge (finishing an interrupted fast-forward)', `refs/heads/${target}`, intent.to, intent.from]);
      if (moved.exitCode !== 0 || (await revParse(checkout, 'HEAD')) !== intent.to) return done();
    }
    // Every dirty path was checked to hold the from or the to version: writing `to` loses nothing.
    await run(['reset', '--hard', '--quiet', intent.to]);
    done();
    this.opts.log.warn(`finished a fast-forward of ${target} in ${checkout} that an earlier Orchard process left half-done`);
  }

  /**
   * True when the checkout (HEAD at `from` or `to`) differs from HEAD only in paths of from..to,
   * each holding the from or the to version in the index and in the working tree (or absent
   * where one of them lacks the path). Untracked files count: git writes new files before the index.
   */
  private async onlyHalfWritten(checkout: string, from: string, to: string): Promise<boolean> {
    const run = (args: string[]) => gitx(checkout, args, { asUser: true });
    const diff = await run(['diff', '--name-only', '-z', '--no-renames', from, to]);
    if (diff.exitCode !== 0) return false;
    const changed = new Set(diff.stdout.split('\0').filter(Boolean));
    const status = await run(['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
    if (status.exitCode !== 0) return false;
    const dirty = status.stdout
      .split('\0')
      .filter(Boolean)
      .map((e) => e.slice(3));
    if (dirty.length === 0) return false; // nothing was written: the normal fast-forward follows
    const blob = async (rev: string, p: string) => (await run(['rev-parse', '--verify', '--quiet', `${rev}:${p}`])).stdout.trim() || undefined;
    for (const p of dirty) {
      if (!changed.has(p)) return false;
      const versions = [await blob(from, p), await blob(to, p)];
      const ok = (b: string | undefined) => versions.includes(b);
      const staged = (await run(['ls-files', '-s', '-z', '--', p])).stdout.split('\0').filter(Boolean);
      if (staged.length > 1) return false; // a conflict: not something a fast-forward writes
      if (!ok(staged[0]?.split(/\s+/)[1])) return false;
      const abs = join(checkout, p);
      const onDisk = existsSync(abs) ? (await run(['hash-object', '--', p])).stdout.trim() || 'unreadable' : undefined;
      if (!ok(onDisk) && !(await this.cutShortWrite(checkout, abs, versions[1]))) return false;
    }
    return true;
  }

  /**
   * True when the file holds the first bytes of blob `to` (an empty file included): git writes a
   * new file from its start, so a kill inside that write leaves a prefix (a soak seed: an empty
   * src/t23.txt taken for the user's file, every later merge "target-dirty"). Writing `to` over
   * a prefix of `to` loses nothing.
   */
  private async cutShortWrite(checkout: string, abs: string, to: string | undefined): Promise<boolean> {
    if (!to) return false;
    let disk: Buffer;
    try {
      disk = readFileSync(abs);
    } catch {
      return false;
    }
    const blob = await runGitBuffer(['cat-file', 'blob', to], { cwd: checkout, reject: false, asUser: true });
    if (!blob.ok) return false;
    const full = Buffer.from(blob.stdout as Uint8Array);
    return disk.length < full.length && full.subarray(0, disk.length).equals(disk);
  }

  /** Compare-and-swap of the target ref; where the target is checked out, fast-forward that checkout only if clean (or stashed). */
  private async advanceTarget(
    target: string,
    expected: string,
    next: string,
    stashDirty = false,
  ): Promise<{ kind: 'moved'; note?: string } | { kind: 'raced' } | { kind: 'dirty'; checkout: string }> {
    const checkout = (await listWorktrees(this.opts.repo)).find((w) => w.branch === target);
    let note: string | undefined;
    if (checkout) {
      await this.finishInterruptedFastForward(checkout.path, target);
      if ((await revParse(checkout.path, 'HEAD')) !== expected) return { kind: 'raced' };
      let stashed = false;
      if (!(await isClean(checkout.path))) {
        if (!stashDirty) return { kind: 'dirty', checkout: checkout.path };
        const before = await revParse(checkout.path, 'refs/stash');
        await raw(checkout.path, ['stash', 'push', '--include-untracked', '-m', `orchard: before updating ${target}`]).catch(() => undefined);
        stashed = (await revParse(checkout.path, 'refs/stash')) !== before;
        if (!stashed || !(await isClean(checkout.path))) return { kind: 'dirty', checkout: checkout.path };
      }
      // The reflog says it was Orchard (run inspection tells Orchard's moves of the target from an agent's).
      // GIT_REFLOG_ACTION through the runner (run.ts): simple-git's environment guard rejected the whole
      // call when the user's environment held GIT_SSL_CAINFO, GIT_ASKPASS, … and the merge silently never happened.
      // The editor's own git (VS Code's git extension runs `git status` all the time) holds
      // index.lock for a moment: that is a wait, not a race.
      // Written before and removed after: if Orchard dies half-way through the fast-forward,
      // the next merge finishes it instead of taking the half-updated checkout for the user's edits.
      writeFileSync(this.ffIntentFile(), JSON.stringify({ checkout: checkout.path, target, from: expected, to: next }));
      let locked = '';
      for (let i = 0; i < 40; i++) {
        const r = await gitx(checkout.path, ['merge', '--ff-only', '--quiet', next], { env: { GIT_REFLOG_ACTION: 'orchard: merge' }, asUser: true });
        locked = !r.ok && /index\.lock|cannot lock ref|Unable to create/i.test(r.stderr) ? r.stderr : '';
        if (!locked) break;
        await new Promise((res) => setTimeout(res, 150));
      }
      rmSync(this.ffIntentFile(), { force: true });
      const lockFile =
        locked && (await revParse(checkout.path, 'HEAD')) === expected
          ? (/'([^']+\.lock)'/.exec(locked)?.[1] ?? join(checkout.path, '.git', 'index.lock'))
          : undefined;
      if (stashed) {
        // --index: what the user had staged is staged again (a plain pop leaves it all unstaged);
        // where the index cannot be put back as it was, the files still are.
        const popped = (await gitx(checkout.path, ['stash', 'pop', '--index'])).ok;
        if (!popped && (await isClean(checkout.path))) await raw(checkout.path, ['stash', 'pop']).catch(() => undefined);
        const stillThere = (await raw(checkout.path, ['stash', 'list', '-n', '1'])).includes(`orchard: before updating ${target}`);
        note = stillThere
          ? `your changes did not apply cleanly on the new ${target}; they are kept in stash@{0} (git stash pop to retry)`
          : `your uncommitted changes were stashed and put back`;
      }
      if (lockFile) {
        throw new Error(
          `${lockFile} stayed locked for 6 s: another git process is working in your checkout of ${target} (or one was killed and left the lock behind). If no git command is running there, delete ${lockFile}, then choose Merge Now.${note ? ` Note: ${note}.` : ''}`,
        );
      }
    } else {
      await raw(this.opts.repo, ['update-ref', '-m', 'orchard: merge', `refs/heads/${target}`, next, expected]).catch(() => undefined);
    }
    // Success is read back from the ref itself.
    return (await revParse(this.opts.repo, `refs/heads/${target}`)) === next ? { kind: 'moved', ...(note && { note }) } : { kind: 'raced' };
  }
}
