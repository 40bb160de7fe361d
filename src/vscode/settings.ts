// VS Code settings → the repository config overrides the session uses.
import * as vscode from 'vscode';
import type { Mode } from '../core/model';
import type { AgentProfile } from '../infra/agents/profiles';
import type { OrchardConfig } from '../infra/config';

export function configOverrides(): Partial<OrchardConfig> {
  const c = vscode.workspace.getConfiguration('orchard');
  const out: Partial<OrchardConfig> = {
    maxAgents: c.get<number>('maxAgents', 3),
    mode: c.get<Mode>('mode', 'locking'),
    defaultAgent: c.get<string>('defaultAgent', 'claude'),
  };
  const target = c.get<string>('targetBranch', '');
  if (target) out.targetBranch = target;
  const test = c.get<string[]>('testCommand', []);
  if (test.length) out.testCommand = test;
  return out;
}

export function customProfiles(): Record<string, AgentProfile> {
  const argv = vscode.workspace.getConfiguration('orchard').get<string[]>('agentCommand', []);
  return argv.length ? { custom: { name: 'custom', description: 'orchard.agentCommand', argv } } : {};
}
