// Claude Code (npm @anthropic-ai/claude-code).
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, lastJsonObject } from './common';

export const claude: CliDefinition = {
  npmPackage: '@anthropic-ai/claude-code',
  testedVersion: '2.1.197',
  versionArgv: ['claude', '--version'],
  // -p/--print is headless; --output-format json prints one result object with
  // total_cost_usd and usage. Needs-input and stop come through hooks, not the screen.
  profile: {
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
  parseUsage(text) {
    const o = lastJsonObject(text, 'total_cost_usd');
    if (!o) return undefined;
    const u = (o.usage ?? {}) as Record<string, number>;
    const input = (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
    const output = u.output_tokens ?? 0;
    return { costUsd: typeof o.total_cost_usd === 'number' ? o.total_cost_usd : undefined, inputTokens: input, outputTokens: output, tokens: input + output };
  },
};
