// OpenCode (npm opencode-ai; a compiled Bun binary).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentUsage } from '../profiles';
import type { CliDefinition, PrepareContext, Prepared } from './types';
import { COMMON_RATE_LIMIT_PATTERNS } from './common';

/**
 * Orchard's OpenCode plugin (an ES module OpenCode imports in its own process). OpenCode calls
 * a plugin's `event` hook with every bus event of the session's directory; this one turns them
 * into orchard-agent calls:
 * - `session.idle` (the agent's turn is over, the TUI waits for the next prompt) of a top-level
 *   session (subagent sessions have a parentID) → first `orchard-agent usage` (the tokens and
 *   cost of every assistant message so far, subagents' included, from `message.updated`: the
 *   session's own totals in `session.updated` come after `session.idle`), then `orchard-agent hook turn-end` with
 *   `{"last_assistant_message": <the last text part of an assistant message>}`; a turn that
 *   ended on an error (`session.error`: retries used up, a provider error) says so instead; an
 *   aborted turn (MessageAbortedError: Esc in the TUI, or SIGTERM when Orchard stops the run)
 *   reports no turn end (the work is not finished, and a stopped run must not look done).
 * - `permission.asked` (a tool call waits for approval) and `question.asked` (the question
 *   tool) → `orchard-agent hook needs-input` with the permission / the questions.
 * The payload is the last argument (JSON): nothing is read from stdin.
 */
export function opencodePluginSource(orchardAgent: string): string {
  return `// Written by Orchard for one run: reports OpenCode's turn ends and questions to orchard-agent.
import { execFile } from 'node:child_process';

const AGENT = ${JSON.stringify(orchardAgent)};

function call(args) {
  return new Promise((resolve) => {
    try {
      execFile(AGENT, args, { timeout: 30000, stdio: ['ignore', 'ignore', 'ignore'] }, () => resolve());
    } catch {
      resolve();
    }
  });
}

export const OrchardHooks = async () => {
  const roles = new Map();
  const lastText = new Map();
  const children = new Set();
  const usage = new Map();
  const errors = new Map();
  // session.idle can come twice for one turn (seen after an error): one report per busy spell.
  const reported = new Set();
  // An aborted turn (Esc in the TUI, or SIGTERM: Orchard stopping the run) is no turn end.
  const aborted = new Set();
  const isAbort = (e) => !!e && (e.name === 'MessageAbortedError' || (e.data && e.data.message === 'Aborted'));
  let queue = Promise.resolve();
  const later = (f) => (queue = queue.then(f, f));
  return {
    event: async ({ event }) => {
      const p = (event && event.properties) || {};
      switch (event && event.type) {
        case 'session.created':
        case 'session.updated': {
          const s = p.info || {};
          if (s.parentID) children.add(s.id);
          break;
        }
        case 'message.updated': {
          const m = p.info || {};
          if (m.id) roles.set(m.id, m.role);
          // Each assistant message is one model step; its last update has its final tokens.
          if (m.role === 'assistant' && m.id && m.tokens) usage.set(m.id, { tokens: m.tokens, cost: typeof m.cost === 'number' ? m.cost : 0 });
          if (m.role === 'assistant' && isAbort(m.error) && m.sessionID) aborted.add(m.sessionID);
          else if (m.role === 'assistant' && m.error && m.sessionID) errors.set(m.sessionID, (m.error.data && m.error.data.message) || m.error.name || 'error');
          break;
        }
        case 'message.part.updated': {
          const part = p.part || {};
          if (part.type === 'text' && !part.synthetic && !part.ignored && roles.get(part.messageID) === 'assistant' && typeof part.text === 'string' && part.text.trim()) {
            lastText.set(part.sessionID, part.text.trim());
            errors.delete(part.sessionID);
          }
          break;
        }
        case 'session.status': {
          if (p.sessionID && p.status && p.status.type === 'busy') {
            reported.delete(p.sessionID);
            aborted.delete(p.sessionID);
          }
          break;
        }
        case 'session.error': {
          const e = p.error || {};
          if (p.sessionID && isAbort(e)) aborted.add(p.sessionID);
          else if (p.sessionID) errors.set(p.sessionID, (e.data && e.data.message) || e.name || 'error');
          break;
        }
        case 'session.idle': {
          const id = p.sessionID;
          if (!id || children.has(id) || reported.has(id)) break;
          reported.add(id);
          let input = 0, output = 0, usd = 0;
          for (const u of usage.values()) {
            const t = u.tokens || {};
            const cache = t.cache || {};
            input += (t.input || 0) + (cache.read || 0) + (cache.write || 0);
            output += (t.output || 0) + (t.reasoning || 0);
            usd += u.cost || 0;
          }
          const error = errors.get(id);
          errors.delete(id);
          const message = error ? 'OpenCode stopped on an error: ' + error : lastText.get(id);
          const payload = JSON.stringify({ hook_event_name: 'session.idle', session_id: id, ...(message && { last_assistant_message: message }) });
          const wasAborted = aborted.has(id);
          aborted.delete(id);
          later(async () => {
            if (input || output || usd) await call(['usage', '--input-tokens', String(input), '--output-tokens', String(output), '--usd', String(usd)]);
            if (!wasAborted) await call(['hook', 'turn-end', payload]);
          });
          break;
        }
        case 'permission.asked': {
          const what = [p.permission, ...(Array.isArray(p.patterns) ? p.patterns : [])].filter(Boolean).join(' ');
          later(() => call(['hook', 'needs-input', JSON.stringify({ hook_event_name: 'permission.asked', session_id: p.sessionID, message: 'OpenCode asks permission: ' + what })]));
          break;
        }
        case 'question.asked': {
          const qs = (Array.isArray(p.questions) ? p.questions : []).map((q) => q && (q.question || q.header)).filter(Boolean);
          later(() => call(['hook', 'needs-input', JSON.stringify({ hook_event_name: 'question.asked', session_id: p.sessionID, message: qs.join('\\n') || 'OpenCode asks a question' })]));
          break;
        }
      }
    },
  };
};
`;
}

/** The plugin list of an OPENCODE_CONFIG_CONTENT, ours added (the user's own content kept). */
function configContent(existing: string | undefined, pluginSpec: string, log: (m: string) => void): string {
  let config: Record<string, unknown> = {};
  if (existing?.trim()) {
    try {
      const v = JSON.parse(existing) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) config = v as Record<string, unknown>;
    } catch {
      log('OPENCODE_CONFIG_CONTENT in the environment is not plain JSON; Orchard replaces it for this run with its plugin only');
    }
  }
  const plugins = Array.isArray(config.plugin)
    ? (config.plugin as unknown[]).filter((p) => !(typeof p === 'string' && p.endsWith('/orchard-opencode-plugin.js')))
    : [];
  return JSON.stringify({ ...config, plugin: [...plugins, pluginSpec] });
}

/**
 * Interactive runs: Orchard's plugin goes into the run folder (not the worktree: a `.opencode`
 * folder there would be OpenCode's config folder, and OpenCode runs `npm install
 * @opencode-ai/plugin` into every such folder — 64 MB of node_modules, a package.json and a
 * .gitignore in the worktree) and is loaded through OPENCODE_CONFIG_CONTENT's `plugin` list,
 * merged with the user's config. Headless runs end when `opencode run` exits: no plugin.
 */
function prepare(ctx: PrepareContext): Prepared {
  if (!ctx.interactive) return {};
  const dir = join(ctx.runDir, 'opencode');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'orchard-opencode-plugin.js');
  const existed = existsSync(file);
  writeFileSync(file, opencodePluginSource(ctx.orchardAgent));
  if (!existed)
    ctx.log(`OpenCode plugin written to ${file} (turn ends and questions go to orchard-agent); loaded through OPENCODE_CONFIG_CONTENT for this run only`);
  return { env: { OPENCODE_CONFIG_CONTENT: configContent(ctx.env.OPENCODE_CONFIG_CONTENT, pathToFileURL(file).href, ctx.log) } };
}

/**
 * Tokens and cost from `opencode run --format json`: one JSON event a line; every model step
 * ends with `{"type":"step_finish", "part":{"type":"step-finish", "tokens":{"total", "input",
 * "output", "reasoning", "cache":{"read","write"}}, "cost"}}` — per step, so they are summed.
 * Input counts the cache reads and writes; output counts the reasoning.
 */
export function parseUsage(text: string): AgentUsage | undefined {
  let input = 0;
  let output = 0;
  let cost = 0;
  let steps = 0;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l.startsWith('{') || !l.includes('"step_finish"')) continue;
    let e: { type?: string; part?: { tokens?: Record<string, unknown>; cost?: unknown } };
    try {
      e = JSON.parse(l) as typeof e;
    } catch {
      continue;
    }
    if (e.type !== 'step_finish' || !e.part?.tokens) continue;
    const t = e.part.tokens;
    const cache = (t.cache ?? {}) as Record<string, unknown>;
    input += n(t.input) + n(cache.read) + n(cache.write);
    output += n(t.output) + n(t.reasoning);
    cost += n(e.part.cost);
    steps++;
  }
  if (!steps) return undefined;
  return { inputTokens: input, outputTokens: output, tokens: input + output, costUsd: Math.round(cost * 1e6) / 1e6 };
}

export const opencode: CliDefinition = {
  npmPackage: 'opencode-ai',
  testedVersion: '1.18.33',
  versionArgv: ['opencode', '--version'],
  // `run [message..]` is headless; --format json prints one JSON event a line (step_start,
  // tool_use, text, step_finish with tokens and cost, error). --auto approves every permission
  // not explicitly denied (external_directory, doom_loop, ... would ask otherwise; the default
  // for bash and edits is allow). The TUI (`opencode [project]`) takes --auto too and submits
  // --prompt at start. OpenCode works in $PWD (set to the worktree by the launcher).
  profile: {
    name: 'opencode',
    description: 'OpenCode',
    argv: ['opencode', 'run', '--auto', '--format', 'json', '--model', '{model}', '{prompt}'],
    interactiveArgv: ['opencode', '--auto', '--model', '{model}', '--prompt', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS],
    // Headless `opencode run --auto` never waits for input (the question tool is off in run
    // mode, permissions are approved): in a terminal the plugin reports questions.
    needsInputPatterns: [],
    usage: 'opencode',
  },
  prepare,
  // No first-run screen: OpenCode has no folder trust or onboarding once a provider is
  // configured (the user's own setup). With --auto no permission dialog shows; without it (a
  // custom profile) the plugin reports the dialog (permission.asked → needs-input, see notices).
  screens: [],
  // OpenCode's permission dialog ("△ Permission required … Allow once  Allow always  Reject",
  // checked with the external_directory permission in tmux): Enter picks the selected first
  // option; Right moves; "Allow always" asks to confirm (Confirm selected: Enter); Escape
  // rejects at once (the turn ends), so guidance typed after it becomes the next prompt.
  notices: [{ pattern: '^OpenCode asks permission', options: { 'Allow once': ['Enter'], 'Allow always': ['Right', 'Enter', 'Enter'], Reject: ['Escape'] } }],
  // Ctrl-C on an idle TUI with an empty prompt exits at once (about 0.3 s, printing "Continue
  // opencode -s <session>"; SIGTERM does the same); `/exit` + Enter typed at once leaves the
  // command list open. With text left in the prompt, Ctrl-C only clears it: SIGTERM after grace.
  endSession: { keys: ['C-c'], graceMs: 5000 },
  explainExit(code, output) {
    // Two OpenCode processes started at the same moment on a machine where it never ran race on
    // creating its database: one fails; its retry finds the database made.
    if (/Failed query:[\s\S]*CREATE TABLE/i.test(output))
      return `OpenCode could not create its database (exit ${code}): another OpenCode was creating it at the same moment (its first use on this machine); a retry finds it made`;
    return undefined;
  },
  parseUsage,
  completion:
    "OpenCode: Orchard's plugin (written to the run folder and loaded for that run only through OPENCODE_CONFIG_CONTENT; nothing goes into the worktree) hears OpenCode's own `session.idle` event when the agent's turn ends, reports the tokens used so far and calls `orchard-agent hook turn-end` with the agent's last message. With changes in the worktree (or after `orchard-agent done`) the ticket is finished: Orchard presses Ctrl-C, which ends OpenCode, and merges. Without changes the agent is waiting for you: one question carrying its last message, and your answer is typed into its terminal. A turn that stopped on an error (its retries of a 429 or an overloaded provider used up) says so in that question; a turn you interrupt with Esc is not a turn end. Permission and question dialogs (`permission.asked`, `question.asked`) become a question too. Headless, `opencode run` exits when its turn ends (exit 0: finished).",
};
