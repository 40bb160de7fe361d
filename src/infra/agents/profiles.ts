// Agent profiles: how to start each agent CLI as an argv template, and how to read what it
// prints. Placeholders are replaced inside one argv element each ({files} alone expands to
// one element per path), so ticket text always stays a single argument and never reaches a
// shell. {runDir} is the run folder (where orchard-agent writes: a sandboxed CLI must be
// allowed to write there). {model} is the model of the run (its role's, else the profile's): with no model the
// element is left out, and a flag just before a lone {model} ("--model", "{model}") with it. Flags of the built-in profiles are checked against the CLIs' recorded --help output
// (test/fixtures/cli-help/<cli>-<version>.txt) by test/unit/profiles.test.ts.
import type { Run, Ticket } from '../../core/model';
import { MODEL_NAME_PATTERN } from '../../core/roles';
import { BUILTIN_CLIS } from './clis';
import { ANSI, COMMON_RATE_LIMIT_PATTERNS as RATE_LIMITS } from './clis/common';

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
  /** A wrapper around Claude Code: prepared as Claude Code is (its Stop/Notification hooks, allow rules and trust, clis/claude.ts). */
  hooks?: 'claude';
  /** Model when the ticket's role names none ({model} in the argv, ORCHARD_MODEL in the environment). */
  model?: string;
}

export { COMMON_RATE_LIMIT_PATTERNS } from './clis/common';

/** The built-in profiles, one per CLI definition (clis/<name>.ts). */
export const BUILTIN_PROFILES: Record<string, AgentProfile> = Object.fromEntries(Object.entries(BUILTIN_CLIS).map(([k, c]) => [k, c.profile]));

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
    for (const p of [
      ...(strings(v.rateLimitPatterns, `${name}.rateLimitPatterns`) ?? []),
      ...(strings(v.needsInputPatterns, `${name}.needsInputPatterns`) ?? []),
    ]) {
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
    throw new ProfileError(
      `${where} must be a model name such as "claude-sonnet-4-5" or "openai/gpt-5" (letters, digits and . _ : / @ + -, not starting with "-"), got ${JSON.stringify(v)}`,
    );
  return v;
}

/** The agent's argv: the template with the ticket, run and model filled in, one element per placeholder. */
export function expandArgv(
  template: readonly string[],
  ticket: Ticket,
  run: Run,
  prompt: string,
  model: string | undefined = run.model,
  runDir = '',
): string[] {
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
      part.replace(/\{(prompt|ticketId|worktree|branch|files|model|runDir)\}/g, (_, key: string) => {
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
          case 'runDir':
            return runDir;
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

/** Cost and tokens from an agent's output, in the format its CLI prints them. */
export function parseUsage(parser: UsageParser | undefined, raw: string): AgentUsage | undefined {
  if (!parser || parser === 'none') return undefined;
  const cli = Object.values(BUILTIN_CLIS).find((c) => c.profile.usage === parser);
  return cli?.parseUsage?.(raw.replace(ANSI, ''));
}

function anyMatch(patterns: readonly string[] | undefined, text: string): boolean {
  return (patterns ?? []).some((p) => new RegExp(p, 'im').test(text));
}

/** Reads a chunk of an agent's output (log tail or recorded session) for the profile's signals. */
export function detectSignals(profile: AgentProfile, raw: string): OutputSignals {
  const text = raw.replace(ANSI, '');
  return {
    needsInput: anyMatch(profile.needsInputPatterns, text),
    rateLimited: anyMatch(profile.rateLimitPatterns ?? RATE_LIMITS, text),
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
