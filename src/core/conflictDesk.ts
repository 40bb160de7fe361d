// The conflict desk owns the ways out of a stopped merge (a conflict, failed gates or merge,
// a dirty checkout of the target, a ticket kept for later): open the conflicted files and
// continue the merge, send back, keep, discard, merge now, stash and update; and it closes
// Orchard's own questions about the ticket with the way taken.
import type { DeskContext } from './deskContext';
import { answerEscalation } from './escalations';
import { OrchestratorError, errorText } from './errors';
import type { OrchardEventBody } from './events';
import type { MergeDesk } from './mergeDesk';
import type { Run, Ticket, TicketStatus } from './model';
import type { MergeResult } from './ports';
import { failureContext } from './retry';
import { requireStatus } from './transitions';
import { WAY_OUT_LABELS, wayOutOf, type WayOut } from './waysOut';

/** What the desk needs of the orchestrator beyond every desk's context: the merge desk. */
export interface ConflictDeskContext extends DeskContext {
  merges: MergeDesk;
}

export class ConflictDesk {
  constructor(private readonly ctx: ConflictDeskContext) {}

  private requireStatus(id: string, allowed: readonly TicketStatus[], what: string): Ticket {
    return requireStatus(this.ctx.ticket(id), allowed, what);
  }

  private mergeableRun(id: string): Run {
    const run = this.ctx.currentRun(id);
    if (!run || run.outcome !== 'succeeded') throw new OrchestratorError('not-allowed', `${id} has no finished run with changes to merge.`);
    return run;
  }

  /**
   * Takes a way out of a stopped merge (the answer to Orchard's own question, or a command).
   * Choosing Discard is the confirmation (the branch is kept under refs/orchard/discarded/);
   * "Later" leaves the question open.
   */
  async takeWayOut(id: string, way: WayOut, guidance?: string): Promise<void> {
    switch (way) {
      case 'merge-now':
        return this.mergeNow(id);
      case 'open-conflicts':
        await this.openConflict(id);
        return;
      case 'send-back':
        return this.sendBack(id, guidance);
      case 'keep-for-later':
        return this.keepForLater(id);
      case 'discard':
        await this.discard(id, true);
        return;
      case 'stash-and-update':
        return this.stashAndUpdate(id);
      case 'later':
        return;
    }
  }

  /** Closes Orchard's own open questions about the ticket, answered with the way out taken. */
  private async closeMergeEscalations(id: string, way: WayOut): Promise<void> {
    const now = this.ctx.ports.clock.now();
    const bodies: OrchardEventBody[] = [];
    const label = WAY_OUT_LABELS[way];
    for (const e of Object.values(this.ctx.state().escalations)) {
      if (e.ticketId !== id || e.answer || e.askedBy) continue;
      const option = e.options.find((o) => wayOutOf(e, o) === way);
      bodies.push({ type: 'escalation-answered', id: e.id, answer: { ...answerEscalation(e, { option, guidance: label, by: 'human' }, now).answer } });
    }
    await this.ctx.commit(bodies);
  }

  /**
   * "Open the conflicted files": leaves the ticket's conflict in the integration worktree
   * (the queue waits) and returns that folder and the conflicted files (absolute paths).
   * The human resolves them there, then calls continueMerge.
   */
  async openConflict(id: string): Promise<{ dir: string; files: string[] }> {
    const t = this.requireStatus(id, ['escalated'], 'Open the conflicted files');
    const run = this.mergeableRun(id);
    const held = this.ctx.merges.heldBy();
    if (held && held !== id)
      throw new OrchestratorError(
        'not-allowed',
        `The integration worktree holds the conflict of ${held}; finish it first (Continue Merge, send back, keep or discard).`,
      );
    const r = await this.ctx.merges.withLock(() => this.ctx.ports.workspace.openConflict(t, run, this.ctx.merges.options(id)));
    if (r.files.length === 0) {
      // It merges cleanly now: straight to the queue.
      await this.mergeNow(id);
      return { dir: r.dir, files: [] };
    }
    await this.ctx.commit([
      ...(t.conflict ? [] : [{ type: 'merge-conflict' as const, id, runId: run.id, files: r.files }]),
      { type: 'merge-conflict-handled', id, how: 'resolving' },
    ]);
    await this.closeMergeEscalations(id, 'open-conflicts');
    return { dir: r.dir, files: r.files.map((f) => `${r.dir.replace(/\/$/, '')}/${f}`) };
  }

  /** "Continue Merge": the human resolved the conflict in the integration worktree; test, then move the target. */
  async continueMerge(id: string): Promise<MergeResult> {
    const t = this.requireStatus(id, ['escalated'], 'Continue Merge');
    const run = this.mergeableRun(id);
    if (!t.conflict?.resolving) {
      throw new OrchestratorError('not-allowed', `${id} has no conflict open in the integration worktree; choose "Open the conflicted files" first.`);
    }
    const started = this.ctx.ports.clock.now();
    const result = await this.ctx.merges.withLock(async () => {
      const r = await this.ctx.ports.workspace.continueMerge(t, run, this.ctx.merges.options(id));
      if (r.kind === 'conflict') return r; // still unresolved: nothing changes, the human goes on
      await this.ctx.transition(id, 'queued-for-merge', 'conflict resolved by the human');
      await this.ctx.transition(id, 'merging');
      if (r.kind !== 'merged' && r.kind !== 'nothing-to-merge') {
        await this.ctx.ports.workspace.abandonConflict(id);
        await this.ctx.commit([{ type: 'merge-conflict-handled', id, how: 'resolved' }]);
      }
      this.ctx.merges.stashUsed(id);
      await this.ctx.merges.applyResult(id, run.id, r, started);
      return r;
    });
    this.ctx.requestPump();
    return result;
  }

  /** Sends the ticket back to its agent, rebased onto the target, with the conflict (or failure) as context. */
  async sendBack(id: string, guidance?: string): Promise<void> {
    const t = this.requireStatus(id, ['escalated', 'queued-for-merge', 'failed'], 'Send back to the agent');
    const run = this.ctx.currentRun(id);
    await this.ctx.merges.withLock(async () => {
      if (t.conflict?.resolving) await this.ctx.ports.workspace.abandonConflict(id);
    });
    let note = '';
    if (run) {
      const r = await this.ctx.ports.workspace.bringUpToDate(run).catch((err) => ({ kind: 'error' as const, message: errorText(err) }));
      note =
        r.kind === 'rebased'
          ? `Your branch was rebased onto the latest ${this.ctx.settings().targetBranch}.`
          : r.kind === 'conflict'
            ? `The latest ${this.ctx.settings().targetBranch} is merged into your worktree and conflicts in ${r.files.join(', ')}: resolve the conflict markers, keeping both intents, and commit.`
            : r.kind === 'up-to-date'
              ? ''
              : `Could not bring the branch up to date: ${'message' in r ? r.message : ''}`;
    }
    const conflict = t.conflict;
    const context = [
      conflict
        ? failureContext({ kind: 'merge-conflict', files: conflict.files }, run?.attempt ?? t.attempts)
        : t.reason
          ? `Previous attempt: ${t.reason}`
          : '',
      note,
      guidance ? `Guidance from the human: ${guidance}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    await this.ctx.commit([
      { type: 'ticket-handoff', id, context },
      ...(conflict ? [{ type: 'merge-conflict-handled' as const, id, how: 'sent-back' as const }] : []),
      ...(run ? [{ type: 'lock-released' as const, runId: run.id, reason: 'sent back to its agent' }] : []),
    ]);
    await this.closeMergeEscalations(id, 'send-back');
    this.ctx.merges.remove(id);
    await this.ctx.transition(id, 'ready', `sent back to its agent${conflict ? ` with the conflict in ${conflict.files.join(', ')}` : ''}`);
    this.ctx.requestPump();
  }

  /** Keeps the branch for later: the ticket waits (escalated) until Merge Now, Send Back or Discard. */
  async keepForLater(id: string): Promise<void> {
    const t = this.requireStatus(id, ['escalated', 'queued-for-merge'], 'Keep the branch for later');
    await this.ctx.merges.withLock(async () => {
      if (t.conflict?.resolving) await this.ctx.ports.workspace.abandonConflict(id);
    });
    const run = this.ctx.currentRun(id);
    this.ctx.merges.remove(id);
    await this.ctx.commit([
      ...(t.conflict ? [{ type: 'merge-conflict-handled' as const, id, how: 'kept' as const }] : []),
      ...(run ? [{ type: 'lock-released' as const, runId: run.id, reason: 'kept for later' }] : []),
    ]);
    await this.closeMergeEscalations(id, 'keep-for-later');
    if (t.status === 'queued-for-merge') await this.ctx.transition(id, 'escalated', `kept for later: branch ${run?.branch ?? `orchard/${id}`}`);
    this.ctx.requestPump();
  }

  /**
   * Discards the ticket's work. Nothing unmerged is deleted without confirmed=true, and even
   * then the branch is kept under refs/orchard/discarded/<ticket>/<time>.
   */
  async discard(id: string, confirmed = false): Promise<{ ref?: string }> {
    const t = this.requireStatus(id, ['escalated', 'in-review', 'queued-for-merge', 'failed', 'ready', 'backlog', 'blocked', 'cancelled'], 'Discard');
    if (!confirmed)
      throw new OrchestratorError(
        'not-allowed',
        `Discarding ${id} needs confirmation (nothing was deleted); its branch would be kept under refs/orchard/discarded/${id}/.`,
      );
    const run = this.ctx.currentRun(id);
    const ref = await this.ctx.merges.withLock(async () => {
      if (t.conflict?.resolving) await this.ctx.ports.workspace.abandonConflict(id);
      return run ? this.ctx.ports.workspace.discard(run) : undefined;
    });
    this.ctx.merges.remove(id);
    await this.ctx.commit([
      { type: 'ticket-discarded', id, ...(ref && { ref }) },
      ...(t.conflict ? [{ type: 'merge-conflict-handled' as const, id, how: 'discarded' as const }] : []),
      ...(run ? [{ type: 'lock-released' as const, runId: run.id, reason: 'discarded' }] : []),
    ]);
    await this.closeMergeEscalations(id, 'discard');
    if (this.ctx.ticket(id).status !== 'cancelled') await this.ctx.transition(id, 'cancelled', `discarded${ref ? `; its work is kept at ${ref}` : ''}`);
    this.ctx.requestPump();
    return ref ? { ref } : {};
  }

  /** Puts a finished ticket (kept, escalated after its merge) at the front of the merge queue and merges it. */
  async mergeNow(id: string): Promise<void> {
    const t = this.requireStatus(id, ['escalated', 'queued-for-merge'], 'Merge Now');
    this.mergeableRun(id);
    await this.ctx.merges.withLock(async () => {
      if (t.conflict?.resolving) await this.ctx.ports.workspace.abandonConflict(id);
    });
    if (t.conflict) await this.ctx.commit([{ type: 'merge-conflict-handled', id, how: 'merge-now' }]);
    await this.closeMergeEscalations(id, 'merge-now');
    if (t.status === 'escalated') await this.ctx.transition(id, 'queued-for-merge', 'merge now (asked by the human)');
    this.ctx.merges.enqueue(id, true);
    await this.ctx.merges.drain();
  }

  /** The target's checkout was dirty: stash the user's changes, fast-forward, put them back, for this ticket's merge. */
  async stashAndUpdate(id: string): Promise<void> {
    this.requireStatus(id, ['escalated', 'queued-for-merge'], 'Stash and update');
    this.ctx.merges.allowStash(id);
    await this.mergeNow(id);
  }
}
