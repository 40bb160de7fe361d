// "Open Conflicted Files" in VS Code's 3-way merge editor: for each conflicted file of the
// integration worktree, the common ancestor and the two sides come from git's index stages
// (`git show :1:<path>`, `:2:`, `:3:`, read through the orchard-git content provider) and the
// result is the file itself. The merge editor's own command (`_open.mergeEditor`, which the
// git extension uses too) takes them; `git.openMergeEditor` would need the git extension to
// know the integration worktree, which is outside the workspace. Saving the result and
// Continue Merge finish the merge.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { gitUri } from './git';

/** Opens one conflicted file (relative to `dir`) in the merge editor. */
export async function openMergeEditor(dir: string, file: string, ticketId: string): Promise<void> {
  const stage = (n: 1 | 2 | 3) => gitUri({ repo: dir, ref: `:${n}`, path: file.split(path.sep).join('/') });
  await vscode.commands.executeCommand('_open.mergeEditor', {
    base: stage(1),
    input1: { uri: stage(2), title: 'Target', description: 'the target branch (ours)', detail: file },
    input2: { uri: stage(3), title: `orchard/${ticketId}`, description: `${ticketId}'s branch (theirs)`, detail: file },
    output: vscode.Uri.file(path.join(dir, file)),
  });
}

/**
 * Opens every conflicted file in the merge editor; a file the merge editor cannot take opens
 * as a text editor with its conflict markers. `files` may be absolute or relative to `dir`.
 */
export async function openConflictedFiles(dir: string, files: readonly string[], ticketId: string, log?: vscode.LogOutputChannel): Promise<number> {
  for (const f of files) {
    const rel = path.isAbsolute(f) ? path.relative(dir, f) : f;
    try {
      await openMergeEditor(dir, rel, ticketId);
    } catch (e) {
      log?.warn(`The merge editor could not open ${rel} (${e instanceof Error ? e.message : String(e)}); opening it as text.`);
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(dir, rel)), { preview: false });
    }
  }
  return files.length;
}
