// Gemini CLI (npm @google/gemini-cli).
import { runGitSync } from '../../git/run';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentUsage } from '../profiles';
import type { CliDefinition, PrepareContext, Prepared } from './types';
import { COMMON_RATE_LIMIT_PATTERNS, lastJsonObject } from './common';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** JSON with comments, as Gemini CLI reads its settings files (strip-json-comments). */
function readJsonc(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str: string | undefined) => str ?? '')) as Record<string, unknown>;
  }
}

const git = (cwd: string, args: string[]): { code: number; out: string } => {
  const r = runGitSync(args, { cwd, reject: false });
  return { code: r.exitCode, out: r.ok ? r.stdout.trim() : '' };
};

const OURS = /orchard-agent'? hook /;
const SETTINGS = '.gemini/settings.json';

/**
 * Orchard's end-of-turn hooks in the worktree's `.gemini/settings.json` (project settings, read
 * because the worktree is trusted for the session), merged with what the repository has there.
 * Gemini CLI has no per-invocation settings file a user can point at: its system-defaults and
 * system-settings overrides are refused unless root owns the file and every parent folder.
 * The file never becomes the agent's change: tracked, it is marked skip-worktree in this
 * worktree's own index; untracked, it is listed in the repository's info/exclude.
 */
function prepare(ctx: PrepareContext): Prepared {
  const file = join(ctx.worktree, SETTINGS);
  let existing: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      existing = readJsonc(file);
    } catch (e) {
      ctx.log(
        `${SETTINGS} in the worktree is not valid JSON (${(e as Error).message}); Gemini CLI will refuse it too, so Orchard's end-of-turn hooks are not installed`,
      );
      return { env: { GEMINI_CLI_TRUST_WORKSPACE: 'true' } };
    }
  }
  const hooks: Record<string, unknown[]> = {};
  for (const [event, defs] of Object.entries((existing.hooks as Record<string, unknown[]> | undefined) ?? {})) {
    // Orchard's hooks from an earlier run in this worktree (another run folder) go.
    hooks[event] = Array.isArray(defs) ? defs.filter((d) => !OURS.test(JSON.stringify(d))) : defs;
    if (Array.isArray(hooks[event]) && !hooks[event]!.length) delete hooks[event];
  }
  if (ctx.interactive) {
    const add = (event: string, verb: string) => {
      hooks[event] = [
        ...(hooks[event] ?? []),
        { hooks: [{ type: 'command', name: `orchard-${verb}`, command: `${quote(ctx.orchardAgent)} hook ${verb} --stdin`, timeout: 30_000 }] },
      ];
    };
    // AfterAgent: once per turn, after the model's final answer; stdin JSON with
    // `prompt_response` (the answer), `prompt`, `stop_hook_active`, session_id, cwd...
    add('AfterAgent', 'turn-end');
    // Notification (notification_type "ToolPermission", `message`): a tool call waits for approval.
    add('Notification', 'needs-input');
  }
  // Headless runs end when the process exits: no hooks (and none left from an interactive run).
  const tracked = git(ctx.worktree, ['ls-files', '--error-unmatch', '--', SETTINGS]).code === 0;
  if (!tracked && !Object.keys(hooks).length && !existsSync(file)) return { env: { GEMINI_CLI_TRUST_WORKSPACE: 'true' } };
  const next: Record<string, unknown> = { ...existing, hooks };
  if (ctx.interactive) {
    // With the default errorVerbosity "low" the TUI retries a 429/503 forever, silently
    // ("Thinking..."); "full" shows its quota dialog (Keep trying / Stop) after
    // general.maxAttempts, which Orchard sees on the screen and escalates.
    const ui = (existing.ui as Record<string, unknown> | undefined) ?? {};
    next.ui = { ...ui, errorVerbosity: 'full' };
  }
  if (!Object.keys(hooks).length) delete next.hooks;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(next, null, 2) + '\n');
  if (tracked) {
    git(ctx.worktree, ['update-index', '--skip-worktree', '--', SETTINGS]);
    ctx.log(`Gemini CLI end-of-turn hooks added to the worktree's ${SETTINGS} (marked skip-worktree there, so it is never committed)`);
  } else {
    const common = git(ctx.worktree, ['rev-parse', '--path-format=absolute', '--git-common-dir']).out;
    if (common) {
      const exclude = join(common, 'info', 'exclude');
      const text = existsSync(exclude) ? readFileSync(exclude, 'utf8') : '';
      if (!text.split('\n').includes(`/${SETTINGS}`)) {
        mkdirSync(dirname(exclude), { recursive: true });
        appendFileSync(exclude, `${text && !text.endsWith('\n') ? '\n' : ''}/${SETTINGS}\n`);
        ctx.log(`/${SETTINGS} added to ${exclude}: Orchard writes Gemini CLI's end-of-turn hooks there in each worktree`);
      }
    }
  }
  // The session's trust also comes from the environment (read before the flags are parsed).
  return { env: { GEMINI_CLI_TRUST_WORKSPACE: 'true' } };
}

/**
 * Tokens from the last `result` event of --output-format stream-json (stats.input_tokens,
 * output_tokens, total_tokens) or from the object of --output-format json
 * (stats.models[*].tokens.prompt, candidates, thoughts, total). Output counts the model's thinking
 * too (billed as output): total minus input where that is more than the answer's tokens.
 */
export function parseUsage(text: string): AgentUsage | undefined {
  const o = lastJsonObject(text, '"stats"');
  const stats = o?.stats as Record<string, unknown> | undefined;
  if (!stats) return undefined;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  if (typeof stats.input_tokens === 'number' || typeof stats.total_tokens === 'number') {
    const input = n(stats.input_tokens);
    const total = n(stats.total_tokens);
    const output = Math.max(n(stats.output_tokens), total - input);
    return { inputTokens: input, outputTokens: output, tokens: total || input + output };
  }
  const models = (stats.models ?? {}) as Record<string, { tokens?: Record<string, unknown> }>;
  let input = 0;
  let output = 0;
  let total = 0;
  for (const m of Object.values(models)) {
    input += n(m.tokens?.prompt);
    output += n(m.tokens?.candidates) + n(m.tokens?.thoughts);
    total += n(m.tokens?.total);
  }
  return { inputTokens: input, outputTokens: output, tokens: total || input + output };
}

export const gemini: CliDefinition = {
  npmPackage: '@google/gemini-cli',
  testedVersion: '0.61.0',
  versionArgv: ['gemini', '--version'],
  // -p/--prompt headless, -i/--prompt-interactive keeps the TUI after the first prompt.
  // --skip-trust trusts the worktree for this session only (GEMINI_CLI_TRUST_WORKSPACE=true):
  // without it, headless exits 55 ("Gemini CLI is not running in a trusted directory...") and
  // the TUI opens its folder-trust dialog in every new worktree; an untrusted folder also turns
  // yolo off and ignores the worktree's .gemini/settings.json (where the hooks are).
  // --approval-mode yolo approves every tool call (shell included), so orchard-agent and git run
  // without a prompt. --output-format stream-json prints one JSON event a line as the agent works
  // (tool_use, tool_result, message) and ends with a `result` event holding `stats`, errors included.
  profile: {
    name: 'gemini',
    description: 'Gemini CLI',
    argv: ['gemini', '--skip-trust', '--approval-mode', 'yolo', '--model', '{model}', '--output-format', 'stream-json', '-p', '{prompt}'],
    interactiveArgv: ['gemini', '--skip-trust', '--approval-mode', 'yolo', '--model', '{model}', '-i', '{prompt}'],
    // 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE "The model is overloaded": the CLI retries them
    // itself (general.maxAttempts, 10: about 3.5 min), then exits with the status code mod 256
    // (429 -> 173, 503 -> 247) after `{"type":"result","status":"error","error":{...}}`.
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'quota .*exhausted', 'exceeded your current quota'],
    // Headless Gemini CLI never waits for input (no stdin, every tool approved): nothing to look
    // for in its output, where tool results would only give false alarms. In a terminal the
    // Notification and AfterAgent hooks say when it waits.
    needsInputPatterns: [],
    donePatterns: ['"type"\\s*:\\s*"result"', '"stats"\\s*:'],
    usage: 'gemini',
  },
  prepare,
  // None of these shows with the flags and settings above; each one is the human's call.
  screens: [
    // After general.maxAttempts of 429/503 (errorVerbosity "full", set by prepare): "We are
    // currently experiencing high demand." / a quota message, then "1. Keep trying  2. Stop"
    // (or "Switch to <model>"). Typed answers: 1 + Enter keeps trying.
    { name: 'Gemini CLI rate limit or overload (its retries are used up)', pattern: '\\bKeep trying\\b[\\s\\S]*\\bStop\\b' },
    { name: 'Gemini CLI folder trust', pattern: 'Do you trust the files in this folder\\?' },
    { name: 'Gemini CLI sign-in (no auth method chosen in ~/.gemini/settings.json)', pattern: 'How would you like to authenticate' },
    { name: 'Gemini CLI tool approval (YOLO mode disabled by settings or admin)', pattern: 'Allow execution of|Apply this change\\?' },
  ],
  // /quit ends the session (its SessionEnd hooks run, the chat is saved for --resume). The TUI
  // takes an Enter that follows a typed character within 30 ms as a newline, not a submission.
  // Its exit codes (packages/cli exit codes; after an API error, the HTTP status mod 256).
  explainExit(code, output) {
    const said = /not running in a trusted directory[^\n]*/i.exec(output)?.[0];
    switch (code) {
      case 55:
        return `Gemini CLI does not trust the worktree (exit 55)${said ? `: ${said.slice(0, 300)}` : ''}`;
      case 41:
        return 'Gemini CLI could not authenticate (exit 41): check GEMINI_API_KEY or its sign-in';
      case 52:
        return "Gemini CLI refused its settings (exit 52): check ~/.gemini/settings.json and the worktree's .gemini/settings.json";
      case 53:
        return 'Gemini CLI reached its turn limit (exit 53)';
      case 173:
        return 'the Gemini API rate-limited it (429)';
      case 247:
        return 'the Gemini API was overloaded (503)';
      default:
        return undefined;
    }
  },
  completion:
    "Gemini CLI: an `AfterAgent` hook in the worktree's `.gemini/settings.json` (kept out of git) runs `orchard-agent hook turn-end --stdin` at the end of every turn with `prompt_response` in its payload; a turn that leaves changes (or follows `orchard-agent done`) finishes the run and Orchard types `/quit`; a turn without changes is one question to the human, typed back in. Its `Notification` hook (tool permission) becomes an escalation. Headless, `gemini -p` exits when the task is done; `--output-format stream-json` ends with the token counts.",
  // /quit usually ends it within a second; when the TUI is still busy it is ended by signal
  // (its whole process tree: its parent ignores SIGTERM) after a short grace.
  endSession: { keys: ['/quit', 'Enter'], graceMs: 2500 },
  parseUsage,
};
