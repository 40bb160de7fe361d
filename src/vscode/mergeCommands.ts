// The ways out of the merge queue and of a stopped merge: merge now, open the conflicted
// files, continue, send back to the agent, keep for later, discard, stash and update.
import * as vscode from 'vscode';
import { FINAL_STATUSES, type Ticket } from '../core/model';
import { confirm, is, pickTicket, type CommandContext } from './commandArgs';
import type { CommandTypes, TicketArg } from './commandTypes';
import type { WriterSession } from './controller';
import { openConflictedFiles } from './mergeEditor';

/** Merge-queue operations the orchestrator offers (added by the merge queue work). */
interface MergeOps {
  mergeNow(id: string): Promise<unknown>;
  continueMerge(id: string): Promise<unknown>;
  sendBack(id: string): Promise<unknown>;
  keepForLater(id: string): Promise<unknown>;
  discard(id: string, confirmed: boolean): Promise<unknown>;
  stashAndUpdate(id: string): Promise<unknown>;
  /** Opens the conflict in the integration worktree: its folder and the conflicted files. */
  openConflict(id: string): Promise<{ dir: string; files: string[] }>;
}

function mergeOp<K extends keyof MergeOps>(s: WriterSession, name: K): MergeOps[K] {
  const fn = (s.orchestrator as unknown as Partial<MergeOps>)[name];
  if (typeof fn !== 'function') throw new Error(`${name} is not available in this version of Orchard.`);
  return fn.bind(s.orchestrator) as MergeOps[K];
}

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
      await mergeOp(s, op)(t.id);
      return true;
    };
  return {
    'orchard.mergeNow': wayOut('Merge Now', is('queued-for-merge'), 'mergeNow'),
    'orchard.continueMerge': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Continue Merge', (x) => !!(x as Ticket & { conflict?: unknown }).conflict);
      if (!t) return false;
      const r = (await mergeOp(s, 'continueMerge')(t.id)) as { kind?: string; files?: string[] } | undefined;
      if (r?.kind === 'conflict') {
        void vscode.window.showWarningMessage(
          `Orchard: ${t.id} still has conflicts in ${(r.files ?? []).join(', ')}; resolve them, save, then Continue Merge again.`,
        );
        return false;
      }
      return true;
    },
    'orchard.openConflicts': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Open Conflicted Files', (x) => !!(x as Ticket & { conflict?: unknown }).conflict);
      if (!t) return 0;
      const where = await mergeOp(s, 'openConflict')(t.id);
      await openConflictedFiles(where.dir, where.files, t.id, log);
      void vscode.window
        .showInformationMessage(
          `Resolve the conflicts of ${t.id} in the merge editor (${where.files.length} file(s)); Complete Merge in each, then run Continue Merge.`,
          'Continue Merge',
        )
        .then((c) => c && vscode.commands.executeCommand('orchard.continueMerge', t.id));
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
      await mergeOp(s, 'discard')(t.id, true);
      return true;
    },
    'orchard.stashAndUpdate': wayOut('Stash and Update', is('escalated'), 'stashAndUpdate'),
  };
}
