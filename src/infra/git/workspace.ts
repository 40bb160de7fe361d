// WorkspacePort on real git: ticket worktrees (worktrees.ts) and the merge step (merger.ts).
import { basename, dirname, join } from 'node:path';
import type { Run, Ticket } from '../../core/model';
import type { BatchMergeResult, ChangeSummary, Logger, MergeOptions, MergeResult, RunInspection, WorkspacePort, WorktreeInfo } from '../../core/ports';
import { revParse } from './git';
import { Merger } from './merger';
import { WorktreeManager, type WorktreeSetup } from './worktrees';

export interface GitWorkspaceOptions {
  repo: string;
  targetBranch: string;
  /** Where ticket worktrees go; default `<repo>.orchard/worktrees`. */
  worktreesDir?: string;
  /** Per-repository worktree setup: files to copy, shared folders, setup command, sparse checkout. */
  worktreeSetup?: WorktreeSetup;
  /** Prepared worktrees kept ready (warm pool). */
  worktreePool?: number;
  /** The git common dir (info/exclude lives there). */
  commonDir?: string;
  /** argv run in the integration worktree after each merge; the target moves only if it exits 0. */
  testCommand?: readonly string[];
  testTimeoutMs?: number;
  log: Logger;
}

export function defaultOrchardHome(repo: string): string {
  return join(dirname(repo), `${basename(repo)}.orchard`);
}

export class GitWorkspace implements WorkspacePort {
  readonly worktrees: WorktreeManager;
  readonly merger: Merger;

  constructor(private readonly opts: GitWorkspaceOptions) {
    const home = defaultOrchardHome(opts.repo);
    const targetTip = () => this.targetTip();
    this.worktrees = new WorktreeManager({
      repo: opts.repo,
      worktreesDir: opts.worktreesDir ?? join(home, 'worktrees'),
      targetTip,
      targetBranch: opts.targetBranch,
      setup: opts.worktreeSetup,
      poolSize: opts.worktreePool,
      commonDir: opts.commonDir,
      log: opts.log,
    });
    this.merger = new Merger({
      repo: opts.repo,
      targetBranch: opts.targetBranch,
      integrationDir: join(home, 'integration'),
      testCommand: opts.testCommand,
      testTimeoutMs: opts.testTimeoutMs,
      targetTip,
      log: opts.log,
    });
  }

  get worktreesDir(): string {
    return this.worktrees.worktreesDir;
  }

  get integrationDir(): string {
    return this.merger.integrationDir;
  }

  worktreePath(ticketId: string): string {
    return this.worktrees.worktreePath(ticketId);
  }

  async targetTip(): Promise<string> {
    const tip = await revParse(this.opts.repo, `refs/heads/${this.opts.targetBranch}`);
    if (!tip) {
      if (!(await revParse(this.opts.repo, 'HEAD')))
        throw new Error(`The repository ${this.opts.repo} has no commits yet; make a first commit (git add -A && git commit -m "initial") and run again.`);
      throw new Error(`The target branch "${this.opts.targetBranch}" does not exist in ${this.opts.repo}; set orchard.targetBranch to an existing branch.`);
    }
    return tip;
  }

  prepareWorktree(ticket: Ticket, attempt = 1): Promise<WorktreeInfo> {
    return this.worktrees.prepareWorktree(ticket, attempt);
  }

  collectChanges(run: Run, message: string): Promise<ChangeSummary> {
    return this.worktrees.collectChanges(run, message);
  }

  saveWip(run: Run, message: string): Promise<string | undefined> {
    return this.worktrees.saveWip(run, message);
  }

  restartAttempt(run: Run, to: string): Promise<string | undefined> {
    return this.worktrees.restartAttempt(run, to);
  }

  inspectRun(run: Run): Promise<RunInspection> {
    return this.worktrees.inspectRun(run);
  }

  merge(ticket: Ticket, run: Run, options?: MergeOptions): Promise<MergeResult> {
    return this.merger.merge(ticket, run, options);
  }

  mergeBatch(items: readonly { ticket: Ticket; run: Run }[], options?: MergeOptions): Promise<BatchMergeResult> {
    return this.merger.mergeBatch(items, options);
  }

  predictConflict(branch: string): Promise<string[] | undefined> {
    return this.merger.predictConflict(branch);
  }

  openConflict(ticket: Ticket, run: Run, options?: MergeOptions): Promise<{ dir: string; files: string[] }> {
    return this.merger.openConflict(ticket, run, options);
  }

  continueMerge(ticket: Ticket, run: Run, options?: MergeOptions): Promise<MergeResult> {
    return this.merger.continueMerge(ticket, run, options);
  }

  abandonConflict(ticketId: string): Promise<void> {
    return this.merger.abandonConflict(ticketId);
  }

  bringUpToDate(run: Run): Promise<{ kind: 'rebased' | 'up-to-date' } | { kind: 'conflict'; files: string[] }> {
    return this.merger.bringUpToDate(run);
  }

  discard(run: Run): Promise<string | undefined> {
    return this.merger.discard(run);
  }
}
