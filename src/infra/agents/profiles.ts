// Agent profiles: how to start each agent CLI as an argv template. Placeholders are
// replaced inside one argv element each ({files} alone expands to one element per path),
// so ticket text always stays a single argument and never reaches a shell.
import type { Run, Ticket } from '../../core/model';

export interface AgentProfile {
  name: string;
  /** argv template. */
  argv: string[];
  /** Variant used when the agent runs in a VS Code terminal (interactive UI), if different. */
  interactiveArgv?: string[];
  description: string;
  /** Output that means "rate limited / out of quota" (case-insensitive regular expressions). */
  rateLimitPatterns?: string[];
}

/** What the agent CLIs print when they hit a rate limit or a usage cap. */
export const COMMON_RATE_LIMIT_PATTERNS = ['rate[ -]?limit', '\\b429\\b', 'usage limit', 'quota exceeded', 'too many requests', 'resource_exhausted'];

export const BUILTIN_PROFILES: Record<string, AgentProfile> = {
  claude: {
    name: 'claude',
    description: 'Claude Code',
    argv: ['claude', '-p', '{prompt}', '--permission-mode', 'acceptEdits'],
    interactiveArgv: ['claude', '--permission-mode', 'acceptEdits', '{prompt}'],
  },
  codex: { name: 'codex', description: 'Codex CLI', argv: ['codex', 'exec', '--full-auto', '{prompt}'], interactiveArgv: ['codex', '--full-auto', '{prompt}'] },
  aider: { name: 'aider', description: 'Aider', argv: ['aider', '--yes-always', '--no-auto-commits', '--message', '{prompt}', '{files}'] },
  gemini: { name: 'gemini', description: 'Gemini CLI', argv: ['gemini', '--yolo', '-p', '{prompt}'], interactiveArgv: ['gemini', '--yolo', '-i', '{prompt}'] },
  copilot: { name: 'copilot', description: 'GitHub Copilot CLI', argv: ['copilot', '--allow-all-tools', '-p', '{prompt}'] },
  opencode: { name: 'opencode', description: 'OpenCode', argv: ['opencode', 'run', '{prompt}'] },
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

/** The prompt handed to the agent: the ticket plus what Orchard knows about the attempt. */
export function composePrompt(ticket: Ticket, run: Run, retryContext?: string): string {
  const parts = [ticket.prompt || ticket.title];
  if (ticket.files.length) parts.push(`\nLikely files: ${ticket.files.join(', ')}`);
  if (retryContext) parts.push(`\nThis is attempt ${run.attempt}. The previous attempt ended: ${retryContext}`);
  return parts.join('\n');
}

export function expandArgv(template: readonly string[], ticket: Ticket, run: Run, prompt: string): string[] {
  const out: string[] = [];
  for (const part of template) {
    if (part === '{files}') {
      out.push(...ticket.files);
      continue;
    }
    out.push(
      part.replace(/\{(prompt|ticketId|worktree|branch|files)\}/g, (_, key: string) => {
        switch (key) {
          case 'prompt':
            return prompt;
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

/** The scripted agent of the demo and the tests (dist/fake-agent.js run by this Node). */
export function fakeProfile(distDir: string): AgentProfile {
  return { name: 'fake', description: 'Scripted fake agent (demo and tests)', argv: [process.execPath, `${distDir}/fake-agent.js`], rateLimitPatterns: ['rate limit'] };
}
