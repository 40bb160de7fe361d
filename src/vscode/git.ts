// Git views for the editor: a read-only content provider for files at a commit, Show Diff
// (a run's changes against its base through vscode.changes / vscode.diff), and the
// worktree clean-up (only what is safe: worktrees of finished tickets, merged branches).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchardState, Run } from '../core/model';
import { listWorktrees, runGit, runGitBuffer } from '../infra/git/run';

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

export interface StaleWorktree {
  path: string;
  branch?: string;
  ticketId?: string;
  why: string;
}

/** Orchard worktrees no live run uses: their ticket is done or cancelled, or unknown. */
export async function staleWorktrees(repo: string, s: OrchardState): Promise<StaleWorktree[]> {
  const live = new Set(Object.values(s.runs).filter((r) => r.endedAt === undefined).map((r) => r.worktree));
  const out: StaleWorktree[] = [];
  for (const w of await listWorktrees(repo)) {
    if (!w.branch?.startsWith('orchard/') || live.has(w.path)) continue;
    const ticketId = w.branch.slice('orchard/'.length);
    const t = s.tickets[ticketId];
    if (!t) out.push({ path: w.path, branch: w.branch, why: 'no such ticket' });
    else if (t.status === 'done') out.push({ path: w.path, branch: w.branch, ticketId, why: 'merged' });
    else if (t.status === 'cancelled') out.push({ path: w.path, branch: w.branch, ticketId, why: 'cancelled (branch kept unless merged)' });
  }
  return out;
}

/** Removes a worktree (git refuses if it has uncommitted changes) and its branch if merged. */
export async function removeWorktree(repo: string, w: StaleWorktree): Promise<string> {
  await runGit(['worktree', 'remove', w.path], { cwd: repo });
  if (!w.branch) return 'worktree removed';
  // -d (not -D): git deletes only a branch that is merged; nothing unmerged is lost.
  const deleted = (await runGit(['branch', '-d', w.branch], { cwd: repo, reject: false })).ok;
  return deleted ? 'worktree and merged branch removed' : `worktree removed; branch ${w.branch} kept (not merged)`;
}
