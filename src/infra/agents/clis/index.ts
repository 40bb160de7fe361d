// Every built-in agent CLI Orchard knows, by profile name.
import type { CliDefinition } from './types';
import { aider } from './aider';
import { claude } from './claude';
import { codex } from './codex';
import { copilot } from './copilot';
import { gemini } from './gemini';
import { opencode } from './opencode';

export const BUILTIN_CLIS: Record<string, CliDefinition> = { claude, codex, aider, gemini, copilot, opencode };

export type { CliDefinition, NoticeRule, PrepareContext, Prepared, ScreenRule } from './types';
