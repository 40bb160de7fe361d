// File scopes checked against the repository on disk at import: a scope that reaches outside
// the repository through a symlink (repo/escape → /somewhere/else) is rejected like "../x".
// The importers are pure (core/), so this check runs where the repository is known.
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { ImportError, type ImportIssue } from '../core/errors';
import { detectImporter, parseJsonFile, type ImportFile } from '../core/importers';

/** Why a scope pattern leaves the repository through a symlink, or undefined. */
export function scopeEscape(repo: string, pattern: string): string | undefined {
  let realRepo: string;
  try {
    realRepo = realpathSync(repo);
  } catch {
    return undefined;
  }
  let cur = repo;
  for (const part of pattern.split('/')) {
    if (/[*?[\]{}]/.test(part)) break; // a glob from here on: only its literal prefix is on disk
    if (part === '' || part === '.') continue;
    cur = join(cur, part);
    let link = false;
    try {
      link = lstatSync(cur).isSymbolicLink();
    } catch {
      return undefined; // does not exist (yet): the agent creates it inside the worktree
    }
    if (!link) continue;
    let real: string;
    try {
      real = realpathSync(cur);
    } catch {
      continue; // a dangling link resolves nowhere
    }
    const rel = relative(realRepo, real);
    if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
      return `"${pattern}" goes through the symlink "${relative(repo, cur)}", which points outside the repository (${real}); name files inside the repository`;
    }
  }
  return undefined;
}

/** Issues for every ticket scope in the files that leaves `repo` through a symlink. */
export function scopeSymlinkIssues(repo: string, files: readonly ImportFile[]): ImportIssue[] {
  const issues: ImportIssue[] = [];
  for (const f of files) {
    const parsed = parseJsonFile(f.name, f.text);
    if (!parsed.ok) continue;
    const imp = detectImporter(f.name, parsed.value);
    if (!imp) continue;
    for (const lt of imp.collect([f]).tickets) {
      const field = lt.dependsField === 'depends_on' ? 'files_scope' : 'files';
      for (const pattern of lt.spec.files) {
        const why = scopeEscape(repo, pattern);
        if (why) issues.push({ file: lt.file, ticketId: lt.spec.id, field, message: why });
      }
    }
  }
  return issues;
}

/** Throws ImportError when a scope leaves the repository through a symlink. */
export function assertScopesInside(repo: string, files: readonly ImportFile[]): void {
  const issues = scopeSymlinkIssues(repo, files);
  if (issues.length) throw new ImportError(issues);
}
