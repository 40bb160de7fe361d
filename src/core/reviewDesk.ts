// The review desk owns what happens to a ticket between "its gates passed" and "it may merge"
// when the review policy says a person looks first: it sends the ticket to review, and carries
// out the person's decisions (approve, request changes). Discard stays with the orchestrator,
// which owns it for every status.
import type { DeskContext } from './deskContext';
import type { Run, Ticket } from './model';
import { OrchestratorError } from './errors';
import { checkComments, reviewFeedbackContext, reviewQueue, reviewReason, type ReviewComment, type ReviewItem } from './review';

/** What the desk needs of the orchestrator beyond every desk's context: the merge queue's door. */
export interface ReviewDeskContext extends DeskContext {
  /** Puts the ticket in the merge queue and lets the queue run. */
  enqueueForMerge(ticketId: string): void;
}

export class ReviewDesk {
  constructor(private readonly ctx: ReviewDeskContext) {}

  /** After passing gates: to review (true) when the policy says a person looks first. */
  async sendToReviewIfNeeded(t: Ticket, run: Run): Promise<boolean> {
    const why = reviewReason(this.ctx.settings().review, t, run.filesChanged ?? []);
    if (!why) return false;
    await this.ctx.transition(t.id, 'in-review', `waiting for review: ${why}`);
    return true;
  }

  queue(): ReviewItem[] {
    return reviewQueue(this.ctx.state());
  }

  /** Approves each ticket (all or none: every id is checked first); they go to the merge queue. */
  async approve(ids: readonly string[], by = 'human'): Promise<void> {
    const items = ids.map((id) => this.waiting(id, 'Approve'));
    for (const { t, run } of items) {
      await this.ctx.commit([{ type: 'review-decided', id: t.id, runId: run.id, decision: 'approve', by }]);
      await this.ctx.transition(t.id, 'queued-for-merge', `approved by ${by}`);
      this.ctx.enqueueForMerge(t.id);
    }
    this.ctx.requestPump();
  }

  /**
   * Sends the ticket back to its agent: the summary and each comment (file and line) are the
   * next attempt's feedback, as a reviewer gate's rejection is. Its branch and worktree stay.
   */
  async requestChanges(id: string, feedback: { summary?: string; comments?: readonly ReviewComment[] }, by = 'human'): Promise<void> {
    const { t, run } = this.waiting(id, 'Request changes');
    const comments = checkComments(feedback.comments ?? []);
    const summary = feedback.summary?.trim() || undefined;
    if (!summary && !comments.length)
      throw new OrchestratorError('bad-input', `Request changes on ${id} needs a comment or a summary saying what should change.`);
    const round = (t.humanReviewRounds ?? 0) + 1;
    await this.ctx.commit([
      { type: 'review-decided', id, runId: run.id, decision: 'request-changes', by, ...(summary && { summary }), ...(comments.length && { comments }) },
      { type: 'ticket-handoff', id, context: reviewFeedbackContext(by === 'human' ? 'A person' : by, round, summary, comments) },
      { type: 'lock-released', runId: run.id, reason: `changes requested by ${by}` },
    ]);
    const first = summary ?? `${comments[0]!.file}:${comments[0]!.line}: ${comments[0]!.body}`;
    await this.ctx.transition(
      id,
      'ready',
      `changes requested by ${by} (review ${round}): ${first.split('\n')[0]!.slice(0, 200)}${comments.length > 1 ? ` (+${comments.length - (summary ? 0 : 1)} comments)` : ''}`,
    );
    this.ctx.requestPump();
  }

  private waiting(id: string, what: string): { t: Ticket; run: Run } {
    const t = this.ctx.state().tickets[id];
    if (!t) throw new OrchestratorError('unknown-ticket', `There is no ticket "${id}". Run "orchard status" to list tickets.`);
    if (t.status !== 'in-review') throw new OrchestratorError('not-allowed', `${what} is for a ticket waiting for review; ${id} is ${t.status}.`);
    const run = this.ctx.currentRun(id);
    if (!run) throw new OrchestratorError('not-allowed', `${id} has no run to review.`);
    return { t, run };
  }
}
