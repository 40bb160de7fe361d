// VS Code settings → the repository config overrides the session uses. Only settings the
// user has set are passed on, so `.git/orchard/config.json` (shared with the CLI) keeps
// its say for everything else.
import * as vscode from 'vscode';
import type { AgentProfile } from '../infra/agents/profiles';
import type { OrchardConfig } from '../infra/config';

/** Setting (under "orchard.") → config key. Keys the core does not know yet are ignored by it. */
const SETTING_TO_CONFIG: Record<string, string> = {
  maxAgents: 'maxAgents',
  mode: 'mode',
  defaultAgent: 'defaultAgent',
  targetBranch: 'targetBranch',
  testCommand: 'testCommand',
  overlapThreshold: 'overlapThreshold',
  lockLeaseMinutes: 'lockLeaseMinutes',
  runTimeoutMinutes: 'runTimeoutMinutes',
  maxRetries: 'maxRetries',
  retryBackoffMinutes: 'retryBackoffMinutes',
  afterInterruption: 'afterInterruption',
  worktreeLocation: 'worktreeRoot',
  'merge.strategy': 'mergeStrategy',
  gates: 'gates',
  review: 'review',
  roles: 'roles',
  budgetUsd: 'budgetUsd',
  subtasks: 'subtasks',
  worktreePool: 'worktreePool',
};

function isSet<T>(c: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const i = c.inspect<T>(key);
  return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
}

export function configOverrides(): Partial<OrchardConfig> {
  const c = vscode.workspace.getConfiguration('orchard');
  const out: Record<string, unknown> = {
    // The long-standing defaults of the VS Code layer.
    maxAgents: c.get<number>('maxAgents', 3),
    mode: c.get<string>('mode', 'locking'),
    defaultAgent: c.get<string>('defaultAgent', 'claude'),
  };
  for (const [setting, key] of Object.entries(SETTING_TO_CONFIG)) {
    const v = isSet<unknown>(c, setting);
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[key] = v;
  }
  const copy = isSet<string[]>(c, 'setup.copyGlobs');
  const command = isSet<string[]>(c, 'setup.command');
  const sparse = isSet<boolean>(c, 'setup.sparseCheckout');
  const share = isSet<{ path: string; mode: string }[]>(c, 'setup.share');
  if (copy || command || share || sparse !== undefined) out.setup = { copy: copy ?? [], command: command ?? [], share: share ?? [], sparse: sparse ?? false };
  return out as Partial<OrchardConfig>;
}

export function customProfiles(): Record<string, AgentProfile> {
  const c = vscode.workspace.getConfiguration('orchard');
  const out: Record<string, AgentProfile> = {};
  for (const [name, p] of Object.entries(c.get<Record<string, { argv?: string[]; description?: string }>>('agentProfiles', {}))) {
    if (Array.isArray(p?.argv) && p.argv.length && p.argv.every((a) => typeof a === 'string'))
      out[name] = { name, description: p.description ?? name, argv: p.argv };
  }
  const argv = c.get<string[]>('agentCommand', []);
  if (argv.length) out.custom = { name: 'custom', description: 'orchard.agentCommand', argv };
  return out;
}

/** Alert thresholds of the status bar (the default alerts unless changed). */
export interface MetricThresholds {
  ticketsInProgressPerAgent: number;
  averageCompletionMinutes: number;
  escalationRate: number;
  conflictRate: number;
  agentUtilization: number;
}

export const DEFAULT_THRESHOLDS: MetricThresholds = {
  ticketsInProgressPerAgent: 3,
  averageCompletionMinutes: 60,
  escalationRate: 0.4,
  conflictRate: 0.15,
  agentUtilization: 0.4,
};

export function metricThresholds(): MetricThresholds {
  return { ...DEFAULT_THRESHOLDS, ...vscode.workspace.getConfiguration('orchard').get<Partial<MetricThresholds>>('metricThresholds', {}) };
}

export function notificationsEnabled(): boolean {
  return vscode.workspace.getConfiguration('orchard').get<boolean>('notifications.escalations', true);
}
