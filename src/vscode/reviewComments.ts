// Line comments on a review: a comment controller whose commenting ranges are the worktree
// files of tickets waiting for review (the modified side of Open Review's diffs). Comments
// are drafts kept in this window until Request Changes sends them, with file and line, as the
// agent's next attempt's feedback; then their threads are closed.
import * as vscode from 'vscode';
import type { OrchardState } from '../core/model';
import type { ReviewComment } from '../core/review';
import { Disposable } from './lifecycle';
import { commentsFromDrafts, reviewFileOf, reviewQueueOf } from './reviewModel';

export const REVIEW_COMMENTS_ID = 'orchard.review';
const DRAFT = 'orchard-review-draft';

class DraftComment implements vscode.Comment {
  readonly mode = vscode.CommentMode.Preview;
  readonly author = { name: 'You' };
  readonly contextValue = DRAFT;
  readonly label = 'draft';
  constructor(readonly body: string) {}
}

export class ReviewComments extends Disposable {
  private readonly controller: vscode.CommentController;
  /** Draft threads and the ticket each is on. */
  private readonly threads = new Map<vscode.CommentThread, string>();

  constructor(private readonly state: () => OrchardState | undefined) {
    super();
    this.controller = this._register(vscode.comments.createCommentController(REVIEW_COMMENTS_ID, 'Orchard review'));
    this.controller.options = { prompt: 'Comment for the agent', placeHolder: 'What should change on this line? Sent with Request Changes.' };
    this.controller.commentingRangeProvider = { provideCommentingRanges: (doc) => this.commentingRanges(doc) };
    this._register({ dispose: () => [...this.threads.keys()].forEach((t) => t.dispose()) });
  }

  /** Every line of a worktree file of a ticket waiting for review; nothing elsewhere. */
  commentingRanges(doc: Pick<vscode.TextDocument, 'uri' | 'lineCount'>): vscode.Range[] {
    if (!this.ticketOf(doc.uri)) return [];
    return [new vscode.Range(0, 0, Math.max(0, doc.lineCount - 1), 0)];
  }

  /** The ticket in review a file or thread belongs to. */
  ticketOf(uri: vscode.Uri): string | undefined {
    const s = this.state();
    return s && uri.scheme === 'file' ? reviewFileOf(uri.fsPath, reviewQueueOf(s))?.item.ticketId : undefined;
  }

  /** Adds a reply's text to its thread (the reply box's "Add Comment"). */
  reply(r: vscode.CommentReply): void {
    const text = r.text.trim();
    if (!text) return;
    const ticket = this.ticketOf(r.thread.uri);
    if (!ticket) {
      r.thread.dispose();
      throw new Error('Comments go on the files of a ticket waiting for review (Orchard: Open Review).');
    }
    this.track(r.thread, ticket);
    r.thread.comments = [...r.thread.comments, new DraftComment(text)];
  }

  /** A draft on one line (0-based) of a worktree file, as the reviewer adds it in the editor. */
  addDraft(uri: vscode.Uri, line: number, body: string): vscode.CommentThread {
    const thread = this.controller.createCommentThread(uri, new vscode.Range(line, 0, line, 0), []);
    this.reply({ thread, text: body });
    return thread;
  }

  /** The drafts on one ticket, as requestChanges takes them. */
  drafts(ticketId: string): ReviewComment[] {
    const s = this.state();
    if (!s) return [];
    const threads = [...this.threads.keys()].filter((t) => t.range);
    return commentsFromDrafts(
      ticketId,
      reviewQueueOf(s),
      threads.map((t) => ({ fsPath: t.uri.fsPath, line: t.range!.start.line, bodies: t.comments.map((c) => (typeof c.body === 'string' ? c.body : c.body.value)) })),
    );
  }

  /** Number of open draft threads on the ticket's files. */
  threadCount(ticketId: string): number {
    return [...this.threads.values()].filter((id) => id === ticketId).length;
  }

  /** Closes the ticket's threads (after Request Changes, or when it left review). */
  clear(ticketId: string): void {
    for (const [t, id] of [...this.threads]) {
      if (id !== ticketId) continue;
      this.threads.delete(t);
      t.dispose();
    }
  }

  /** Closes the threads of tickets no longer waiting for review. */
  prune(): void {
    const s = this.state();
    const waiting = new Set(s ? reviewQueueOf(s).map((i) => i.ticketId) : []);
    for (const id of new Set(this.threads.values())) if (!waiting.has(id)) this.clear(id);
  }

  private track(thread: vscode.CommentThread, ticketId: string): void {
    if (this.threads.has(thread)) return;
    thread.label = `Review of ${ticketId} (draft, sent with Request Changes)`;
    thread.contextValue = DRAFT;
    thread.canReply = true;
    thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
    this.threads.set(thread, ticketId);
  }
}
