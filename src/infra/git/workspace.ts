// WorkspacePort on real git: one worktree per ticket outside the workspace folder, and
// merges done one at a time in a dedicated integration worktree, never in the user's checkout.
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Run, Ticket } from '../../core/model';
import type { ChangeSummary, Logger, MergeResult, WorkspacePort, WorktreeInfo } from '../../core/ports';
import { git, isClean, listWorktrees, revParse } from './git';

export interface GitWorkspaceOptions {
  repo: string;
  targetBranch: string;
  /** Where ticket worktrees go; default `<repo>.orchard/worktrees`. */
  worktreesDir?: string;
  /** argv run in the integration worktree after each merge; the target moves only if it exits 0. */
  testCommand?: readonly string[];
  testTimeoutMs?: number;
  log: Logger;
}

export function defaultOrchardHome(repo: string): string {
  return join(dirname(repo), `${basename(repo)}.orchard`);
}

export class GitWorkspace implements WorkspacePort {
  readonly worktreesDir: string;
  readonly integrationDir: string;

  constructor(private readonly opts: GitWorkspaceOptions) {
    const home = defaultOrchardHome(opts.repo);
    this.worktreesDir = opts.worktreesDir ?? join(home, 'worktrees');
    this.integrationDir = join(home, 'integration');
  }

  worktreePath(ticketId: string): string {
    return join(this.worktreesDir, ticketId);
  }

  async targetTip(): Promise<string> {
    const tip = await revParse(this.opts.repo, `refs/heads/${this.opts.targetBranch}`);
    if (!tip) {
      throw new Error(
        `The target branch "${this.opts.targetBranch}" does not exist in ${this.opts.repo}; set orchard.targetBranch to an existing branch.`,
      );
    }
    return tip;
  }

  async prepareWorktree(ticket: Ticket, _attempt = 1): Promise<WorktreeInfo> {
    const branch = `orchard/${ticket.id}`;
    const path = this.worktreePath(ticket.id);
    const g = git(this.opts.repo);
    const registered = (await listWorktrees(this.opts.repo)).find((w) => w.path === path);
    const base = await this.targetTip();
    if (registered) {
      // A retry continues in the same worktree, on the same branch, keeping earlier work.
      return { path, branch, base: (await g.raw(['merge-base', base, branch])).trim() || base };
    }
    mkdirSync(this.worktreesDir, { recursive: true });
    if (existsSync(path)) {
      throw new Error(`${path} exists but is not a git worktree of ${this.opts.repo}; move it away and retry the ticket.`);
    }
    const branchExists = (await revParse(this.opts.repo, `refs/heads/${branch}`)) !== undefined;
    if (branchExists) await g.raw(['worktree', 'add', path, branch]);
    else await g.raw(['worktree', 'add', '-b', branch, path, base]);
    return { path, branch, base: branchExists ? (await g.raw(['merge-base', base, branch])).trim() : base };
  }

  async collectChanges(run: Run, message: string): Promise<ChangeSummary> {
    const wt = git(run.worktree);
    if (!(await isClean(run.worktree))) {
      // Uncommitted work is never thrown away: it becomes a commit on the ticket's branch.
      await wt.raw(['add', '-A']);
      await wt.raw(['commit', '--no-verify', '-m', message]);
    }
    const base = run.base ?? (await this.targetTip());
    const files = (await wt.raw(['diff', '--name-only', `${base}..HEAD`])).split('\n').filter(Boolean);
    const commits = Number((await wt.raw(['rev-list', '--count', `${base}..HEAD`])).trim()) || 0;
    return { files, commits };
  }

  private async integrationWorktree(tip: string): Promise<string> {
    const g = git(this.opts.repo);
    const registered = (await listWorktrees(this.opts.repo)).some((w) => w.path === this.integrationDir);
    if (!registered) {
      mkdirSync(dirname(this.integrationDir), { recursive: true });
      await g.raw(['worktree', 'add', '--detach', this.integrationDir, tip]);
    }
    const ig = git(this.integrationDir);
    // Leftovers of an interrupted merge are aborted; the integration worktree holds nothing of its own.
    await ig.raw(['merge', '--abort']).catch(() => undefined);
    await ig.raw(['checkout', '--detach', '--force', tip]);
    await ig.raw(['clean', '-fdq']);
    return this.integrationDir;
  }

  async merge(ticket: Ticket, run: Run): Promise<MergeResult> {
    const target = this.opts.targetBranch;
    for (let attempt = 0; attempt < 5; attempt++) {
      const tip = await this.targetTip();
      const dir = await this.integrationWorktree(tip);
      const ig = git(dir);
      const ahead = Number((await ig.raw(['rev-list', '--count', `${tip}..${run.branch}`])).trim());
      if (ahead === 0) return { kind: 'nothing-to-merge' };
      // simple-git resolves a failed command that wrote only to stdout (git prints CONFLICT
      // there), so the outcome is read from the repository, not from the promise.
      await ig.raw(['merge', '--no-ff', '--no-edit', '-m', `Merge ticket ${ticket.id}: ${ticket.title}`, run.branch]).catch(() => undefined);
      const unmerged = (await ig.raw(['diff', '--name-only', '--diff-filter=U'])).split('\n').filter(Boolean);
      const inProgress = (await revParse(dir, 'MERGE_HEAD')) !== undefined;
      if (unmerged.length || inProgress) {
        await ig.raw(['merge', '--abort']).catch(() => undefined);
        return { kind: 'conflict', files: unmerged };
      }
      const merged = (await ig.raw(['rev-parse', 'HEAD'])).trim();
      const branchTip = await revParse(dir, run.branch);
      const parents = (await ig.raw(['rev-list', '--parents', '-n', '1', merged])).trim().split(' ').slice(1);
      if (parents[0] !== tip || !branchTip || parents[1] !== branchTip) {
        throw new Error(`merging ${run.branch} did not produce a merge commit on ${target} (HEAD ${merged.slice(0, 8)}); the branch is kept, try Merge Now again.`);
      }
      if (this.opts.testCommand?.length) {
        const [cmd, ...args] = this.opts.testCommand;
        const r = await execa(cmd!, args, { cwd: dir, reject: false, all: true, timeout: this.opts.testTimeoutMs ?? 600_000 });
        if (r.exitCode !== 0) return { kind: 'test-failed', output: String(r.all ?? '').slice(-4000) };
      }
      const moved = await this.advanceTarget(target, tip, merged);
      if (moved === 'moved') return { kind: 'merged', commit: merged };
      if (moved !== 'raced') return { kind: 'target-dirty', checkout: moved.dirty };
      this.opts.log.info(`${target} moved while ${ticket.id} was merging; merging again on the new tip`);
    }
    throw new Error(`${target} kept moving while ${ticket.id} was merging; try "Merge Now" again.`);
  }

  /** Compare-and-swap of the target ref; where the target is checked out, fast-forward that checkout only if clean. */
  private async advanceTarget(target: string, expected: string, next: string): Promise<'moved' | 'raced' | { dirty: string }> {
    const checkout = (await listWorktrees(this.opts.repo)).find((w) => w.branch === target);
    if (checkout) {
      if (!(await isClean(checkout.path))) return { dirty: checkout.path };
      if ((await revParse(checkout.path, 'HEAD')) !== expected) return 'raced';
      await git(checkout.path).raw(['merge', '--ff-only', '--quiet', next]).catch(() => undefined);
    } else {
      await git(this.opts.repo).raw(['update-ref', '-m', 'orchard: merge', `refs/heads/${target}`, next, expected]).catch(() => undefined);
    }
    // Success is read back from the ref itself (see merge()).
    return (await revParse(this.opts.repo, `refs/heads/${target}`)) === next ? 'moved' : 'raced';
  }
}
