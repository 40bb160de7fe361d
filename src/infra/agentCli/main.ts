// orchard-agent: the command an agent uses to talk back to Orchard. It is put on the agent's
// PATH by the launcher and bound to one run through ORCHARD_RUN_DIR and ORCHARD_TOKEN; every
// request carries the token and the launcher ignores requests that do not carry its run's.
//   orchard-agent progress <n> [message]
//       n ≤ 1 is a fraction (0.25 = 25 %), 1 < n ≤ 100 is a percentage ("1" means done: 100 %)
//   orchard-agent escalate [question] --type <trigger> --context <text> --option A --option B
//       blocks until the human answers, prints the guidance (option, then text), exits 0
//   orchard-agent lock <paths…> [--no-wait] [--timeout <s>]
//       asks for more files; waits until granted (exit 0) or fails naming the holder (exit 1)
//   orchard-agent done [--summary <text>] | done [text]
//   orchard-agent hook turn-end|needs-input [--stdin] [--message <text>] [JSON payload]
//       called by the CLI's own hooks: its turn ended / it waits for the human
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTicketVerb } from './ticketVerbs';

function fail(message: string, code = 2): never {
  process.stderr.write(`orchard-agent: ${message}\n`);
  process.exit(code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 0..1 is a fraction, above 1 up to 100 a percentage; the result is a percentage. */
export function progressPercent(raw: string | undefined): number | undefined {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) return undefined;
  return n <= 1 ? Math.round(n * 1000) / 10 : n;
}

function parseFlags(args: string[], repeatable: string[], single: string[], booleans: string[] = []) {
  const lists: Record<string, string[]> = Object.fromEntries(repeatable.map((k) => [k, []]));
  const values: Record<string, string | undefined> = {};
  const flags = new Set<string>();
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.startsWith('--') ? [a.slice(2).split('=')[0]!, a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined] : [undefined, undefined];
    if (name !== undefined && repeatable.includes(name)) lists[name]!.push(inline ?? args[++i] ?? '');
    else if (name !== undefined && single.includes(name)) values[name] = inline ?? args[++i] ?? '';
    else if (name !== undefined && booleans.includes(name)) flags.add(name);
    else if (a === '--') (words.push(...args.slice(i + 1)), (i = args.length));
    else words.push(a);
  }
  return { lists, values, flags, words };
}

async function main(): Promise<void> {
  const runDir = process.env.ORCHARD_RUN_DIR;
  const token = process.env.ORCHARD_TOKEN;
  if (!runDir || !token) fail('not inside an Orchard run (ORCHARD_RUN_DIR and ORCHARD_TOKEN are not set)');
  const [verb, ...rest] = process.argv.slice(2);
  const at = Date.now();
  const id = `${at.toString(36)}-${process.pid}`;
  // add-ticket, subtask, usage (infra/agentCli/ticketVerbs.ts)
  if (await runTicketVerb(verb, rest, runDir, token)) return;
  switch (verb) {
    case 'progress': {
      const pct = progressPercent(rest[0]);
      if (pct === undefined) fail(`progress takes a fraction from 0 to 1 or a percentage up to 100, got "${rest[0] ?? ''}"`);
      appendFileSync(join(runDir, 'progress.jsonl'), JSON.stringify({ at, token, progress: pct, message: rest.slice(1).join(' ') || undefined }) + '\n');
      return;
    }
    case 'done': {
      const { values, words } = parseFlags(rest, [], ['summary']);
      const summary = values.summary ?? (words.join(' ') || 'done');
      appendFileSync(join(runDir, 'progress.jsonl'), JSON.stringify({ at, token, progress: 100, message: summary, done: true }) + '\n');
      return;
    }
    case 'escalate': {
      const { lists, values, words } = parseFlags(rest, ['option'], ['type', 'trigger', 'context', 'question']);
      const trigger = values.type ?? values.trigger ?? 'input-needed';
      const context = values.context;
      const question = (values.question ?? words.join(' ')).trim() || context?.trim() || '';
      if (!question)
        fail('escalate needs a question or a context: orchard-agent escalate --type decision --context "Which database?" --option Postgres --option SQLite');
      const qid = `esc-${id}`;
      writeFileSync(join(runDir, `${qid}.question.json`), JSON.stringify({ id: qid, at, token, trigger, question, context, options: lists.option }));
      const answerFile = join(runDir, `${qid}.answer.json`);
      while (!existsSync(answerFile)) await sleep(250);
      const answer = JSON.parse(readFileSync(answerFile, 'utf8')) as { option?: string; guidance?: string };
      process.stdout.write([answer.option, answer.guidance].filter(Boolean).join('\n') + '\n');
      return;
    }
    case 'lock': {
      const { values, flags, words } = parseFlags(rest, [], ['timeout'], ['no-wait']);
      if (words.length === 0) fail('lock needs at least one path or glob: orchard-agent lock src/db/** package.json');
      const deadline = Date.now() + Number(values.timeout ?? 600) * 1000;
      for (let n = 0; ; n++) {
        const rid = `lock-${id}-${n}`;
        writeFileSync(join(runDir, `${rid}.lock-request.json`), JSON.stringify({ id: rid, at: Date.now(), token, patterns: words }));
        const answerFile = join(runDir, `${rid}.lock-answer.json`);
        while (!existsSync(answerFile)) {
          if (Date.now() > deadline) fail('no answer from Orchard about the lock (is it running?)', 1);
          await sleep(100);
        }
        const a = JSON.parse(readFileSync(answerFile, 'utf8')) as { granted: boolean; holder?: { ticketId: string; pattern: string }; error?: string };
        rmSync(answerFile, { force: true });
        if (a.granted) {
          process.stdout.write(`locked ${words.join(' ')}\n`);
          return;
        }
        const who = a.error ?? `${a.holder?.pattern ?? words.join(' ')} is held by ${a.holder?.ticketId ?? 'another run'}`;
        if (flags.has('no-wait') || Date.now() + 2000 > deadline) fail(`lock refused: ${who}`, 1);
        if (n === 0) process.stderr.write(`orchard-agent: waiting: ${who}\n`);
        await sleep(2000);
      }
    }
    case 'hook': {
      // An agent CLI's own mechanism (Claude Code hooks, Codex notify, Gemini/Copilot hooks,
      // an OpenCode plugin) reports that its turn ended or that it waits for the human. The
      // payload is JSON: the last argument, or stdin with --stdin (never read otherwise: a
      // TUI's inherited stdin would block).
      const { flags, values, words } = parseFlags(rest.slice(1), [], ['message'], ['stdin']);
      const payload = hookPayload(words, flags.has('stdin'));
      const message = values.message ?? lastMessageOf(payload);
      const kind = rest[0];
      if (kind === 'turn-end' || kind === 'stop') {
        // The session's tokens so far, where the CLI keeps a transcript with them (Claude Code):
        // a terminal session prints no usage Orchard could read.
        const usage = transcriptUsage(payload.transcript_path ?? payload.transcriptPath);
        if (usage) appendFileSync(join(runDir, 'progress.jsonl'), JSON.stringify({ at, token, usage }) + '\n');
        appendFileSync(
          join(runDir, 'progress.jsonl'),
          JSON.stringify({ at, token, turnEnded: true, ...(message && { message: message.slice(0, 4000) }) }) + '\n',
        );
      } else if (kind === 'needs-input' || kind === 'notification') {
        const nid = `notice-${id}`;
        const question = message || 'The agent is waiting for input';
        writeFileSync(join(runDir, `${nid}.notice.json`), JSON.stringify({ id: nid, at, token, trigger: 'input-needed', question, options: [] }));
      } else {
        fail(`unknown hook "${kind ?? ''}"; use turn-end or needs-input`);
      }
      // Hooks must never block or fail the CLI that called them.
      if (flags.has('stdin')) process.stdout.write('{}\n');
      return;
    }
    default:
      fail(`unknown command "${verb ?? ''}"; use progress, escalate, lock or done`);
  }
}

/** The hook's JSON payload: a JSON argument, else stdin when asked for; {} when there is none. */
function hookPayload(words: string[], stdin: boolean): Record<string, unknown> {
  const candidates = [...words.filter((w) => w.trim().startsWith('{')).reverse()];
  if (stdin) {
    try {
      candidates.push(readFileSync(0, 'utf8'));
    } catch {
      /* no stdin */
    }
  }
  for (const c of candidates) {
    try {
      const v = JSON.parse(c) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
  }
  return {};
}

/**
 * Tokens of a session from its JSONL transcript: each model message's `usage` (Anthropic
 * shape: input, cache and output tokens), counted once per message id (a message's lines
 * repeat its usage). Undefined when there is no such transcript.
 */
export function transcriptUsage(file: unknown): { inputTokens: number; outputTokens: number; tokens: number } | undefined {
  if (typeof file !== 'string' || !file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const byId = new Map<string, { input: number; output: number }>();
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  for (const line of text.split('\n')) {
    if (!line.includes('"usage"')) continue;
    try {
      const o = JSON.parse(line) as { message?: { id?: string; usage?: Record<string, unknown> } };
      const u = o.message?.usage;
      if (!u || !o.message?.id) continue;
      byId.set(o.message.id, { input: n(u.input_tokens) + n(u.cache_creation_input_tokens) + n(u.cache_read_input_tokens), output: n(u.output_tokens) });
    } catch {
      /* a line being written */
    }
  }
  if (byId.size === 0) return undefined;
  let input = 0;
  let output = 0;
  for (const v of byId.values()) {
    input += v.input;
    output += v.output;
  }
  return { inputTokens: input, outputTokens: output, tokens: input + output };
}

/** The agent's last words in a hook payload, under the names the CLIs use. */
export function lastMessageOf(payload: Record<string, unknown>): string | undefined {
  for (const key of ['last_assistant_message', 'last-assistant-message', 'lastAssistantMessage', 'message', 'response', 'prompt_response', 'text']) {
    const v = payload[key];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return undefined;
}

if (require.main === module) void main();
