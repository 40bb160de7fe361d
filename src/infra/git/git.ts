// Thin helpers over simple-git. Every call passes an argv array; nothing goes through a shell.
import { simpleGit, type SimpleGit } from 'simple-git';

/** Identity Orchard commits and merges with (passed as -c options, so no repo config changes). */
export const ORCHARD_IDENTITY = ['user.name=Orchard', 'user.email=orchard@localhost'];

export function git(cwd: string): SimpleGit {
  // simple-git inherits the environment; setting env through it is refused for variables such
  // as GIT_SSL_CAINFO, so options go in as -c config instead.
  return simpleGit({ baseDir: cwd, maxConcurrentProcesses: 4, trimmed: true, config: ['core.quotepath=off', ...ORCHARD_IDENTITY] });
}

/** The repository's top-level folder (of the main worktree when cwd is a linked worktree). */
export async function repoRoot(cwd: string): Promise<string> {
  return (await git(cwd).raw(['rev-parse', '--show-toplevel'])).trim();
}

/** Absolute path of the git common dir (shared by all worktrees). */
export async function commonDir(cwd: string): Promise<string> {
  return (await git(cwd).raw(['rev-parse', '--path-format=absolute', '--git-common-dir'])).trim();
}

export async function currentBranch(cwd: string): Promise<string | undefined> {
  const out = (await git(cwd).raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim();
  return out || undefined;
}

export async function revParse(cwd: string, rev: string): Promise<string | undefined> {
  const out = await git(cwd)
    .raw(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])
    .catch(() => '');
  return out.trim() || undefined;
}

export interface WorktreeEntry {
  path: string;
  head?: string;
  branch?: string;
}

export async function listWorktrees(cwd: string): Promise<WorktreeEntry[]> {
  // A worktree being added at this moment (another ticket's, in this process) has its
  // folder under .git/worktrees/ before its commondir and gitdir files: git refuses the
  // whole listing for that instant ("failed to read .git/worktrees/T18/commondir"). Retry.
  let out = '';
  for (let i = 0; ; i++) {
    try {
      out = await git(cwd).raw(['worktree', 'list', '--porcelain']);
      break;
    } catch (e) {
      if (i >= 20 || !/worktrees\/[^ ]*\/(commondir|gitdir)|invalid gitfile/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) entries.push((cur = { path: line.slice(9) }));
    else if (cur && line.startsWith('HEAD ')) cur.head = line.slice(5);
    else if (cur && line.startsWith('branch ')) cur.branch = line.slice(7).replace(/^refs\/heads\//, '');
  }
  return entries;
}

export async function isClean(cwd: string): Promise<boolean> {
  // --no-optional-locks: status would otherwise refresh the index under index.lock, and a kill
  // at that moment leaves the lock in the user's checkout, blocking every later git command.
  const out = await git(cwd).raw(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=normal']);
  return out.trim() === '';
}
