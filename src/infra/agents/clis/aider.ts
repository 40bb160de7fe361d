// Aider is a Python package (pip), not on npm: untested by the conformance suite; its flags
// come from its options reference (aider.chat/docs/config/options.html).
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, num, scaled } from './common';

export const aider: CliDefinition = {
  versionArgv: ['aider', '--version'],
  profile: {
    name: 'aider',
    description: 'Aider',
    argv: ['aider', '--yes-always', '--no-auto-commits', '--no-pretty', '--model', '{model}', '--message', '{prompt}', '{files}'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, '\\(Y\\)es/\\(N\\)o'],
    donePatterns: ['^Tokens: .* sent'],
    usage: 'aider',
  },
  parseUsage(text) {
    // "Tokens: 2.3k sent, 512 received. Cost: $0.01 message, $0.03 session."
    const all = [...text.matchAll(/Tokens: ([\d.,]+)([kKmM]?) sent, ([\d.,]+)([kKmM]?) received\.(?: Cost: \$([\d.]+) message, \$([\d.]+) session)?/g)];
    const m = all[all.length - 1];
    if (!m) return undefined;
    const input = scaled(m[1], m[2]) ?? 0;
    const output = scaled(m[3], m[4]) ?? 0;
    return { inputTokens: input, outputTokens: output, tokens: input + output, costUsd: num(m[6]) };
  },
};
