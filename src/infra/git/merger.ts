// Merges, one at a time, in a dedicated integration worktree (never the user's checkout):
// merge the ticket's branch onto the target tip, run the post-merge tests, then move the
// target by compare-and-swap; the user's checkout is fast-forwarded only when clean.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';
import type { Run, Ticket } from '../../core/model';
import type { Logger, MergeResult } from '../../core/ports';
import { git, isClean, listWorktrees, revParse } from './git';

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

export class Merger {
  constructor(private readonly opts: MergerOptions) {}

  get integrationDir(): string {
    return this.opts.integrationDir;
  }

  private targetTip(): Promise<string> {
    return this.opts.targetTip();
  }

  private async integrationWorktree(tip: string): Promise<string> {
    const g = git(this.opts.repo);
    const registered = (await listWorktrees(this.opts.repo)).some((w) => w.path === this.opts.integrationDir);
    if (!registered) {
      mkdirSync(dirname(this.opts.integrationDir), { recursive: true });
      await g.raw(['worktree', 'add', '--detach', this.opts.integrationDir, tip]);
    }
    const ig = git(this.opts.integrationDir);
    // Leftovers of an interrupted merge are aborted; the integration worktree holds nothing of its own.
    await ig.raw(['merge', '--abort']).catch(() => undefined);
    await ig.raw(['checkout', '--detach', '--force', tip]);
    await ig.raw(['clean', '-fdq']);
    return this.opts.integrationDir;
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
