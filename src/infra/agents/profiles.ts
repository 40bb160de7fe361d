// Agent profiles: how to start each agent CLI as an argv template, and how to read what it
// prints. Placeholders are replaced inside one argv element each ({files} alone expands to
// one element per path), so ticket text always stays a single argument and never reaches a
// shell. {model} is the model of the run (its role's, else the profile's): with no model the
// element is left out, and a flag just before a lone {model} ("--model", "{model}") with it. Flags of the built-in profiles are checked against the CLIs' recorded --help output
// (test/fixtures/cli-help/<cli>-<version>.txt) by test/unit/profiles.test.ts.
import type { Run, Ticket } from '../../core/model';
import { MODEL_NAME_PATTERN } from '../../core/roles';

/** Cost and tokens an agent CLI printed, where it prints them. */
export interface AgentUsage {
  costUsd?: number;
  tokens?: number;
  inputTokens?: number;
  outputTokens?: number;
}

export type UsageParser = 'claude-json' | 'codex' | 'gemini' | 'copilot' | 'opencode' | 'aider' | 'none';

export interface AgentProfile {
  name: string;
  /** argv template (headless: CLI, tests). */
  argv: string[];
  /** Variant used when the agent runs in a VS Code terminal (interactive UI), if different. */
  interactiveArgv?: string[];
  description: string;
  /** Output that means "rate limited / out of quota" (case-insensitive regular expressions). */
  rateLimitPatterns?: string[];
  /** Output that means "the agent waits for the human" (case-insensitive regular expressions). */
  needsInputPatterns?: string[];
  /** Output that means "the agent finished its task". */
  donePatterns?: string[];
  /** How to read cost/tokens from the output. */
  usage?: UsageParser;
  /** Claude Code: Orchard writes Notification/Stop hooks into the worktree. */
  hooks?: 'claude';
  /** Model when the ticket's role names none ({model} in the argv, ORCHARD_MODEL in the environment). */
  model?: string;
}

/** What the agent CLIs print when they hit a rate limit or a usage cap. */
export const COMMON_RATE_LIMIT_PATTERNS = [
  'rate[ -]?limit',
  '\\b429\\b',
  'usage limit',
  'quota exceeded',
  'too many requests',
  'resource_exhausted',
];
const COMMON_NEEDS_INPUT = ['\\(y/n\\)', '\\[y/n\\]', 'do you want to proceed\\?', 'waiting for (your )?input'];

export const BUILTIN_PROFILES: Record<string, AgentProfile> = {
  // Claude Code 2.1: -p/--print is headless; --output-format json prints one result object
  // with total_cost_usd and usage. Needs-input and stop come through hooks, not the screen.
  claude: {
    name: 'claude',
    description: 'Claude Code',
    argv: ['claude', '-p', '{prompt}', '--permission-mode', 'acceptEdits', '--output-format', 'json', '--model', '{model}'],
    interactiveArgv: ['claude', '--permission-mode', 'acceptEdits', '--model', '{model}', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'claude (ai )?usage limit reached', 'overloaded_error'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'claude needs your permission', 'claude is waiting for your input'],
    donePatterns: ['"type"\\s*:\\s*"result"'],
    usage: 'claude-json',
    hooks: 'claude',
  },
  // Codex CLI 0.169: `exec` is headless; --full-auto is gone, --sandbox workspace-write keeps
  // writes inside the worktree; exec ends with "tokens used <n>".
  codex: {
    name: 'codex',
    description: 'Codex CLI',
    argv: ['codex', 'exec', '--sandbox', 'workspace-write', '--skip-git-repo-check', '--model', '{model}', '{prompt}'],
    interactiveArgv: ['codex', '--sandbox', 'workspace-write', '--ask-for-approval', 'on-request', '--model', '{model}', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, "you've hit your usage limit", 'stream disconnected before completion.*rate'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'allow command\\?', 'approval required'],
    donePatterns: ['^tokens used'],
    usage: 'codex',
  },
  // Aider is a Python package (pip), not on npm: its flags are not checked against a fixture
  // (--model is in its options reference, aider.chat/docs/config/options.html).
  aider: {
    name: 'aider',
    description: 'Aider',
    argv: ['aider', '--yes-always', '--no-auto-commits', '--no-pretty', '--model', '{model}', '--message', '{prompt}', '{files}'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, '\\(Y\\)es/\\(N\\)o'],
    donePatterns: ['^Tokens: .* sent'],
    usage: 'aider',
  },
  // Gemini CLI 0.61: -p/--prompt headless, -i/--prompt-interactive, --yolo auto-accepts.
  gemini: {
    name: 'gemini',
    description: 'Gemini CLI',
    argv: ['gemini', '--yolo', '--model', '{model}', '-p', '{prompt}', '--output-format', 'json'],
    interactiveArgv: ['gemini', '--yolo', '--model', '{model}', '-i', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'quota .*exhausted'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'waiting for user confirmation', 'apply this change\\?'],
    donePatterns: ['"stats"\\s*:'],
    usage: 'gemini',
  },
  // Copilot CLI 1.0: -p/--prompt headless needs --allow-all-tools; --no-ask-user keeps it from waiting.
  copilot: {
    name: 'copilot',
    description: 'GitHub Copilot CLI',
    argv: ['copilot', '--model', '{model}', '-p', '{prompt}', '--allow-all-tools', '--no-ask-user'],
    interactiveArgv: ['copilot', '--allow-all-tools', '--model', '{model}', '-i', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'exceeded your copilot'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'do you want to run this command\\?'],
    donePatterns: ['^total usage est'],
    usage: 'copilot',
  },
  // OpenCode 1.18: `run [message..]` headless, --auto approves; `--prompt` for the TUI.
  opencode: {
    name: 'opencode',
    description: 'OpenCode',
    argv: ['opencode', 'run', '--auto', '--model', '{model}', '{prompt}'],
    interactiveArgv: ['opencode', '--model', '{model}', '--prompt', '{prompt}'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'permission required'],
    usage: 'opencode',
  },
};

export class ProfileError extends Error {
  readonly reason = 'unknown-profile';
  static is(e: unknown): e is ProfileError {
    return e instanceof ProfileError;
  }
}

export function resolveProfile(name: string, custom: Record<string, AgentProfile> = {}): AgentProfile {
  const p = custom[name] ?? BUILTIN_PROFILES[name];
  if (!p) {
    const known = [...Object.keys(BUILTIN_PROFILES), ...Object.keys(custom)].join(', ');
    throw new ProfileError(`Unknown agent profile "${name}"; use one of ${known}, or define it in orchard.agentProfiles.`);
  }
  return p;
}

/**
 * Custom profiles from settings (`orchard.agentProfiles` / config.json `agentProfiles`):
 * `{ "name": { "argv": [...], "interactiveArgv"?: [...], "rateLimitPatterns"?: [...],
 * "needsInputPatterns"?: [...], "donePatterns"?: [...], "usage"?: "codex" | ... } }`.
 * A profile with `"extends": "claude"` starts from that built-in. Bad entries throw, naming the field.
 */
export function customProfiles(raw: unknown): Record<string, AgentProfile> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ProfileError('agentProfiles must be an object of profile name → { argv: [...] }');
  const out: Record<string, AgentProfile> = {};
  const strings = (v: unknown, where: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ProfileError(`agentProfiles.${where} must be an array of strings`);
    return v as string[];
  };
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!value || typeof value !== 'object') throw new ProfileError(`agentProfiles.${name} must be an object with an argv array`);
    const v = value as Record<string, unknown>;
    const base = typeof v.extends === 'string' ? resolveProfile(v.extends) : undefined;
    const argv = strings(v.argv, `${name}.argv`) ?? base?.argv;
    if (!argv || argv.length === 0) throw new ProfileError(`agentProfiles.${name}.argv must name the command, e.g. ["my-agent", "{prompt}"]`);
    for (const p of [...(strings(v.rateLimitPatterns, `${name}.rateLimitPatterns`) ?? []), ...(strings(v.needsInputPatterns, `${name}.needsInputPatterns`) ?? [])]) {
      try {
        new RegExp(p);
      } catch (e) {
        throw new ProfileError(`agentProfiles.${name}: "${p}" is not a regular expression (${(e as Error).message})`);
      }
    }
    out[name] = {
      ...base,
      name,
      description: typeof v.description === 'string' ? v.description : (base?.description ?? `custom profile ${name}`),
      argv,
      interactiveArgv: strings(v.interactiveArgv, `${name}.interactiveArgv`) ?? (v.argv ? undefined : base?.interactiveArgv),
      rateLimitPatterns: strings(v.rateLimitPatterns, `${name}.rateLimitPatterns`) ?? base?.rateLimitPatterns,
      needsInputPatterns: strings(v.needsInputPatterns, `${name}.needsInputPatterns`) ?? base?.needsInputPatterns,
      donePatterns: strings(v.donePatterns, `${name}.donePatterns`) ?? base?.donePatterns,
      usage: typeof v.usage === 'string' ? (v.usage as UsageParser) : base?.usage,
      model: v.model === undefined ? base?.model : modelName(v.model, `agentProfiles.${name}.model`),
    };
  }
  return out;
}

/** The prompt handed to the agent: the ticket plus what Orchard knows about the attempt. */
export function composePrompt(ticket: Ticket, run: Run, retryContext?: string): string {
  const parts = [ticket.prompt || ticket.title];
  if (ticket.files.length) parts.push(`\nLikely files: ${ticket.files.join(', ')}`);
  if (retryContext) parts.push(`\nThis is attempt ${run.attempt}. The previous attempt ended: ${retryContext}`);
  return parts.join('\n');
}

/** A model name as an argv value: it must not read as an option or hide control characters. */
export function modelName(v: unknown, where: string): string {
  if (typeof v !== 'string' || !MODEL_NAME_PATTERN.test(v))
    throw new ProfileError(`${where} must be a model name such as "claude-sonnet-4-5" or "openai/gpt-5" (letters, digits and . _ : / @ + -, not starting with "-"), got ${JSON.stringify(v)}`);
  return v;
}

/** The agent's argv: the template with the ticket, run and model filled in, one element per placeholder. */
export function expandArgv(template: readonly string[], ticket: Ticket, run: Run, prompt: string, model: string | undefined = run.model): string[] {
  if (model) modelName(model, `the model of ${run.id}`);
  const out: string[] = [];
  for (const [i, part] of template.entries()) {
    if (part === '{files}') {
      out.push(...ticket.files);
      continue;
    }
    if (part.includes('{model}') && !model) {
      // No model: "--model={model}" goes, and so does the flag of a lone "{model}".
      if (part === '{model}' && i > 0 && /^-/.test(template[i - 1]!) && out[out.length - 1] === template[i - 1]) out.pop();
      continue;
    }
    out.push(
      part.replace(/\{(prompt|ticketId|worktree|branch|files|model)\}/g, (_, key: string) => {
        switch (key) {
          case 'prompt':
            return prompt;
          case 'model':
            return model!;
          case 'ticketId':
            return ticket.id;
          case 'worktree':
            return run.worktree;
          case 'branch':
            return run.branch;
          default:
            return ticket.files.join(' ');
        }
      }),
    );
  }
  return out;
}

/** The flags (`-x`, `--long`) an argv template passes to the CLI, placeholders excluded. */
export function flagsOf(template: readonly string[]): string[] {
  return template.filter((a) => /^--?[A-Za-z]/.test(a)).map((a) => a.split('=')[0]!);
}

// ---- reading what an agent prints ---------------------------------------------------

export interface OutputSignals {
  needsInput: boolean;
  rateLimited: boolean;
  done: boolean;
  usage?: AgentUsage;
}

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

function anyMatch(patterns: readonly string[] | undefined, text: string): boolean {
  return (patterns ?? []).some((p) => new RegExp(p, 'im').test(text));
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
};

/** Multiplier suffixes some CLIs print (12.3k tokens). */
const scaled = (s: string | undefined, suffix: string | undefined): number | undefined => {
  const n = num(s);
  if (n === undefined) return undefined;
  const k = suffix?.toLowerCase();
  return Math.round(n * (k === 'k' ? 1e3 : k === 'm' ? 1e6 : 1));
};

function lastJsonObject(text: string, must: string): Record<string, unknown> | undefined {
  const lines = text.split('\n');
  // One object per line (stream-json/JSONL) or the whole tail (pretty JSON).
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l.startsWith('{') && l.includes(must)) {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        /* not a whole object */
      }
    }
  }
  const start = text.lastIndexOf('\n{');
  for (let s = start; s >= 0; s = text.lastIndexOf('\n{', s - 1)) {
    try {
      const o = JSON.parse(text.slice(s)) as Record<string, unknown>;
      if (JSON.stringify(o).includes(must)) return o;
    } catch {
      /* keep looking */
    }
    if (s === 0) break;
  }
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* no JSON */
    }
  }
  return undefined;
}

/** Cost and tokens from an agent's output, in the format its CLI prints them. */
export function parseUsage(parser: UsageParser | undefined, raw: string): AgentUsage | undefined {
  const text = raw.replace(ANSI, '');
  switch (parser) {
    case 'claude-json': {
      const o = lastJsonObject(text, 'total_cost_usd');
      if (!o) return undefined;
      const u = (o.usage ?? {}) as Record<string, number>;
      const input = (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
      const output = u.output_tokens ?? 0;
      return { costUsd: typeof o.total_cost_usd === 'number' ? o.total_cost_usd : undefined, inputTokens: input, outputTokens: output, tokens: input + output };
    }
    case 'codex': {
      const m = /tokens used[:\s]*\n?\s*([\d,]+)/i.exec(text);
      return m ? { tokens: num(m[1]) } : undefined;
    }
    case 'gemini': {
      const o = lastJsonObject(text, '"stats"');
      const models = ((o?.stats as Record<string, unknown> | undefined)?.models ?? {}) as Record<string, { tokens?: { prompt?: number; candidates?: number; total?: number } }>;
      let input = 0;
      let output = 0;
      let total = 0;
      for (const m of Object.values(models)) {
        input += m.tokens?.prompt ?? 0;
        output += m.tokens?.candidates ?? 0;
        total += m.tokens?.total ?? 0;
      }
      return o ? { inputTokens: input, outputTokens: output, tokens: total || input + output } : undefined;
    }
    case 'copilot': {
      // "Total usage est:  1 Premium request" / "claude-sonnet-4.5  12.3k input, 1.2k output, ..."
      let input = 0;
      let output = 0;
      let seen = false;
      for (const m of text.matchAll(/([\d.,]+)([kKmM]?) input, ([\d.,]+)([kKmM]?) output/g)) {
        input += scaled(m[1], m[2]) ?? 0;
        output += scaled(m[3], m[4]) ?? 0;
        seen = true;
      }
      return seen ? { inputTokens: input, outputTokens: output, tokens: input + output } : undefined;
    }
    case 'aider': {
      // "Tokens: 2.3k sent, 512 received. Cost: $0.01 message, $0.03 session."
      const all = [...text.matchAll(/Tokens: ([\d.,]+)([kKmM]?) sent, ([\d.,]+)([kKmM]?) received\.(?: Cost: \$([\d.]+) message, \$([\d.]+) session)?/g)];
      const m = all[all.length - 1];
      if (!m) return undefined;
      const input = scaled(m[1], m[2]) ?? 0;
      const output = scaled(m[3], m[4]) ?? 0;
      return { inputTokens: input, outputTokens: output, tokens: input + output, costUsd: num(m[6]) };
    }
    case 'opencode': {
      const m = /tokens?[:\s]+([\d,.]+)([kKmM]?)/i.exec(text);
      const c = /cost[:\s]+\$([\d.]+)/i.exec(text);
      if (!m && !c) return undefined;
      return { tokens: m ? scaled(m[1], m[2]) : undefined, costUsd: c ? num(c[1]) : undefined };
    }
    default:
      return undefined;
  }
}

/** Reads a chunk of an agent's output (log tail or recorded session) for the profile's signals. */
export function detectSignals(profile: AgentProfile, raw: string): OutputSignals {
  const text = raw.replace(ANSI, '');
  return {
    needsInput: anyMatch(profile.needsInputPatterns, text),
    rateLimited: anyMatch(profile.rateLimitPatterns ?? COMMON_RATE_LIMIT_PATTERNS, text),
    done: anyMatch(profile.donePatterns, text),
    usage: parseUsage(profile.usage, text),
  };
}

/** The scripted agent of the demo and the tests (dist/fake-agent.js run by this Node). */
export function fakeProfile(distDir: string): AgentProfile {
  return {
    name: 'fake',
    description: 'Scripted fake agent (demo and tests)',
    argv: [process.execPath, `${distDir}/fake-agent.js`],
    rateLimitPatterns: ['rate limit'],
    needsInputPatterns: ['fake-agent: waiting for input'],
    donePatterns: ['fake-agent: \\S+ done'],
  };
}
