// Small read helpers over the one git runner (run.ts).
import { runGit } from './run';

export { ORCHARD_IDENTITY, listWorktrees, type WorktreeEntry } from './run';

/** The repository's top-level folder (of the main worktree when cwd is a linked worktree). */
export async function repoRoot(cwd: string): Promise<string> {
  return (await runGit(['rev-parse', '--show-toplevel'], { cwd })).stdout.trim();
}

/** Absolute path of the git common dir (shared by all worktrees). */
export async function commonDir(cwd: string): Promise<string> {
  return (await runGit(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd })).stdout.trim();
}

export async function currentBranch(cwd: string): Promise<string | undefined> {
  const out = (await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd, reject: false })).stdout.trim();
  return out || undefined;
}

export async function revParse(cwd: string, rev: string): Promise<string | undefined> {
  const r = await runGit(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd, reject: false });
  return (r.ok && r.stdout.trim()) || undefined;
}

export async function isClean(cwd: string): Promise<boolean> {
  // --no-optional-locks: status would otherwise refresh the index under index.lock, and a kill
  // at that moment leaves the lock in the user's checkout, blocking every later git command.
  const out = (await runGit(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=normal'], { cwd })).stdout;
  return out.trim() === '';
}
