// Commands about what Orchard shows and keeps: the dashboard, the report, the log, a refresh,
// and cleaning up worktrees no run uses.
import { errorText } from '../core/errors';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { markdownReport } from '../core/report';
import { writeReportFiles } from '../infra/reportFiles';
import type { CommandContext } from './commandArgs';
import type { CommandTypes } from './commandTypes';
import { removeWorktree, staleWorktrees } from './git';

export function viewCommands(
  ctx: CommandContext,
): Pick<CommandTypes, 'orchard.showDashboard' | 'orchard.generateReport' | 'orchard.cleanUpWorktrees' | 'orchard.showLog' | 'orchard.refresh'> {
  const { controller, dashboard, log } = ctx;
  return {
    'orchard.showDashboard': async () => {
      await controller.open();
      dashboard().show();
    },
    'orchard.generateReport': async (opts) => {
      await controller.open();
      const st = controller.state();
      if (!st) throw new Error('Open a folder that is a git repository to use Orchard.');
      const md = markdownReport(st, Date.now());
      const session = controller.current;
      if (session) {
        // Kept with the repository's Orchard state: the report and a static snapshot of the dashboard.
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const agents = vscode.workspace.getConfiguration('orchard').get<number>('maxAgents', 3);
        const files = writeReportFiles(st, Date.now(), agents, path.join(session.paths.stateDir, 'reports', `report-${stamp}.md`));
        if (opts?.open !== false)
          void vscode.window.showInformationMessage(`Orchard: report saved to ${files.markdown}, with a dashboard snapshot (${path.basename(files.html)}).`);
      }
      if (opts?.open !== false) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: md }));
      return md;
    },
    'orchard.cleanUpWorktrees': async (opts) => {
      const s = await ctx.writer();
      const stale = await staleWorktrees(s.paths.repo, s.orchestrator.snapshot);
      if (stale.length === 0) {
        if (!opts) void vscode.window.showInformationMessage('Orchard: no worktree to clean up.');
        return 0;
      }
      const chosen = opts?.all
        ? stale
        : (
            await vscode.window.showQuickPick(
              stale.map((x) => ({ label: x.ticketId ?? x.branch ?? x.path, description: x.why, detail: x.path, picked: x.why === 'merged', x })),
              { title: 'Clean Up Worktrees', placeHolder: 'Worktrees no run uses; unmerged branches are kept', canPickMany: true },
            )
          )?.map((p) => p.x);
      let removed = 0;
      for (const x of chosen ?? []) {
        try {
          log.info(`${x.path}: ${await removeWorktree(s.paths.repo, x)}`);
          removed++;
        } catch (e) {
          log.warn(`Could not remove ${x.path}: ${errorText(e)}`);
        }
      }
      if (!opts) void vscode.window.showInformationMessage(`Orchard: removed ${removed} worktree(s); see Orchard: Show Log.`);
      return removed;
    },
    'orchard.showLog': async () => {
      log.show(true);
    },
    'orchard.refresh': async () => {
      await controller.open();
    },
  };
}
