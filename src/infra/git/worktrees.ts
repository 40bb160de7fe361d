// Ticket worktrees: one per ticket outside the workspace folder, on branch orchard/<id>,
// created from the target tip; uncommitted agent work is committed, never dropped.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Run, Ticket } from '../../core/model';
import type { ChangeSummary, Logger, WorktreeInfo } from '../../core/ports';
import { git, isClean, listWorktrees, revParse } from './git';

export interface WorktreeOptions {
  repo: string;
  worktreesDir: string;
  /** The target branch's tip (new worktrees start there). */
  targetTip: () => Promise<string>;
  log: Logger;
}

export class WorktreeManager {
  constructor(private readonly opts: WorktreeOptions) {}

  get worktreesDir(): string {
    return this.opts.worktreesDir;
  }

  worktreePath(ticketId: string): string {
    return join(this.opts.worktreesDir, ticketId);
  }

  private targetTip(): Promise<string> {
    return this.opts.targetTip();
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
    mkdirSync(this.opts.worktreesDir, { recursive: true });
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

}
