// The merge desk owns the merge queue: which finished tickets wait to merge and in what order,
// the one lock on the integration worktree, merging one ticket or a batch (bisecting on a
// failure), and recording each result (merged, nothing to merge, conflict, dirty checkout,
// tests failed). The ways out of a stopped merge stay with the orchestrator, which uses this.
import type { DeskContext } from './deskContext';
import { errorText } from './errors';
import type { OrchardEventBody } from './events';
import { createEscalation, type EscalationTrigger } from './escalations';
import type { MergeAttempt } from './model';
import { BatchBisector, orderQueue, planBatch, type QueueEntry } from './mergeQueue';
import type { BatchMergeResult, MergeOptions, MergeResult } from './ports';
import { checkGeneration } from './locks';
import { failureContext, type FailureKind } from './retry';
import { assertTransition } from './transitions';
import { CONFLICT_WAYS, DIRTY_WAYS, MERGE_ERROR_WAYS, type WayOut } from './waysOut';

/** What the desk needs of the orchestrator beyond every desk's context: its failure handling and idle check. */
export interface MergeDeskContext extends DeskContext {
  afterFailure(ticketId: string, runId: string, kind: FailureKind, why: string, output?: string): Promise<void>;
  /** Events that end a review loop the merged ticket belongs to. */
  loopStopEvents(ticketId: string): OrchardEventBody[];
  checkIdle(): void;
  disposed(): boolean;
}

export class MergeDesk {
  constructor(private readonly ctx: MergeDeskContext) {}

  /** How many tickets wait in the queue. */
  get pending(): number {
    return this.queue.length;
  }

  /** Takes the ticket out of the queue (cancelled, sent back, kept or discarded). */
  remove(ticketId: string): void {
    this.queue = this.queue.filter((id) => id !== ticketId);
  }

  /** Puts back a ticket found queued after a restart (its place by its priority, not by a new arrival time). */
  restore(ticketId: string): void {
    if (!this.queue.includes(ticketId)) this.queue.push(ticketId);
  }

  /** The ticket's next merge may stash the user's dirty checkout of the target (Stash and update). */
  allowStash(ticketId: string): void {
    this.stashNext.add(ticketId);
  }

  /** The stash permission was used by a merge that finished. */
  stashUsed(ticketId: string): void {
    this.stashNext.delete(ticketId);
  }

  /** When each queued ticket entered the queue (for its order). */
  private readonly queuedAt = new Map<string, number>();
  /** Tickets whose next merge may stash the user's dirty checkout of the target. */
  private readonly stashNext = new Set<string>();
  private mergeLock: Promise<unknown> = Promise.resolve();
  private draining: Promise<void> | undefined;
  /** Ticket ids waiting to merge, in arrival order (the merge order is computed from them). */
  private queue: string[] = [];
  /** A merge (or a batch) is under way. */
  busy = false;

  enqueue(ticketId: string, front = false): void {
    this.queue = this.queue.filter((id) => id !== ticketId);
    if (front) this.queue.unshift(ticketId);
    else this.queue.push(ticketId);
    if (!this.queuedAt.has(ticketId) || front) this.queuedAt.set(ticketId, front ? -Infinity : this.ctx.ports.clock.now());
  }

  /** Serialises everything that uses the integration worktree. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.mergeLock.then(fn, fn);
    this.mergeLock = next.catch(() => undefined);
    return next;
  }

  /** The ticket whose conflict the human is resolving in the integration worktree (the queue waits for it). */
  heldBy(): string | undefined {
    for (const t of Object.values(this.ctx.state().tickets)) if (t.conflict?.resolving && t.status === 'escalated') return t.id;
    return undefined;
  }

  options(ticketId: string): MergeOptions {
    return { strategy: this.ctx.settings().mergeStrategy ?? 'merge', ...(this.stashNext.has(ticketId) && { stashDirty: true }) };
  }

  /** The merge queue in merge order, with merge-tree predictions against the current tip. */
  async order(): Promise<QueueEntry[]> {
    const entries: QueueEntry[] = [];
    for (const id of this.queue) {
      const t = this.ctx.state().tickets[id];
      if (!t || t.status !== 'queued-for-merge') continue;
      let predictedConflict = false;
      const run = this.ctx.currentRun(id);
      if (run && this.ctx.settings().predictConflicts !== false && this.queue.length > 1) {
        predictedConflict = ((await this.ctx.ports.workspace.predictConflict(run.branch).catch(() => undefined)) ?? undefined) !== undefined;
      }
      entries.push({ ticketId: id, priority: t.priority, queuedAt: this.queuedAt.get(id) ?? 0, predictedConflict });
    }
    return orderQueue(entries);
  }

  drain(): Promise<void> {
    if (this.draining) return this.draining;
    if (this.queue.length === 0) return Promise.resolve();
    this.busy = true;
    this.draining = (async () => {
      // Yield first: the finally below must run after this.draining is assigned.
      await Promise.resolve();
      try {
        // A conflict left open for a ticket that was cancelled meanwhile must not block the queue.
        for (const t of Object.values(this.ctx.state().tickets)) {
          if (!t.conflict?.resolving || t.status === 'escalated') continue;
          await this.withLock(async () => this.ctx.ports.workspace.abandonConflict(t.id));
          await this.ctx.commit([{ type: 'merge-conflict-handled', id: t.id, how: 'resolved' }]);
        }
        while (this.queue.length && !this.heldBy() && !this.ctx.disposed()) {
          const order = await this.order();
          if (order.length === 0) {
            this.queue = [];
            break;
          }
          const batch = this.ctx.settings().batchMerge ? planBatch(order, this.ctx.settings().maxBatch ?? 8) : [order[0]!.ticketId];
          const predicted = new Set(order.filter((e) => e.predictedConflict).map((e) => e.ticketId));
          this.queue = this.queue.filter((id) => !batch.includes(id));
          const ready: string[] = [];
          for (const id of batch) if (await this.readyToMerge(id)) ready.push(id);
          if (ready.length === 0) continue;
          if (ready.length === 1) await this.withLock(() => this.mergeOne(ready[0]!, predicted.has(ready[0]!)));
          else await this.withLock(() => this.mergeBatchBisecting(ready));
          this.ctx.requestPump();
        }
      } finally {
        this.busy = false;
        this.draining = undefined;
        this.ctx.checkIdle();
      }
    })();
    return this.draining;
  }

  /** Checks the ticket may still merge (its locks were not taken over) and moves it to merging. */
  private async readyToMerge(id: string): Promise<boolean> {
    const t = this.ctx.state().tickets[id];
    if (!t || t.status !== 'queued-for-merge') return false;
    const run = this.ctx.currentRun(id)!;
    if (run.lockGenerations && this.ctx.settings().mode !== 'isolation') {
      const held = checkGeneration(this.ctx.state().locks, run.id, run.lockGenerations);
      if (!held.ok) {
        const lost = held.lost[0]!;
        await this.ctx.afterFailure(
          id,
          run.id,
          'gate-failed',
          `lost its lock on ${lost.pattern} (${lost.why}${lost.now ? ` by ${lost.now.ticketId}` : ''}); redoing it on the new work`,
        );
        return false;
      }
    }
    await this.ctx.transition(id, 'merging');
    return true;
  }

  private async mergeOne(id: string, predicted = false): Promise<void> {
    const t = this.ctx.ticket(id);
    const run = this.ctx.currentRun(id)!;
    const started = this.ctx.ports.clock.now();
    const options = this.options(id);
    let result: MergeResult;
    try {
      result = await this.ctx.ports.workspace.merge(t, run, options);
    } catch (err) {
      await this.recordMerge(id, run.id, { result: 'error', output: errorText(err) }, started);
      await this.ctx.transition(id, 'queued-for-merge', `merge could not finish: ${errorText(err)}`);
      await this.escalateMerge(id, run.id, `the merge could not finish: ${errorText(err)}`, errorText(err), MERGE_ERROR_WAYS);
      return;
    }
    this.stashNext.delete(id);
    await this.applyResult(id, run.id, result, started, predicted);
  }

  private async recordMerge(id: string, runId: string, a: Omit<MergeAttempt, 'at' | 'durationMs' | 'strategy'>, started: number): Promise<void> {
    const attempt: MergeAttempt = {
      at: this.ctx.ports.clock.now(),
      durationMs: this.ctx.ports.clock.now() - started,
      strategy: this.ctx.settings().mergeStrategy ?? 'merge',
      ...a,
    };
    if (attempt.output) attempt.output = attempt.output.slice(-2000);
    await this.ctx.commit([{ type: 'merge-attempted', id, runId, attempt }]);
  }

  async applyResult(id: string, runId: string, result: MergeResult, started: number, predicted = false, extra: Partial<MergeAttempt> = {}): Promise<void> {
    const status = this.ctx.ticket(id).status;
    if (result.kind === 'merged') {
      await this.recordMerge(id, runId, { result: 'merged', commit: result.commit, ...extra, ...(result.note && { output: result.note }) }, started);
      await this.ctx.commit([
        { type: 'ticket-merged', id, commit: result.commit },
        { type: 'ticket-status', id, from: status, to: 'done', reason: `merged as ${result.commit.slice(0, 8)}${result.note ? `; ${result.note}` : ''}` },
        { type: 'lock-released', runId, reason: 'merged' },
        ...(this.ctx.ticket(id).conflict ? [{ type: 'merge-conflict-handled' as const, id, how: 'resolved' as const }] : []),
        ...this.ctx.loopStopEvents(id),
      ]);
    } else if (result.kind === 'nothing-to-merge') {
      await this.recordMerge(id, runId, { result: 'nothing-to-merge', ...extra }, started);
      // Merged before a crash but not yet recorded: record it now, once, as contained in the target.
      const containedIn = result.containedIn && !this.ctx.ticket(id).mergedAs ? result.containedIn : undefined;
      await this.ctx.commit([
        ...(containedIn ? [{ type: 'ticket-merged' as const, id, commit: containedIn }] : []),
        { type: 'ticket-status', id, from: status, to: 'done', reason: 'nothing to merge: the target already has these changes' },
        { type: 'lock-released', runId, reason: 'merged' },
        ...this.ctx.loopStopEvents(id),
      ]);
    } else if (result.kind === 'conflict') {
      await this.recordMerge(id, runId, { result: 'conflict', files: result.files, ...extra }, started);
      await this.ctx.commit([{ type: 'merge-conflict', id, runId, files: result.files, ...(predicted && { predicted: true }) }]);
      await this.escalateMerge(
        id,
        runId,
        `merge conflict in ${result.files.join(', ') || 'the branch'}${predicted ? ' (predicted by git merge-tree)' : ''}`,
        `Merging ${this.ctx.currentRun(id)?.branch} into ${this.ctx.settings().targetBranch} conflicts in:\n${result.files.map((f) => `- ${f}`).join('\n')}`,
        CONFLICT_WAYS,
        'conflict',
      );
    } else if (result.kind === 'target-dirty') {
      await this.recordMerge(id, runId, { result: 'target-dirty', ...extra }, started);
      await this.escalateMerge(
        id,
        runId,
        `${this.ctx.settings().targetBranch} is checked out with uncommitted changes in ${result.checkout}; the merge waits (stash and update, or later)`,
        `The merged and tested result is ready, but ${result.checkout} has uncommitted changes, so ${this.ctx.settings().targetBranch} was not moved.`,
        DIRTY_WAYS,
      );
    } else {
      await this.recordMerge(id, runId, { result: 'test-failed', output: result.output, ...extra }, started);
      await this.sendBackAfterTests(id, runId, result.output);
    }
  }

  /** A failure after merge: the target did not move; the ticket goes back (rebased) with the failing output. */
  private async sendBackAfterTests(id: string, runId: string, output: string): Promise<void> {
    const run = this.ctx.state().runs[runId]!;
    const r = await this.ctx.ports.workspace.bringUpToDate(run).catch((err) => ({ kind: 'error' as const, message: errorText(err) }));
    const note =
      r.kind === 'rebased'
        ? `\nYour branch was rebased onto the latest ${this.ctx.settings().targetBranch}.`
        : r.kind === 'conflict'
          ? `\nThe latest ${this.ctx.settings().targetBranch} is merged into your worktree with conflicts in ${r.files.join(', ')}; resolve them.`
          : '';
    await this.ctx.commit([
      {
        type: 'ticket-handoff',
        id,
        context: failureContext({ kind: 'test-failed-after-merge', message: 'the post-merge test command failed', output }, run.attempt) + note,
      },
    ]);
    // merging → ready (retry, with the handoff above as its context) or → failed when retries are used up.
    await this.ctx.afterFailure(id, runId, 'test-failed-after-merge', `tests failed after merge: ${lastLines(output, 3)}`, output);
  }

  private async escalateMerge(
    id: string,
    runId: string,
    why: string,
    context: string,
    ways: readonly WayOut[],
    trigger: EscalationTrigger = 'conflict',
  ): Promise<void> {
    const e = createEscalation(
      { ticketId: id, runId, trigger, question: `${id}: ${why}`, context: context.slice(-20_000), ways },
      `${runId}-merge-${this.ctx.state().seq}`,
      this.ctx.ports.clock.now(),
    );
    // The question and the ticket's move to "escalated" are one commit: nobody sees one without the other.
    const status = this.ctx.ticket(id).status;
    const moves: OrchardEventBody[] = [];
    if (status !== 'escalated') {
      assertTransition(id, status, 'escalated');
      moves.push({ type: 'ticket-status', id, from: status, to: 'escalated', reason: why });
    }
    await this.ctx.commit([{ type: 'escalation-raised', escalation: e }, ...moves]);
  }

  /** Batch mode: merge several together, test once; bisect on failure (see core/mergeQueue.ts). */
  private async mergeBatchBisecting(ids: string[]): Promise<void> {
    const b = new BatchBisector(ids);
    const lastFailure = new Map<string, string>();
    const started = this.ctx.ports.clock.now();
    for (;;) {
      const step = b.next();
      if (step.kind === 'done') {
        for (const id of [...step.requeue].reverse()) {
          if (this.ctx.ticket(id).status === 'merging') await this.ctx.transition(id, 'queued-for-merge', 'back in the queue after the batch found a culprit');
          this.enqueue(id, true);
        }
        return;
      }
      if (step.kind === 'culprit') {
        const run = this.ctx.currentRun(step.id)!;
        const output = lastFailure.get(step.id) ?? 'the batch that contained it failed its tests';
        await this.recordMerge(step.id, run.id, { result: 'test-failed', output, batch: ids }, started);
        await this.sendBackAfterTests(step.id, run.id, output);
        b.culprit();
        continue;
      }
      const items = step.ids.map((id) => ({ ticket: this.ctx.ticket(id), run: this.ctx.currentRun(id)! }));
      let r: BatchMergeResult;
      try {
        r = await this.ctx.ports.workspace.mergeBatch(items, { strategy: this.ctx.settings().mergeStrategy ?? 'merge' });
      } catch (err) {
        r = { kind: 'test-failed', output: `the batch merge could not finish: ${errorText(err)}` };
      }
      if (r.kind === 'merged') {
        for (const id of step.ids) {
          const commit = r.commits[id];
          await this.applyResult(id, this.ctx.currentRun(id)!.id, commit ? { kind: 'merged', commit } : { kind: 'nothing-to-merge' }, started, false, {
            batch: step.ids,
          });
        }
        b.report(true);
      } else if (r.kind === 'test-failed') {
        for (const id of step.ids) lastFailure.set(id, r.output);
        b.report(false);
      } else if (r.kind === 'conflict') {
        await this.applyResult(r.ticketId, this.ctx.currentRun(r.ticketId)!.id, { kind: 'conflict', files: r.files }, started, false, { batch: step.ids });
        b.drop(r.ticketId);
      } else {
        // The user's checkout is dirty: this step waits for the human (stash and update, or later);
        // the rest of the batch goes back to the queue.
        for (const id of step.ids) await this.applyResult(id, this.ctx.currentRun(id)!.id, r, started, false, { batch: step.ids });
        for (const id of ids) {
          if (this.ctx.ticket(id).status !== 'merging') continue;
          await this.ctx.transition(id, 'queued-for-merge', 'back in the queue: the target checkout is dirty');
          this.enqueue(id, true);
        }
        return;
      }
    }
  }
}

/** The last n lines of a command's output, on one line (for a reason). */
function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join(' ⏎ ').slice(-400);
}
