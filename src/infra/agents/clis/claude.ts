// Claude Code (npm @anthropic-ai/claude-code), checked with 2.1.197 against a scripted
// Anthropic Messages API server (test/agents/try-claude.ts, test/agents/claude.config.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runGitSync } from '../../git/run';
import type { AgentUsage } from '../profiles';
import type { CliDefinition, PrepareContext } from './types';
import { COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, lastJsonObject } from './common';

const readJson = (file: string): Record<string, unknown> | undefined => {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** Shell quoting for a hook command (Claude Code runs hook commands through sh -c). */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Bash commands the agent runs with no approval prompt (headless `-p` denies what is not
 * allowed, a terminal stops on a permission dialog). Orchard's agents work unattended in their
 * own worktree, so the Bash tool is allowed there as a whole: narrower rules cannot admit
 * everyday shell (`$(…)` command substitution always asks unless Bash itself is allowed), and
 * a question per command would make every ticket an escalation. The explicit rules keep
 * orchard-agent and committing allowed if a user narrows `Bash`. Pushing is Orchard's
 * merge queue's job, never the agent's.
 */
export function claudeAllowRules(orchardAgent: string): string[] {
  return ['Bash', 'Bash(orchard-agent:*)', `Bash(${orchardAgent}:*)`, 'Bash(git add:*)', 'Bash(git commit:*)', 'Bash(git rm:*)', 'Bash(git mv:*)'];
}
export const CLAUDE_DENY_RULES = ['Bash(git push:*)'];

/** The hooks: Stop (end of every turn, payload has last_assistant_message) and Notification. */
export function claudeHooks(orchardAgent: string): Record<string, unknown[]> {
  const hook = (verb: string) => [{ hooks: [{ type: 'command', command: `${sq(orchardAgent)} hook ${verb} --stdin`, timeout: 30 }] }];
  return { Stop: hook('turn-end'), Notification: hook('needs-input') };
}

/**
 * Writes `.claude/settings.local.json` in the worktree (git-excluded by Orchard's worktree
 * setup), merged with what is there: Orchard's hooks replace earlier Orchard hooks, the
 * user's stay; the allow rules are added once.
 */
export function writeClaudeSettings(worktree: string, orchardAgent: string): string {
  const file = join(worktree, '.claude', 'settings.local.json');
  mkdirSync(dirname(file), { recursive: true });
  const existing = readJson(file) ?? {};
  const hooks = { ...((existing.hooks as Record<string, unknown[]> | undefined) ?? {}) };
  for (const [event, ours] of Object.entries(claudeHooks(orchardAgent))) {
    const kept = (hooks[event] ?? []).filter((h) => !/orchard-agent['"]? hook /.test(JSON.stringify(h)));
    hooks[event] = [...kept, ...ours];
  }
  const permissions = { ...((existing.permissions as Record<string, unknown> | undefined) ?? {}) };
  const allow = Array.isArray(permissions.allow)
    ? (permissions.allow as string[]).filter((r) => !/orchard-agent/.test(r) || r === 'Bash(orchard-agent:*)')
    : [];
  permissions.allow = [...new Set([...allow, ...claudeAllowRules(orchardAgent)])];
  const deny = Array.isArray(permissions.deny) ? (permissions.deny as string[]) : [];
  permissions.deny = [...new Set([...deny, ...CLAUDE_DENY_RULES])];
  writeFileSync(file, JSON.stringify({ ...existing, permissions, hooks }, null, 2) + '\n');
  return file;
}

/**
 * The folder Claude Code keys its trust on for a worktree: the main repository's root (it
 * follows a linked worktree's .git file to the common dir), and trust is inherited from
 * parent folders. Undefined when git cannot tell.
 */
export function claudeTrustRoot(worktree: string): string | undefined {
  try {
    const common = runGitSync(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: worktree }).stdout.trim();
    const abs = resolve(worktree, common);
    return abs.endsWith('/.git') ? dirname(abs) : worktree;
  } catch {
    return undefined;
  }
}

/** `~/.claude.json` of the agent's environment (CLAUDE_CONFIG_DIR moves it). */
function globalConfigFile(env: PrepareContext['env']): string {
  if (env.CLAUDE_CONFIG_DIR) return join(env.CLAUDE_CONFIG_DIR, '.claude.json');
  return join(env.HOME ?? homedir(), '.claude.json');
}

function trusted(config: Record<string, unknown>, folder: string): boolean {
  const projects = (config.projects ?? {}) as Record<string, { hasTrustDialogAccepted?: boolean } | undefined>;
  for (let dir = resolve(folder); ; dir = dirname(dir)) {
    if (projects[dir]?.hasTrustDialogAccepted === true) return true;
    if (dirname(dir) === dir) return false;
  }
}

/**
 * Interactive sessions show a folder-trust dialog unless the repository (or a parent) is
 * trusted in ~/.claude.json; no flag or per-worktree file can answer it. With the user's
 * consent (trustWorktrees) Orchard marks the repository root trusted there, and says so.
 */
function ensureTrust(ctx: PrepareContext): void {
  const root = claudeTrustRoot(ctx.worktree) ?? ctx.worktree;
  const file = globalConfigFile(ctx.env);
  const config = readJson(file);
  if (config && trusted(config, root)) return;
  if (!ctx.trustWorktrees) return; // the trust screen becomes an escalation (screens below)
  if (existsSync(file) && !config) {
    ctx.log(`Claude Code: ${file} is not readable JSON; the folder-trust screen will ask instead`);
    return;
  }
  const next = { ...(config ?? {}) };
  const projects = { ...((next.projects as Record<string, Record<string, unknown>> | undefined) ?? {}) };
  projects[root] = { ...(projects[root] ?? {}), hasTrustDialogAccepted: true };
  next.projects = projects;
  const tmp = `${file}.orchard-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(next, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
  ctx.log(
    `Claude Code: marked ${root} trusted (projects["${root}"].hasTrustDialogAccepted = true in ${file}), so its worktrees open without the folder-trust dialog`,
  );
}

/** Tokens and cost of a `--output-format json` result (or stream-json's last result line). */
export function parseClaudeUsage(text: string): AgentUsage | undefined {
  const o = lastJsonObject(text, '"type":"result"') ?? lastJsonObject(text, 'total_cost_usd');
  if (!o) return undefined;
  const cost = typeof o.total_cost_usd === 'number' ? o.total_cost_usd : undefined;
  // modelUsage: per model, the whole session (main loop, sub-agents, the small fast model);
  // `usage` is the main loop only.
  const models = o.modelUsage && typeof o.modelUsage === 'object' ? Object.values(o.modelUsage as Record<string, Record<string, unknown>>) : [];
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  let input = 0;
  let output = 0;
  if (models.length) {
    for (const m of models) {
      input += n(m.inputTokens) + n(m.cacheReadInputTokens) + n(m.cacheCreationInputTokens);
      output += n(m.outputTokens);
    }
  } else {
    const u = (o.usage ?? {}) as Record<string, unknown>;
    input = n(u.input_tokens) + n(u.cache_creation_input_tokens) + n(u.cache_read_input_tokens);
    output = n(u.output_tokens);
  }
  if (!models.length && !o.usage && cost === undefined) return undefined;
  return { costUsd: cost, inputTokens: input, outputTokens: output, tokens: input + output };
}

export const claude: CliDefinition = {
  npmPackage: '@anthropic-ai/claude-code',
  testedVersion: '2.1.197',
  versionArgv: ['claude', '--version'],
  // -p/--print is headless and never prompts (a command not allowed is denied, not asked);
  // --output-format json prints one result object at the end with total_cost_usd, usage and
  // modelUsage. acceptEdits: file edits in the worktree need no approval.
  profile: {
    name: 'claude',
    description: 'Claude Code',
    argv: ['claude', '-p', '{prompt}', '--permission-mode', 'acceptEdits', '--output-format', 'json', '--model', '{model}'],
    interactiveArgv: ['claude', '--permission-mode', 'acceptEdits', '--model', '{model}', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'claude (ai )?usage limit reached', 'overloaded_error', '"api_error_status":\\s*(429|529)\\b'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'claude needs your permission', 'claude is waiting for your input'],
    donePatterns: ['"type"\\s*:\\s*"result"'],
    usage: 'claude-json',
    hooks: 'claude',
  },
  parseUsage: parseClaudeUsage,
  prepare(ctx) {
    writeClaudeSettings(ctx.worktree, ctx.orchardAgent);
    if (ctx.interactive) ensureTrust(ctx);
    return {
      env: {
        // No auto-update, telemetry or surveys inside an agent run.
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
      },
    };
  },
  screens: [
    // Without the user's consent to trust worktrees (or a repository Claude Code already trusts).
    {
      name: 'Claude Code folder trust',
      pattern: 'Is this a project you created or one you trust|Do you trust the files in this folder',
      options: { 'Yes, I trust this folder': ['1'], 'No, exit': ['2'] },
    },
    // The user's ANTHROPIC_API_KEY was never approved in Claude Code: the user's call (Enter picks "No").
    {
      name: 'Claude Code custom API key',
      pattern: 'Detected a custom API key|Do you want to use this API key',
      options: { 'Yes, use this API key': ['1'], No: ['2'] },
    },
  ],
  // Its permission dialog takes free text + Enter as "Yes" (the highlighted choice): the answer
  // goes in as the choice's number; guidance after "No" is typed as what to do instead.
  notices: [{ pattern: 'needs your permission', options: { Yes: ['1'], "Yes, and don't ask again": ['2'], 'No, and tell Claude what to do': ['3'] } }],
  // `/exit` ends the session the way the user would. Escape first: with a permission dialog
  // open, Enter would pick its highlighted "1. Yes" (the command would run); Escape rejects it
  // and leaves the prompt, and at an idle prompt it does nothing. Ctrl-C twice exits only at
  // the prompt (not with a dialog open).
  endSession: { keys: ['Escape', '/exit', 'Enter'], graceMs: 5000 },
  completion:
    'Claude Code: a Stop hook (in the worktree\'s .claude/settings.local.json) runs `orchard-agent hook turn-end --stdin` at the end of every turn with `last_assistant_message` in its JSON payload; a turn that leaves changes (or follows `orchard-agent done`) is finished and Orchard types Escape, `/exit`, Enter, a turn with no changes is a question to the human. Its Notification hook (`hook needs-input --stdin`: "Claude needs your permission to use …", "Claude is waiting for your input") becomes an escalation. Headless, `claude -p` exits when the task is done and its JSON result carries the cost and per-model tokens.',
};
