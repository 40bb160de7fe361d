// Gemini CLI (npm @google/gemini-cli).
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, COMMON_RATE_LIMIT_PATTERNS, lastJsonObject } from './common';

export const gemini: CliDefinition = {
  npmPackage: '@google/gemini-cli',
  testedVersion: '0.61.0',
  versionArgv: ['gemini', '--version'],
  // -p/--prompt headless, -i/--prompt-interactive, --yolo auto-accepts.
  profile: {
    name: 'gemini',
    description: 'Gemini CLI',
    argv: ['gemini', '--yolo', '--model', '{model}', '-p', '{prompt}', '--output-format', 'json'],
    interactiveArgv: ['gemini', '--yolo', '--model', '{model}', '-i', '{prompt}'],
    rateLimitPatterns: [...COMMON_RATE_LIMIT_PATTERNS, 'quota .*exhausted'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'waiting for user confirmation', 'apply this change\\?'],
    donePatterns: ['"stats"\\s*:'],
    usage: 'gemini',
  },
  parseUsage(text) {
    const o = lastJsonObject(text, '"stats"');
    if (!o) return undefined;
    const models = ((o.stats as Record<string, unknown> | undefined)?.models ?? {}) as Record<string, { tokens?: { prompt?: number; candidates?: number; total?: number } }>;
    let input = 0;
    let output = 0;
    let total = 0;
    for (const m of Object.values(models)) {
      input += m.tokens?.prompt ?? 0;
      output += m.tokens?.candidates ?? 0;
      total += m.tokens?.total ?? 0;
    }
    return { inputTokens: input, outputTokens: output, tokens: total || input + output };
  },
};
