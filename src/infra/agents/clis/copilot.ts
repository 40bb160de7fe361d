// GitHub Copilot CLI (npm @github/copilot).
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, scaled } from './common';

export const copilot: CliDefinition = {
  npmPackage: '@github/copilot',
  testedVersion: '1.0.102',
  versionArgv: ['copilot', '--version'],
  // -p/--prompt headless needs --allow-all-tools; --no-ask-user keeps it from waiting.
  profile: {
    name: 'copilot',
    description: 'GitHub Copilot CLI',
    argv: ['copilot', '--model', '{model}', '-p', '{prompt}', '--allow-all-tools', '--no-ask-user'],
    interactiveArgv: ['copilot', '--allow-all-tools', '--model', '{model}', '-i', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'exceeded your copilot'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'do you want to run this command\\?'],
    donePatterns: ['^total usage est'],
    usage: 'copilot',
  },
  parseUsage(text) {
    // "claude-sonnet-4.5  12.3k input, 1.2k output, ..."
    let input = 0;
    let output = 0;
    let seen = false;
    for (const m of text.matchAll(/([\d.,]+)([kKmM]?) input, ([\d.,]+)([kKmM]?) output/g)) {
      input += scaled(m[1], m[2]) ?? 0;
      output += scaled(m[3], m[4]) ?? 0;
      seen = true;
    }
    return seen ? { inputTokens: input, outputTokens: output, tokens: input + output } : undefined;
  },
};
