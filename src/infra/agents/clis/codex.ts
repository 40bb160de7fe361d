// Codex CLI (npm @openai/codex).
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, num } from './common';

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
};
