// Line comments on a review: a comment controller whose commenting ranges are the worktree
// files of tickets waiting for review (the modified side of Open Review's diffs). Comments
// are drafts until Request Changes sends them, with file and line, as the agent's next
// attempt's feedback; then their threads are closed. Drafts are kept on disk per ticket and
// run (infra/reviewDrafts), so a window reload shows them again on the same review; a
// decision (or the ticket leaving review any other way) discards them.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { errorText } from '../core/errors';
import type { OrchardState } from '../core/model';
import type { ReviewComment } from '../core/review';
import { ReviewDraftStore } from '../infra/reviewDrafts';
import type { Session } from '../infra/session';
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

const bodiesOf = (t: vscode.CommentThread): string[] => t.comments.map((c) => (typeof c.body === 'string' ? c.body : c.body.value));

export class ReviewComments extends Disposable {
  private readonly controller: vscode.CommentController;
  /** Draft threads and the ticket each is on. */
  private readonly threads = new Map<vscode.CommentThread, string>();
  /** `ticket/run` whose stored drafts this window has shown already. */
  private readonly restored = new Set<string>();

  /** `store`: where drafts are kept for the repository open now (none before it is open). */
  constructor(
    private readonly state: () => OrchardState | undefined,
    private readonly store: () => ReviewDraftStore | undefined = () => undefined,
  ) {
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
    this.persist(ticket);
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
      threads.map((t) => ({ fsPath: t.uri.fsPath, line: t.range!.start.line, bodies: bodiesOf(t) })),
    );
  }

  /** Number of open draft threads on the ticket's files. */
  threadCount(ticketId: string): number {
    return [...this.threads.values()].filter((id) => id === ticketId).length;
  }

  /** Closes the ticket's threads and discards its stored drafts (after a decision, or when it left review). */
  clear(ticketId: string): void {
    for (const [t, id] of [...this.threads]) {
      if (id !== ticketId) continue;
      this.threads.delete(t);
      t.dispose();
    }
    void this.store()?.set(ticketId, undefined);
  }

  /**
   * On every state change: closes the threads, and discards the stored drafts, of tickets no
   * longer waiting for review (or waiting on another run); shows the stored drafts of those
   * still waiting on the same run, once (the first state after a window reload).
   */
  sync(): void {
    const s = this.state();
    if (!s) return;
    const items = new Map(reviewQueueOf(s).map((i) => [i.ticketId, i]));
    for (const id of new Set(this.threads.values())) if (!items.has(id)) this.clear(id);
    const store = this.store();
    if (!store) return;
    for (const [id, stored] of Object.entries(store.all())) {
      const item = items.get(id);
      if (!item || item.runId !== stored.runId) {
        void store.set(id, undefined);
        continue;
      }
      const key = `${id}/${item.runId}`;
      if (this.restored.has(key)) continue;
      this.restored.add(key);
      if (this.threadCount(id)) continue; // drafted in this window already
      for (const d of stored.threads) {
        const uri = vscode.Uri.file(path.join(item.worktree, ...d.file.split('/')));
        const thread = this.controller.createCommentThread(
          uri,
          new vscode.Range(d.line, 0, d.line, 0),
          d.bodies.map((b) => new DraftComment(b)),
        );
        this.track(thread, id);
      }
    }
  }

  /** Writes the ticket's drafts (file, line, texts) for the run under review. */
  private persist(ticketId: string): void {
    const s = this.state();
    const item = s && reviewQueueOf(s).find((i) => i.ticketId === ticketId);
    const store = this.store();
    if (!item || !store) return;
    this.restored.add(`${ticketId}/${item.runId}`);
    const threads = [...this.threads]
      .filter(([t, id]) => id === ticketId && t.range)
      .map(([t]) => ({ file: path.relative(item.worktree, t.uri.fsPath).split(path.sep).join('/'), line: t.range!.start.line, bodies: bodiesOf(t) }));
    void store.set(ticketId, { runId: item.runId, threads });
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

/** The drafts' store of the repository open now (one per state folder; none before one is open). */
export function reviewDraftStore(session: { readonly current: Session | undefined }, log?: vscode.LogOutputChannel): () => ReviewDraftStore | undefined {
  let store: ReviewDraftStore | undefined;
  return () => {
    const dir = session.current?.paths.stateDir;
    if (dir && store?.stateDir !== dir)
      store = new ReviewDraftStore(dir, (e) => log?.warn(`Review comment drafts could not be saved in ${dir}: ${errorText(e)}`));
    return dir ? store : undefined;
  };
}
