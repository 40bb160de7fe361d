// Codex CLI (npm @openai/codex).
import { execFileSync } from 'node:child_process';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, num } from './common';

/** A TOML basic string (JSON's escapes are a subset TOML reads the same way). */
const toml = (s: string) => JSON.stringify(s);

/**
 * The worktree's own git dir (`<common>/worktrees/<name>`: index, HEAD, logs) and the
 * repository's common git dir (objects, refs), where `git add/commit` in a worktree writes.
 */
function gitDirs(worktree: string, runDir: string): string[] {
  try {
    const out = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir'], { cwd: worktree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const dirs = out.split('\n').map((l) => l.trim()).filter(Boolean).map((d) => (isAbsolute(d) ? d : resolve(worktree, d)));
    if (dirs.length) return [...new Set(dirs)];
  } catch {
    /* not a git worktree (yet): the run folder is <common>/orchard/runs/<id> */
  }
  return [dirname(dirname(dirname(runDir)))];
}

export const codex: CliDefinition = {
  npmPackage: '@openai/codex',
  testedVersion: '0.171.0',
  versionArgv: ['codex', '--version'],
  // `exec` is headless; --full-auto is gone, --sandbox workspace-write keeps writes inside
  // the worktree; exec ends with "tokens used <n>".
  profile: {
    name: 'codex',
    description: 'Codex CLI',
    argv: ['codex', 'exec', '--sandbox', 'workspace-write', '--skip-git-repo-check', '--model', '{model}', '{prompt}'],
    interactiveArgv: ['codex', '--sandbox', 'workspace-write', '--ask-for-approval', 'on-request', '--model', '{model}', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, "you've hit your usage limit", 'stream disconnected before completion.*rate'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'allow command\\?', 'approval required'],
    donePatterns: ['^tokens used'],
    usage: 'codex',
  },
  parseUsage(text) {
    const m = /tokens used[:\s]*\n?\s*([\d,]+)/i.exec(text);
    return m ? { tokens: num(m[1]) } : undefined;
  },
  prepare(ctx) {
    const args = [
      // Commands run in a non-login shell: a login shell re-reads /etc/profile, which resets PATH
      // (orchard-agent would be "command not found").
      '-c',
      'allow_login_shell=false',
      // Writable besides the worktree: the run folder (orchard-agent's files) and the repository's
      // git dir (a worktree's index, refs and objects live there: git add/commit).
      '--add-dir',
      ctx.runDir,
      ...gitDirs(ctx.worktree, ctx.runDir).flatMap((d) => ['--add-dir', d]),
      // End of each turn: `notify` runs this program with the JSON payload as its last argument.
      '-c',
      `notify=[${[ctx.orchardAgent, 'hook', 'turn-end'].map(toml).join(',')}]`,
      // The worktree is trusted for this session only (no write to the user's config.toml).
      '-c',
      `projects.${toml(ctx.worktree)}.trust_level="trusted"`,
    ];
    return { args };
  },
};
