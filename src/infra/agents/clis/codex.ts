// Codex CLI (npm @openai/codex).
//
// Facts of 0.171.0 this file relies on (checked against the real CLI and a scripted Responses
// API server, test/agents/try-codex.ts):
// - Its workspace-write sandbox (bubblewrap) makes every writable root's `.git` read-only, and
//   for a worktree also the git dir its `.git` file points at (`<common>/worktrees/<name>`).
//   A folder given with --add-dir is writable even there, so the run folder, the worktree's
//   git dir and the common git dir (objects, refs) are added: orchard-agent and git commit work.
// - Commands run in a login shell by default, which re-reads /etc/profile and resets PATH:
//   `allow_login_shell=false` keeps orchard-agent on PATH.
// - `-c` splits a dotted key at every dot, even inside quotes (a worktree under
//   `repo.orchard/` was ignored as an unknown setting): the trusted projects go in one inline
//   table. A project trusted this way (for this session only, nothing written) skips the
//   "Folder access" screen; Codex resolves a worktree to its repository's root for trust.
// - `notify` runs a program at the end of every turn with the JSON payload as its last
//   argument: {"type":"agent-turn-complete","thread-id","turn-id","cwd","client",
//   "input-messages":[...],"last-assistant-message":"..."}. The TUI also names each new
//   thread through a hidden turn of its own ("Generate a concise, single-line task title…"),
//   which fires notify too, with another thread-id: that one is filtered out.
// - `exec --json` prints JSONL; `turn.completed` carries usage {input_tokens (cached
//   included), cached_input_tokens, output_tokens, reasoning_output_tokens}. No cost. The TUI
//   prints "Token usage: total=… input=… output=…" when it exits.
// - 429 and 5xx are retried by Codex itself (provider keys request_max_retries, default 4,
//   and stream_max_retries, default 5, backoff from 200 ms; a 429's retry-after is honoured):
//   about 5 s for a 429 and 25 s for a 503 with the defaults, then exit 1 with
//   "exceeded retry limit, last status: 429 Too Many Requests" or
//   "unexpected status 503 Service Unavailable: …".
import { runGitSync } from '../../git/run';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { AgentUsage } from '../profiles';
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
    const out = runGitSync(['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir'], { cwd: worktree }).stdout;
    const dirs = out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((d) => (isAbsolute(d) ? d : resolve(worktree, d)));
    if (dirs.length) return [...new Set(dirs)];
  } catch {
    /* git older than 2.31 (no --path-format), or not a worktree yet */
  }
  // The run folder is <common>/orchard/runs/<id>; a worktree's .git file names its own git dir.
  const common = dirname(dirname(dirname(runDir)));
  try {
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(join(worktree, '.git'), 'utf8'));
    if (m) return [...new Set([resolve(worktree, m[1]!.trim()), common])];
  } catch {
    /* no .git file */
  }
  return [common];
}

/**
 * Turns of Codex's own making that fire `notify` like the agent's turns: the TUI's thread
 * title and its catch-up recap. Matched at the start of the payload's input-messages.
 */
const INTERNAL_TURNS = ['Generate a concise, single-line task title', 'Write a brief catch-up for a user returning to this Codex task'];

/**
 * The notify program: a POSIX sh filter in front of `orchard-agent hook turn-end <payload>`
 * (Codex appends the payload as the last argument; $0 is orchard-agent).
 */
export function codexNotifyArgv(orchardAgent: string): string[] {
  const skip = INTERNAL_TURNS.map((p) => `*'"input-messages":["${p}'*`).join('|');
  return ['/bin/sh', '-c', `case "$1" in ${skip}) exit 0;; esac; exec "$0" hook turn-end "$1"`, orchardAgent];
}

export const codex: CliDefinition = {
  npmPackage: '@openai/codex',
  testedVersion: '0.171.0',
  versionArgv: ['codex', '--version'],
  // `exec` is headless (approval "never": it never waits for anyone; stdin is read to its end
  // first, so it must be /dev/null or closed); --json prints JSONL events with the usage.
  // --sandbox workspace-write keeps writes inside the worktree and the folders prepare() adds.
  profile: {
    name: 'codex',
    description: 'Codex CLI',
    argv: ['codex', 'exec', '--json', '--sandbox', 'workspace-write', '--skip-git-repo-check', '--model', '{model}', '{prompt}'],
    interactiveArgv: ['codex', '--sandbox', 'workspace-write', '--ask-for-approval', 'on-request', '--model', '{model}', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, "you've hit your usage limit", 'stream disconnected before completion.*rate', '503 service unavailable'],
    needsInputPatterns: [
      ...COMMON_NEEDS_INPUT,
      'allow command\\?',
      'approval required',
      'would you like to (run the following command|make the following edits|grant these permissions)\\?',
    ],
    donePatterns: ['^tokens used', '^\\{"type":"turn\\.completed"'],
    usage: 'codex',
  },
  parseUsage(text) {
    // exec --json: one turn.completed per turn; summed.
    let found = false;
    let input = 0;
    let output = 0;
    for (const line of text.split('\n')) {
      const l = line.trim();
      if (!l.startsWith('{"type":"turn.completed"')) continue;
      try {
        const u = (JSON.parse(l) as { usage?: Record<string, unknown> }).usage ?? {};
        input += typeof u.input_tokens === 'number' ? u.input_tokens : 0;
        output += typeof u.output_tokens === 'number' ? u.output_tokens : 0;
        found = true;
      } catch {
        /* a line cut short */
      }
    }
    if (found) return { inputTokens: input, outputTokens: output, tokens: input + output } satisfies AgentUsage;
    // The TUI on exit: "Token usage: total=4,050 input=3,600 (+ 1,200 cached) output=450 (reasoning 12)".
    const tui = [...text.matchAll(/Token usage: total=([\d,]+) input=([\d,]+)(?: \(\+ [\d,]+ cached\))? output=([\d,]+)/g)].pop();
    if (tui) return { inputTokens: num(tui[2]), outputTokens: num(tui[3]), tokens: num(tui[1]) };
    // Plain exec output: "tokens used\n4,050" (a total only).
    const m = /^tokens used[:\s]*\n?\s*([\d,]+)/im.exec(text) ?? /tokens used[:\s]*\n?\s*([\d,]+)/i.exec(text);
    return m ? { tokens: num(m[1]) } : undefined;
  },
  prepare(ctx) {
    const dirs = gitDirs(ctx.worktree, ctx.runDir);
    const common = dirs[dirs.length - 1]!;
    // Codex trusts a worktree through its repository's root (the common dir's parent folder).
    const trusted = [...new Set([ctx.worktree, common.endsWith('/.git') ? dirname(common) : common])];
    const args = [
      // Commands run in a non-login shell: a login shell re-reads /etc/profile, which resets PATH
      // (orchard-agent would be "command not found").
      '-c',
      'allow_login_shell=false',
      // Writable besides the worktree: the run folder (orchard-agent's files) and the git dirs.
      '--add-dir',
      ctx.runDir,
      ...dirs.flatMap((d) => ['--add-dir', d]),
      // Trusted for this session only (nothing written to the user's config.toml). One inline
      // table: a dotted -c key is split at every dot, even inside quotes.
      // No "Update available" screen offering `npm install -g` in an agent's terminal.
      '-c',
      'check_for_update_on_startup=false',
      '-c',
      `projects={${trusted.map((p) => `${toml(p)}={trust_level="trusted"}`).join(',')}}`,
    ];
    // End of each turn in the TUI (headless runs end when exec exits).
    if (ctx.interactive) {
      args.push('-c', `notify=[${codexNotifyArgv(ctx.orchardAgent).map(toml).join(',')}]`);
      // Text typed by Orchard (an answer, `/exit`) arrives as fast as a paste; with paste-burst
      // detection on, the Enter right after it becomes a newline in the composer, not a submit.
      args.push('-c', 'disable_paste_burst=true');
    }
    return { args };
  },
  screens: [
    // Not expected (prepare() trusts the worktree for the session); "Trust and continue" would
    // save trust in the user's config.toml, so it is the human's call.
    { name: 'Codex folder trust', pattern: 'Folder access[\\s\\S]*Trust this folder\\?' },
    // No provider or API key configured: only the human can sign in.
    { name: 'Codex sign-in', pattern: 'Choose how you want to use Codex|Sign in with ChatGPT[\\s\\S]*Sign in with Device Code' },
    // With --ask-for-approval on-request the model may ask to run a command outside the sandbox
    // (network, files elsewhere). No hook or notify reports it: it is a question for the human.
    // Typed answers: "y" runs it, "p" also allows that command prefix for the session, Esc refuses
    // (then text tells Codex what to do instead).
    { name: 'Codex approval', pattern: 'Would you like to (run the following command|make the following edits|grant these permissions)\\?' },
    // The repository's own hooks, new or changed since the user trusted them: they run outside
    // the sandbox, so the agent goes on without them (nothing is saved); the user reviews them.
    { name: 'Codex hooks review', pattern: 'Hooks need review[\\s\\S]*Continue without trusting', keys: ['3'] },
    // Off through check_for_update_on_startup=false; Esc is its "Skip" (nothing saved).
    { name: 'Codex update available', pattern: 'Update available[\\s\\S]*Skip until next version', keys: ['Escape'] },
  ],
  // `/exit` in the composer ends the TUI cleanly (the thread is saved); SIGTERM after that.
  endSession: { keys: ['/exit', 'Enter'], graceMs: 5000 },
  completion:
    'Codex CLI: Orchard passes a `notify` program (`-c notify=[…]`) that Codex runs at the end of every turn of its terminal UI with a JSON payload (`type: agent-turn-complete`, `last-assistant-message`); it calls `orchard-agent hook turn-end`. A turn that leaves changes in the worktree (or follows `orchard-agent done`) finishes the run and Orchard types `/exit`; a turn with no changes is a question to the human, escalated once with the last assistant message, and the answer is typed into the terminal. The thread-title turn Codex runs by itself is filtered out. Headless (`codex exec --json`), the run ends when Codex exits; usage comes from its `turn.completed` events.',
};
