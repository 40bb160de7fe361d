// Git views for the editor: a read-only content provider for files at a commit, Show Diff
// (a run's changes against its base through vscode.changes / vscode.diff), and Clean Up
// Worktrees: worktrees of finished tickets, removed by infra's one clean-up (git/cleanup.ts).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchardState, Run } from '../core/model';
import { WorktreeCleanup, type StaleWorktree } from '../infra/git/cleanup';
import { runGit, runGitBuffer } from '../infra/git/run';
import { defaultOrchardHome } from '../infra/git/workspace';
import { readConfig } from '../infra/config';
import { locateRepo } from '../infra/session';
import { configOverrides } from './settings';

export const GIT_SCHEME = 'orchard-git';

interface GitQuery {
  repo: string;
  /** Commit or branch, or an index stage (`:1` base, `:2` ours, `:3` theirs); empty: the file did not exist there. */
  ref: string;
  path: string;
}

export function gitUri(q: GitQuery): vscode.Uri {
  return vscode.Uri.from({ scheme: GIT_SCHEME, path: '/' + q.path, query: JSON.stringify(q) });
}

export class GitContentProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = JSON.parse(uri.query) as GitQuery;
    if (!q.ref) return '';
    // As a buffer: the text output is trimmed, which would drop the file's last newline.
    const r = await runGitBuffer(['show', `${q.ref}:${q.path}`], { cwd: q.repo, reject: false });
    return r.ok ? Buffer.from(r.stdout).toString('utf8') : '';
  }
}

export interface FileChange {
  status: string;
  path: string;
}

export async function changedFiles(repo: string, base: string, head: string): Promise<FileChange[]> {
  const out = (await runGit(['diff', '--name-status', '--no-renames', base, head], { cwd: repo })).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [status, ...rest] = l.split('\t');
      return { status: status!, path: rest.join('\t') };
    });
}

/** Opens the run's changes against its base: one diff editor, or the multi-file changes editor. */
export async function showRunDiff(repo: string, run: Run): Promise<number> {
  if (!run.base) throw new Error(`Run ${run.id} has no base commit yet.`);
  const head = run.branch;
  const files = await changedFiles(repo, run.base, head);
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`${run.ticketId}: no changes against its base yet.`);
    return 0;
  }
  const title = `${run.ticketId}: ${head} ↔ ${run.base.slice(0, 8)}`;
  const triple = (f: FileChange): [vscode.Uri, vscode.Uri, vscode.Uri] => [
    vscode.Uri.file(path.join(repo, f.path)),
    gitUri({ repo, ref: f.status === 'A' ? '' : run.base!, path: f.path }),
    gitUri({ repo, ref: f.status === 'D' ? '' : head, path: f.path }),
  ];
  if (files.length === 1) {
    const [, left, right] = triple(files[0]!);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${files[0]!.path} (${title})`, { preview: true });
  } else {
    await vscode.commands.executeCommand('vscode.changes', title, files.map(triple));
  }
  return files.length;
}

/** A worktree Clean Up Worktrees offers: the one StaleWorktree, with why (its ticket's state) for the picker. */
export type CleanUpCandidate = StaleWorktree & { path: string; why: string };

/** The clean-up of this repository, with the session's target branch and worktrees folder (config.json, then settings). */
async function cleanupOf(repo: string): Promise<WorktreeCleanup> {
  const paths = await locateRepo(repo);
  const config = { ...readConfig(paths.stateDir, paths.branch ?? 'main'), ...configOverrides() };
  return new WorktreeCleanup({
    repo,
    worktreesDir: config.worktreeRoot || path.join(defaultOrchardHome(repo), 'worktrees'),
    targetBranch: config.targetBranch,
  });
}

/** Orchard worktrees no live run uses whose ticket is done or cancelled, or unknown. */
export async function staleWorktrees(repo: string, s: OrchardState): Promise<CleanUpCandidate[]> {
  const live = new Set(
    Object.values(s.runs)
      .filter((r) => r.endedAt === undefined)
      .map((r) => r.ticketId),
  );
  const out: CleanUpCandidate[] = [];
  for (const w of await (await cleanupOf(repo)).listStale(live)) {
    if ((w.kind !== 'worktree' && w.kind !== 'missing-worktree') || !w.path || !w.branch?.startsWith('orchard/') || w.active) continue;
    const t = w.ticketId !== undefined ? s.tickets[w.ticketId] : undefined;
    if (!t) out.push({ ...w, path: w.path, ticketId: undefined, why: 'no such ticket' });
    else if (t.status === 'done') out.push({ ...w, path: w.path, why: 'merged' });
    else if (t.status === 'cancelled') out.push({ ...w, path: w.path, why: 'cancelled (branch kept unless merged)' });
  }
  return out;
}

/**
 * Removes a worktree by the clean-up's rules (cleanup.ts): never one with uncommitted changes;
 * its branch goes only when merged, an unmerged one is kept.
 */
export async function removeWorktree(repo: string, w: CleanUpCandidate): Promise<string> {
  const res = await (await cleanupOf(repo)).reclaim([w], { keepUnmergedBranches: true });
  if (!res.removed.length) throw new Error(res.kept[0]?.why ?? 'it was kept');
  if (!w.branch) return 'worktree removed';
  return w.merged ? 'worktree and merged branch removed' : `worktree removed; branch ${w.branch} kept (not merged)`;
}
