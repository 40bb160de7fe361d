// OpenCode (npm opencode-ai).
import type { CliDefinition } from './types';
import { COMMON_NEEDS_INPUT, num, scaled } from './common';

export const opencode: CliDefinition = {
  npmPackage: 'opencode-ai',
  testedVersion: '1.18.33',
  versionArgv: ['opencode', '--version'],
  // `run [message..]` headless, --auto approves; `--prompt` for the TUI.
  profile: {
    name: 'opencode',
    description: 'OpenCode',
    argv: ['opencode', 'run', '--auto', '--model', '{model}', '{prompt}'],
    interactiveArgv: ['opencode', '--model', '{model}', '--prompt', '{prompt}'],
    needsInputPatterns: [...COMMON_NEEDS_INPUT, 'permission required'],
    usage: 'opencode',
  },
  parseUsage(text) {
    const m = /tokens?[:\s]+([\d,.]+)([kKmM]?)/i.exec(text);
    const c = /cost[:\s]+\$([\d.]+)/i.exec(text);
    if (!m && !c) return undefined;
    return { tokens: m ? scaled(m[1], m[2]) : undefined, costUsd: c ? num(c[1]) : undefined };
  },
};
