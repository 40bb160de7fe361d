// The review desk's commands: Open Review (the change in the multi-file diff editor), Approve
// (several at once), Request Changes (the drafted line comments and a summary go back to the
// agent), Discard (the existing Discard flow: confirmation, branch kept under a backup ref).
// Each takes a tree node, a ticket id or nothing (then it asks).
import { errorText } from '../core/errors';
import type { ReviewComment, ReviewItem } from '../core/review';
import * as vscode from 'vscode';
import type { OrchardController } from './controller';
import { openReviewDiff, openReviewFile } from './reviewDiff';
import type { ReviewComments } from './reviewComments';
import { reviewQueueOf } from './reviewModel';

/** What review commands take: a Review Queue row or file, a Tickets row, a comment thread, or an id. */
export type ReviewArg = string | { kind: 'review' | 'ticket'; id: string } | { kind: 'review-file'; id: string; file: string } | vscode.CommentThread;

export interface ReviewFeedback {
  summary?: string;
  /** Given: sent as they are; absent: the ticket's draft comments in the editor. */
  comments?: ReviewComment[];
}

export interface ReviewCommandTypes {
  /** Returns the number of files opened. */
  'orchard.openReview': (arg?: ReviewArg) => Promise<number>;
  /** From a tree: the clicked row and the selection. Returns the approved ids. */
  'orchard.approve': (arg?: ReviewArg, selection?: ReviewArg[]) => Promise<string[]>;
  /** feedback given: nothing is asked. */
  'orchard.requestChanges': (arg?: ReviewArg, feedback?: ReviewFeedback) => Promise<boolean>;
  'orchard.discardFromReview': (arg?: ReviewArg, opts?: { confirmed?: boolean }) => Promise<boolean>;
  /** The comment reply box's "Add Comment". */
  'orchard.review.addComment': (reply: vscode.CommentReply) => Promise<void>;
}

export interface ReviewCommandDeps {
  controller: OrchardController;
  comments: ReviewComments;
  /** Ticket ids selected in the Review Queue view. */
  selected: () => string[];
  log: vscode.LogOutputChannel;
}

const isThread = (a: unknown): a is vscode.CommentThread => typeof a === 'object' && a !== null && 'uri' in a && 'comments' in a;

export function registerReviewCommands({ controller, comments, selected, log }: ReviewCommandDeps): vscode.Disposable[] {
  const queue = (): ReviewItem[] => {
    const s = controller.state();
    return s ? reviewQueueOf(s) : [];
  };
  const idOf = (arg: ReviewArg | undefined): string | undefined => {
    if (arg === undefined) return undefined;
    if (typeof arg === 'string') return arg;
    if (isThread(arg)) return comments.ticketOf(arg.uri);
    return arg.id;
  };
  /** The item an argument names (refused when it does not wait for review), or one picked. */
  const itemFor = async (arg: ReviewArg | undefined, title: string): Promise<ReviewItem | undefined> => {
    const id = idOf(arg);
    const items = queue();
    if (id) {
      const item = items.find((i) => i.ticketId === id);
      if (!item) throw new Error(`${title} is for a ticket waiting for review; ${id} is ${controller.state()?.tickets[id]?.status ?? 'not a ticket'}.`);
      return item;
    }
    if (!items.length) {
      void vscode.window.showInformationMessage('Orchard: no ticket waits for review.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      items.map((i) => ({ label: `${i.ticketId}  ${i.title}`, description: `${i.files.length} files`, detail: i.summary, i })),
      { title },
    );
    return pick?.i;
  };

  const handlers: ReviewCommandTypes = {
    'orchard.openReview': async (arg) => {
      const item = await itemFor(arg, 'Open Review');
      if (!item) return 0;
      if (typeof arg === 'object' && !isThread(arg) && arg.kind === 'review-file') {
        await openReviewFile(item, arg.file);
        return 1;
      }
      return (await openReviewDiff(item)).length;
    },
    'orchard.approve': async (arg, selection) => {
      const s = await controller.writer();
      let ids = (selection ?? []).map(idOf).filter((x): x is string => !!x);
      const one = idOf(arg);
      if (one && !ids.includes(one)) ids = [one, ...ids];
      if (!ids.length) {
        const items = queue();
        if (!items.length) {
          void vscode.window.showInformationMessage('Orchard: no ticket waits for review.');
          return [];
        }
        const chosen = new Set(selected());
        const picks = await vscode.window.showQuickPick(
          items.map((i) => ({
            label: `${i.ticketId}  ${i.title}`,
            description: `${i.files.length} files`,
            detail: i.summary,
            picked: chosen.has(i.ticketId),
            id: i.ticketId,
          })),
          { title: 'Approve (to the merge queue)', canPickMany: true },
        );
        ids = picks?.map((p) => p.id) ?? [];
      }
      ids = [...new Set(ids)];
      if (!ids.length) return [];
      await s.orchestrator.approve(ids);
      for (const id of ids) comments.clear(id);
      return ids;
    },
    'orchard.requestChanges': async (arg, feedback) => {
      const s = await controller.writer();
      const item = await itemFor(arg, 'Request Changes');
      if (!item) return false;
      const lineComments = feedback?.comments ?? comments.drafts(item.ticketId);
      let summary = feedback?.summary;
      if (!feedback) {
        summary = await vscode.window.showInputBox({
          title: `Request Changes on ${item.ticketId}`,
          prompt: lineComments.length
            ? `${lineComments.length} line comment${lineComments.length === 1 ? '' : 's'} go back to the agent. A summary for it (optional):`
            : 'What should the agent change? (Add line comments in Open Review to point at lines.)',
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() || lineComments.length ? undefined : 'Say what should change, or add line comments first.'),
        });
        if (summary === undefined) return false;
      }
      await s.orchestrator.requestChanges(item.ticketId, { ...(summary?.trim() && { summary: summary.trim() }), comments: lineComments });
      comments.clear(item.ticketId);
      // Outside a started batch nothing would pick the ticket up: its agent goes again now.
      if (!s.orchestrator.isActive) await s.orchestrator.startTicket(item.ticketId);
      return true;
    },
    'orchard.discardFromReview': async (arg, opts) => {
      const item = await itemFor(arg, 'Discard');
      if (!item) return false;
      const done = await vscode.commands.executeCommand<boolean>('orchard.discard', item.ticketId, ...(opts ? [opts] : []));
      if (done) comments.clear(item.ticketId);
      return !!done;
    },
    'orchard.review.addComment': async (reply) => {
      comments.reply(reply);
    },
  };
  return (Object.keys(handlers) as (keyof ReviewCommandTypes)[]).map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handlers[id] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        log.error(`${id}: ${errorText(e)}`);
        void vscode.window.showErrorMessage(`Orchard: ${errorText(e)}`);
        if (args.length && id !== 'orchard.review.addComment') throw e;
        return undefined;
      }
    }),
  );
}
