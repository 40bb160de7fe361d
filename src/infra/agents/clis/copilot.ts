// GitHub Copilot CLI (npm @github/copilot; the package is a native binary that unpacks its
// JavaScript into $XDG_CACHE_HOME/copilot/pkg/<platform>/<version>/ on first start).
//
// What 1.0.102 does, as checked against a scripted model server (test/agents/try-copilot.ts):
// - Headless: `-p <prompt>` needs `--allow-all-tools`; `--no-ask-user` removes the ask_user
//   tool so it never waits. It ends with a stats block on stdout:
//     Changes    +0 -0
//     Duration   0s
//     Tokens     ↑ 1.2m (1.0m cached) • ↓ 2.5k (1.0k reasoning)
//     Resume     copilot --resume=<session id>
//   (no cost line with a custom provider; no Tokens line when no model call succeeded). The
//   exact numbers exist only in `--usage-output-file <file>` (JSON) — the JSONL of
//   `--output-format json` carries no token counts — so the log's Tokens line is read.
// - A folder it does not trust shows "Confirm folder trust" in its terminal UI (not in -p).
//   COPILOT_ALLOW_ALL=true (exactly "true") trusts the working directory for this process
//   without writing ~/.copilot (besides approving all tools, as --allow-all-tools does).
// - Hooks: repo hooks (.github/hooks/*.json) load only in a trusted folder and would be files
//   in the worktree; a plugin given with --plugin-dir loads its hooks without trust, so the
//   hooks live in the run folder. `agentStop` fires at the end of every turn with
//   {sessionId, cwd, transcriptPath, stopReason: "end_turn"} — no last message: it is the
//   last `assistant.message` event of the transcript (events.jsonl). `notification` fires
//   for a permission dialog with {message: "Path permission needed: …", notification_type:
//   "permission_prompt"}.
// - Outside the worktree (and the system temp folder) a path in a shell command opens
//   "Allow path access" (headless: denied, "no one to approve"); --add-dir adds the run folder
//   so orchard-agent's files never do. Its dialogs are choices: a digit picks an option, other
//   typed text is ignored and Enter picks the preselected one ("2. Yes, and remember this path
//   for this session"); "3. No" refuses and cancels the turn, and no hook follows.
// - Its bash tool waits `initial_wait` (30 s by default) for a command, then tells the model it is
//   still running and that it will be notified; the model ends its turn (agentStop fires) and
//   the CLI wakes it with a system notification when the command completes (headless too: -p
//   exits only after that). A blocking `orchard-agent escalate` answered after 30 s does this;
//   the relay does not report such a turn end.
// - Text typed into its prompt and then Enter is one message (no delay needed); a newline
//   typed literally (tmux send-keys -l with \n) stays in the message, Enter sends it.
// - 429: retried 5 times, honouring retry-after (about 6 s with retry-after: 1, about 60 s
//   without), then "Failed to get response from the AI model; retried 5 times (…) Last
//   error: 429 Rate limit reached …", exit 1. 503: "Request failed due to a transient API
//   error. Retrying..." 5 times (about 14 s), then "Last error: 503 The server is overloaded
//   or not ready yet.", exit 1. No setting shortens this.
// - `/exit` typed into the TUI ends the session (sessionEnd hook, reason "user_exit").
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliDefinition } from './types';
import { ANSI, COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, scaled } from './common';

/** A word for /bin/sh, quoted. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The hook relay (CommonJS, run by the node that runs orchard-agent): reads the hook's JSON
 * on stdin, adds the agent's last words from the transcript to a turn end, drops
 * notifications that are not a wait for the human, and calls `orchard-agent hook <kind>` with
 * the payload as its JSON argument. It always succeeds and prints `{}` (no hook decision).
 */
export const RELAY = `'use strict';
const fs = require('fs');
const { spawnSync } = require('child_process');
const [kind, orchardAgent] = process.argv.slice(2);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
function readEvents(file) {
  let lines;
  try { lines = fs.readFileSync(file, 'utf8').split('\\n'); } catch { return undefined; }
  const events = [];
  for (const line of lines) {
    try { if (line) events.push(JSON.parse(line)); } catch {}
  }
  return events;
}
const textOf = (r) => (typeof r === 'string' ? r : r && typeof r.content === 'string' ? r.content : '');
// An orchard-agent call (escalate, lock) still running in a shell the bash tool gave up waiting
// on (after its initial_wait, 30 s by default): the agent ended its turn to wait for it, and the
// CLI wakes it when the command completes. That turn end is not a wait for the human.
function waitsForOrchardAgent(events) {
  const commands = new Map();
  const running = new Map();
  for (const e of events) {
    const d = e.data || {};
    if (e.agentId) continue;
    if (e.type === 'tool.execution_start' && d.arguments && typeof d.arguments.command === 'string') commands.set(d.toolCallId, d.arguments.command);
    if (e.type === 'tool.execution_complete') {
      const t = textOf(d.result);
      const still = /<command with shellId: (\\S+?) is still running/.exec(t);
      if (still) running.set(still[1], commands.get(d.toolCallId) || '');
      const done = /<shellId: (\\S+?) completed/.exec(t);
      if (done) running.delete(done[1]);
    }
    if (e.type === 'system.notification' && d.kind && d.kind.shellId !== undefined && /complete|exit|fail|kill|stop/i.test(String(d.kind.type))) running.delete(String(d.kind.shellId));
  }
  return [...running.values()].some((c) => /(^|[\\s;&|(])orchard-agent\\s/.test(c));
}
function lastAssistantMessage(events) {
  if (!events) return undefined;
  // The main agent's messages (a sub-agent's carry agentId); a long one may come in chunks.
  const messages = [];
  for (const e of events) {
    const d = e.data || {};
    if (e.type === 'assistant.message' && !e.agentId && !d.parentToolCallId && typeof d.content === 'string') messages.push(d);
  }
  for (let i = messages.length - 1; i >= 0; i--) {
    const d = messages[i];
    if (!d.content.trim()) continue;
    if (!(d.chunkCount > 1)) return d.content.trim();
    const parts = messages.filter((m) => m.messageId === d.messageId).sort((a, b) => (a.chunkIndex || 0) - (b.chunkIndex || 0));
    return parts.map((m) => m.content).join('').trim();
  }
  return undefined;
}
try {
  let payload = {};
  try { payload = JSON.parse(fs.readFileSync(0, 'utf8') || '{}'); } catch {}
  const type = String(payload.notification_type || '');
  let skip = kind === 'needs-input' && /complet|shell|idle/i.test(type);
  // Its permission dialog is a choice (2 is preselected): Orchard offers the choices as options
  // and sends the number (clis/copilot.ts notices), never typed text.
  if (kind === 'turn-end' && !payload.last_assistant_message) {
    const file = payload.transcriptPath || payload.transcript_path;
    let message;
    let events;
    for (let i = 0; i < 10 && file && !message; i++) { events = readEvents(file); message = lastAssistantMessage(events); if (!message) sleep(100); }
    if (message) payload.last_assistant_message = message.slice(0, 8000);
    if (events && waitsForOrchardAgent(events)) skip = true;
  }
  if (!skip) spawnSync(orchardAgent, ['hook', kind, JSON.stringify(payload)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 20000 });
} catch {}
process.stdout.write('{}\\n');
`;

/** Writes the run's Copilot plugin (hooks and their relay) into the run folder; returns its folder. */
export function writeCopilotPlugin(runDir: string, orchardAgent: string, node = process.execPath): string {
  const dir = join(runDir, 'copilot-plugin');
  mkdirSync(join(dir, '.plugin'), { recursive: true });
  const relay = join(dir, 'relay.cjs');
  writeFileSync(relay, RELAY);
  // The runner's node (Electron inside VS Code), as the orchard-agent wrapper runs it.
  const command = (kind: string) => `ELECTRON_RUN_AS_NODE=1 ${sh(node)} ${sh(relay)} ${kind} ${sh(orchardAgent)}`;
  const hook = (kind: string) => [{ type: 'command', bash: command(kind), timeoutSec: 30 }];
  writeFileSync(
    join(dir, 'hooks.json'),
    JSON.stringify({ version: 1, hooks: { agentStop: hook('turn-end'), notification: hook('needs-input') } }, null, 2) + '\n',
  );
  writeFileSync(
    join(dir, '.plugin', 'plugin.json'),
    JSON.stringify(
      {
        name: 'orchard',
        description: "Orchard's run hooks: the end of a turn and a wait for the human go to orchard-agent",
        version: '1.0.0',
        hooks: 'hooks.json',
      },
      null,
      2,
    ) + '\n',
  );
  return dir;
}

/**
 * The stats line's token counts: "Tokens ↑ 7.5k (6.0k cached) • ↓ 200 (50 reasoning)" (headless
 * at the end of the log; in the terminal after /exit, beside the logo).
 */
const TOKENS = /\bTokens\s+↑\s*([\d.,]+)\s*([km]?)\b(?:\s*\(([\d.,]+)\s*([km]?)\s*cached[^)]*\))?[^↓\n]*↓\s*([\d.,]+)\s*([km]?)/gim;

export const copilot: CliDefinition = {
  npmPackage: '@github/copilot',
  testedVersion: '1.0.102',
  versionArgv: ['copilot', '--version'],
  // -p/--prompt is headless and needs --allow-all-tools; --no-ask-user (no ask_user tool) keeps
  // it from waiting on a question, and in the terminal makes a question the end of a turn (one
  // escalation with the agent's words). --no-auto-update: the pinned version runs, not a newer
  // one downloaded in the background.
  profile: {
    name: 'copilot',
    description: 'GitHub Copilot CLI',
    argv: ['copilot', '-p', '{prompt}', '--model', '{model}', '--allow-all-tools', '--no-ask-user', '--no-auto-update'],
    interactiveArgv: ['copilot', '--model', '{model}', '--allow-all-tools', '--no-ask-user', '--no-auto-update', '-i', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'exceeded your copilot', 'last error: (429|503)\\b'],
    needsInputPatterns: [
      ...COMMON_NEEDS_INPUT,
      'do you want to (run this command|allow this|use this tool|approve this request)',
      'do you trust the files in this folder\\?',
    ],
    // The stats block's Tokens line (1.0), "Total usage est" before.
    donePatterns: ['\\bTokens\\s+↑', '^total usage est'],
    usage: 'copilot',
  },
  parseUsage(text) {
    let input = 0;
    let output = 0;
    let seen = false;
    // One stats block per run; a log holding several (retries) adds them up.
    for (const m of text.replace(ANSI, '').matchAll(TOKENS)) {
      input += scaled(m[1], m[2]) ?? 0;
      output += scaled(m[5], m[6]) ?? 0;
      seen = true;
    }
    // Before 1.0 it printed "Total usage est: …" and a line per model: "gpt-5  12.3k input, 1.1k output, …".
    if (!seen) {
      for (const m of text.matchAll(/([\d.,]+)([kKmM]?) input, ([\d.,]+)([kKmM]?) output/g)) {
        input += scaled(m[1], m[2]) ?? 0;
        output += scaled(m[3], m[4]) ?? 0;
        seen = true;
      }
    }
    if (!seen) return undefined;
    // "↑" counts every prompt token, the cached ones included ("(… cached)" is a part of it).
    return { inputTokens: input, outputTokens: output, tokens: input + output };
  },
  prepare(ctx) {
    // The run folder is outside the worktree: orchard-agent's files there never open "Allow path access".
    const args = ['--add-dir', ctx.runDir];
    if (!ctx.interactive) return { args };
    // In the terminal: the end of each turn and a permission dialog go to orchard-agent through
    // a plugin in the run folder (nothing written into the worktree or ~/.copilot); the worktree
    // is trusted for this process only (no "Confirm folder trust").
    const plugin = writeCopilotPlugin(ctx.runDir, ctx.orchardAgent);
    ctx.log(
      `Copilot CLI: its end-of-turn and permission hooks are a plugin in ${plugin} (--plugin-dir); COPILOT_ALLOW_ALL=true trusts the worktree for this session only`,
    );
    return { args: [...args, '--plugin-dir', plugin], env: { COPILOT_ALLOW_ALL: 'true' } };
  },
  screens: [
    // Shown when COPILOT_ALLOW_ALL is not "true" (e.g. removed by a wrapper): "1. Yes" trusts the
    // folder for this session only, as the environment variable does; nothing is remembered.
    { name: 'Copilot CLI folder trust', pattern: 'Confirm folder trust[\\s\\S]*Do you trust the files in this folder\\?', keys: ['1'] },
  ],
  // Its permission dialogs ("Allow path access") take typed text + Enter as the preselected
  // "yes": the answer goes in as the choice's number; 3 refuses and ends the turn, so guidance
  // written with "No" is typed as the next message.
  notices: [{ pattern: 'permission needed|allow .* access|permission', options: { Yes: ['1'], 'Yes, for this session': ['2'], No: ['3'] } }],
  // `/exit` ends the session (its sessionEnd hook runs); typed as text, then Enter.
  endSession: { keys: ['/exit', 'Enter'], graceMs: 5000 },
  completion:
    'Copilot CLI (terminal): a plugin Orchard writes into the run folder (`--plugin-dir`) has an `agentStop` hook, which runs at the end of every turn and calls `orchard-agent hook turn-end` with the agent\'s last message (read from the session transcript, since the hook payload has none); a `notification` hook (a permission dialog such as "Allow path access") calls `orchard-agent hook needs-input`. A turn that ended with changes (or after `orchard-agent done`) finishes the run and Orchard types `/exit`; a turn without changes becomes one escalation with the agent\'s last message, and the answer is typed into the session. The agent has no ask_user tool (`--no-ask-user`), so a question ends its turn. Headless (`-p`), the run ends when the process exits; the token counts come from the `Tokens ↑ … • ↓ …` line it prints last.',
};
