// Repository settings for headless use, kept in <common dir>/orchard/config.json
// (VS Code reads its own settings and passes the same shape).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, MERGE_STRATEGIES, MODES, type Mode, type Settings } from '../core/model';
import { validateGates } from '../core/gates';
import { validateRoles } from '../core/roles';
import { validateReviewPolicy } from '../core/review';

export interface OrchardConfig extends Settings {
  /** Profile for tickets that name none. */
  defaultAgent: string;
  /** argv run in the integration worktree after each merge. */
  testCommand: string[];
  /** Where ticket worktrees go (default `<repo>.orchard/worktrees`; setting orchard.worktreeLocation). */
  worktreeRoot?: string;
  /** Worktree setup: { copy: [globs], share: [{ path, mode: copy|hardlink|symlink }], command: [argv], sparse: bool }. */
  setup?: import('./git/worktrees').WorktreeSetup;
  /** Prepared worktrees kept ready (0: none). */
  worktreePool?: number;
  /** Custom agent profiles: name → { argv, interactiveArgv?, rateLimitPatterns?, needsInputPatterns?, donePatterns?, usage?, extends? }. */
  agentProfiles?: Record<string, unknown>;
  /**
   * The user agrees that agent CLIs may treat this repository's worktrees as trusted where only
   * their own global config can say so (Claude Code's ~/.claude.json); Orchard logs each write.
   */
  trustWorktrees?: boolean;
}

export const CONFIG_FILE = 'config.json';

export class ConfigError extends Error {
  readonly reason = 'bad-config';
  static is(e: unknown): e is ConfigError {
    return e instanceof ConfigError;
  }
}

export function defaultConfig(targetBranch: string): OrchardConfig {
  return { ...DEFAULT_SETTINGS, targetBranch, defaultAgent: 'claude', testCommand: [] };
}

/** Checks every field; the message names the field, the value and the fix. */
export function validateConfig(raw: Record<string, unknown>, where: string): OrchardConfig {
  const c = { ...defaultConfig('main'), ...raw } as OrchardConfig;
  const bad = (field: string, fix: string): never => {
    throw new ConfigError(`${where}: ${field} is ${JSON.stringify((raw as Record<string, unknown>)[field])}; ${fix}`);
  };
  if (!Number.isInteger(c.maxAgents) || c.maxAgents < 1 || c.maxAgents > 64) bad('maxAgents', 'use a whole number from 1 to 64');
  if (!MODES.includes(c.mode as Mode)) bad('mode', `use one of ${MODES.join(', ')}`);
  if (typeof c.overlapThreshold !== 'number' || c.overlapThreshold < 0 || c.overlapThreshold > 1) bad('overlapThreshold', 'use a number from 0 to 1');
  if (typeof c.targetBranch !== 'string' || c.targetBranch.trim() === '') bad('targetBranch', 'name an existing branch');
  if (!(c.lockLeaseMinutes > 0)) bad('lockLeaseMinutes', 'use a positive number of minutes');
  if (!(c.runTimeoutMinutes > 0)) bad('runTimeoutMinutes', 'use a positive number of minutes');
  if (!Number.isInteger(c.maxRetries) || c.maxRetries < 0 || c.maxRetries > 10) bad('maxRetries', 'use a whole number from 0 to 10');
  if (c.trustWorktrees !== undefined && typeof c.trustWorktrees !== 'boolean') bad('trustWorktrees', 'use true or false');
  if (typeof c.defaultAgent !== 'string' || !c.defaultAgent) bad('defaultAgent', 'name an agent profile such as claude or codex');
  if (!Array.isArray(c.testCommand) || c.testCommand.some((a) => typeof a !== 'string')) bad('testCommand', 'use an argv array such as ["npm", "test"]');
  const roleProblems = validateRoles(c.roles);
  if (roleProblems.length) throw new ConfigError(`${where}: ${roleProblems.join('; ')}`);
  if (c.budgetUsd !== undefined && !(typeof c.budgetUsd === 'number' && c.budgetUsd >= 0))
    bad('budgetUsd', 'use a number of US dollars ≥ 0, or remove it for no budget');
  // Gates and merging
  const gateProblems = validateGates(c.gates, c.requiredGatesByLabel);
  if (gateProblems.length) throw new ConfigError(`${where}: ${gateProblems.join('; ')}`);
  if (c.mergeStrategy !== undefined && !MERGE_STRATEGIES.includes(c.mergeStrategy)) bad('mergeStrategy', `use one of ${MERGE_STRATEGIES.join(', ')}`);
  if (c.batchMerge !== undefined && typeof c.batchMerge !== 'boolean') bad('batchMerge', 'use true or false');
  if (c.maxBatch !== undefined && (!Number.isInteger(c.maxBatch) || c.maxBatch < 2 || c.maxBatch > 64)) bad('maxBatch', 'use a whole number from 2 to 64');
  if (c.reviewerRounds !== undefined && (!Number.isInteger(c.reviewerRounds) || c.reviewerRounds < 0 || c.reviewerRounds > 10))
    bad('reviewerRounds', 'use a whole number from 0 to 10');
  const reviewProblems = validateReviewPolicy(c.review);
  if (reviewProblems.length) throw new ConfigError(`${where}: ${reviewProblems.join('; ')}`);
  if (c.predictConflicts !== undefined && typeof c.predictConflicts !== 'boolean') bad('predictConflicts', 'use true or false');
  if (c.afterInterruption !== undefined && c.afterInterruption !== 'restart' && c.afterInterruption !== 'continue')
    bad('afterInterruption', 'use "restart" (start again from where the attempt began) or "continue" (build on its partial work)');
  return c;
}

export function readConfig(stateDir: string, fallbackBranch: string): OrchardConfig {
  const file = join(stateDir, CONFIG_FILE);
  if (!existsSync(file)) return defaultConfig(fallbackBranch);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON (${(e as Error).message}); fix it or delete it to use the defaults.`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file} must hold a JSON object.`);
  return validateConfig({ targetBranch: fallbackBranch, ...(raw as Record<string, unknown>) }, file);
}

export function writeConfig(stateDir: string, config: OrchardConfig): void {
  writeFileSync(join(stateDir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}
