// Open Review: the whole change of a ticket waiting for review in VS Code's multi-file diff
// editor (`vscode.changes`), each file's version at the ticket's base (read-only, `git show
// <base>:<path>` through the orchard-git content provider, argv only) against the file in the
// ticket's worktree, so line comments are made on the agent's own version of the file.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReviewItem } from '../core/review';
import { changedFiles, gitUri, type FileChange } from './git';

export type ReviewTriple = [resource: vscode.Uri, original: vscode.Uri, modified: vscode.Uri];

/** The editor's title for a ticket's review. */
export const reviewTitle = (item: Pick<ReviewItem, 'ticketId' | 'title'>): string => `Review ${item.ticketId}: ${item.title}`;

/** What each changed file compares: the base version (empty for an added file) with the worktree file (empty for a deleted one). */
export function reviewTriples(item: ReviewItem, files: readonly FileChange[]): ReviewTriple[] {
  return files.map((f) => {
    const inWorktree = vscode.Uri.file(path.join(item.worktree, f.path));
    const original = gitUri({ repo: item.worktree, ref: f.status === 'A' ? '' : item.base!, path: f.path });
    const modified = f.status === 'D' ? gitUri({ repo: item.worktree, ref: '', path: f.path }) : inWorktree;
    return [inWorktree, original, modified];
  });
}

/**
 * Opens the ticket's change against its base: the multi-file diff editor when this VS Code
 * has `vscode.changes`, else one diff editor per file. Returns the files opened.
 */
export async function openReviewDiff(item: ReviewItem): Promise<FileChange[]> {
  if (!item.base) throw new Error(`${item.ticketId} has no base commit to compare with; open its worktree instead.`);
  // The worktree's HEAD is what the agent committed; what merges is this branch.
  const files = await changedFiles(item.worktree, item.base, 'HEAD');
  if (!files.length) {
    void vscode.window.showInformationMessage(`${item.ticketId}: no change against its base; Approve or Discard it.`);
    return [];
  }
  const triples = reviewTriples(item, files);
  const commands = await vscode.commands.getCommands(true);
  if (commands.includes('vscode.changes')) {
    await vscode.commands.executeCommand('vscode.changes', reviewTitle(item), triples);
  } else {
    for (const [, original, modified] of triples) {
      await vscode.commands.executeCommand('vscode.diff', original, modified, `${path.basename(modified.path)} (${reviewTitle(item)})`, { preview: false });
    }
  }
  return files;
}

/** Opens one file of the review in a diff editor (a file row of the Review Queue). */
export async function openReviewFile(item: ReviewItem, file: string): Promise<void> {
  if (!item.base) throw new Error(`${item.ticketId} has no base commit to compare with.`);
  const files = await changedFiles(item.worktree, item.base, 'HEAD');
  const change = files.find((f) => f.path === file) ?? { status: 'M', path: file };
  const [, original, modified] = reviewTriples(item, [change])[0]!;
  await vscode.commands.executeCommand('vscode.diff', original, modified, `${file} (${reviewTitle(item)})`, { preview: true });
}
