// Reading a run folder and a worktree without failing: a file half-written or not there yet
// reads as nothing, and the next poll tries again.
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { runGitSync } from '../../git/run';
import { ANSI } from '../clis/common';

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

/** The last bytes of a file ('' if it cannot be read). */
export function tail(path: string, bytes = 16_384): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, bytes));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join('\n');
}

export function lastLine(text: string): string {
  return (
    text
      .replace(ANSI, '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  ).slice(0, 200);
}

/** Whether a worktree holds work: commits above the attempt's start, or changed files. */
export function worktreeHasWork(worktree: string | undefined, startHead: string | undefined): boolean {
  if (!worktree) return false;
  try {
    const git = (...args: string[]) => runGitSync(args, { cwd: worktree }).stdout.trim();
    if (git('status', '--porcelain', '--untracked-files=normal')) return true;
    return !!startHead && git('rev-parse', 'HEAD') !== startHead;
  } catch {
    return false;
  }
}
