// The ways out of the merge queue and of a stopped merge: merge now, open the conflicted
// files, continue, send back to the agent, keep for later, discard, stash and update.
import * as vscode from 'vscode';
import { FINAL_STATUSES, type Ticket } from '../core/model';
import { confirm, is, pickTicket, type CommandContext } from './commandArgs';
import type { CommandTypes, TicketArg } from './commandTypes';
import { openConflictedFiles } from './mergeEditor';

export function mergeCommands(
  ctx: CommandContext,
): Pick<
  CommandTypes,
  | 'orchard.mergeNow'
  | 'orchard.continueMerge'
  | 'orchard.openConflicts'
  | 'orchard.sendBack'
  | 'orchard.keepForLater'
  | 'orchard.discard'
  | 'orchard.stashAndUpdate'
> {
  const { log } = ctx;
  /** A way out that needs nothing but its ticket: picked (from those `which` accepts), then taken. */
  const wayOut =
    (title: string, which: (t: Ticket) => boolean, op: 'mergeNow' | 'sendBack' | 'keepForLater' | 'stashAndUpdate') =>
    async (arg?: TicketArg): Promise<boolean> => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, title, which);
      if (!t) return false;
      await s.orchestrator[op](t.id);
      return true;
    };
  return {
    'orchard.mergeNow': wayOut('Merge Now', is('queued-for-merge'), 'mergeNow'),
    'orchard.continueMerge': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Continue Merge', (x) => !!x.conflict);
      if (!t) return false;
      const r = await s.orchestrator.continueMerge(t.id);
      if (r.kind === 'conflict') {
        void vscode.window.showWarningMessage(`Orchard: ${t.id} still has conflicts in ${r.files.join(', ')}; resolve them, save, then Continue Merge again.`);
        return false;
      }
      return true;
    },
    'orchard.openConflicts': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Open Conflicted Files', (x) => !!x.conflict);
      if (!t) return 0;
      const where = await s.orchestrator.openConflict(t.id);
      await openConflictedFiles(where.dir, where.files, t.id, log);
      void vscode.window
        .showInformationMessage(
          `Resolve the conflicts of ${t.id} in the merge editor (${where.files.length} file(s)); Complete Merge in each, then run Continue Merge.`,
          'Continue Merge',
        )
        // VS Code cannot take a toast back: one clicked after the merge was continued elsewhere does nothing.
        .then((c) => c && s.orchestrator.snapshot.tickets[t.id]?.conflict && vscode.commands.executeCommand('orchard.continueMerge', t.id));
      return where.files.length;
    },
    'orchard.sendBack': wayOut('Send Back to Agent', is('escalated'), 'sendBack'),
    'orchard.keepForLater': wayOut('Keep for Later', is('escalated'), 'keepForLater'),
    'orchard.discard': async (arg, opts) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Discard', (x) => !FINAL_STATUSES.has(x.status));
      if (!t) return false;
      const ok = await confirm(`Discard the work of ${t.id} "${t.title}"? It is not merged; its branch is kept under a backup ref.`, 'Discard', opts);
      if (!ok) return false;
      await s.orchestrator.discard(t.id, true);
      return true;
    },
    'orchard.stashAndUpdate': wayOut('Stash and Update', is('escalated'), 'stashAndUpdate'),
  };
}
