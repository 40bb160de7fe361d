// Which Orchard views have something to show: the context keys their `when` clauses read
// (package.json), so the Tickets view keeps the side bar while Escalations, Agents, Merge
// Queue and Locks are empty, and each comes back when something arrives, its count in its
// header. Numeric badges stay for waits only (waitSignals.ts): VS Code adds every view's
// badge into the Orchard icon's, which should say how many things wait for the human.
import * as vscode from 'vscode';
import type { OrchardState } from '../core/model';
import type { OrchardController } from './controller';
import { slotViews } from './treeNodes/agents';
import { mergeNodes } from './treeNodes/mergeQueue';

export interface ViewPresence {
  /** Open questions. */
  'orchard.hasEscalations': number;
  /** Slots not idle (working, waiting for input, paused, rate limited). */
  'orchard.agentsBusy': number;
  /** Tickets merging, queued, or stopped in the merge. */
  'orchard.hasMergeQueue': number;
  /** Files locked. */
  'orchard.hasLocks': number;
}

export function viewPresence(controller: OrchardController, s: OrchardState | undefined): ViewPresence {
  if (!s) return { 'orchard.hasEscalations': 0, 'orchard.agentsBusy': 0, 'orchard.hasMergeQueue': 0, 'orchard.hasLocks': 0 };
  return {
    'orchard.hasEscalations': controller.openEscalations().length,
    'orchard.agentsBusy': slotViews(s, controller.maxAgents(), controller.isActive(), controller.defaultAgent()).filter((v) => v.state !== 'idle').length,
    'orchard.hasMergeQueue': mergeNodes(s).length,
    'orchard.hasLocks': s.locks.length,
  };
}

export interface PresenceViews {
  escalations: vscode.TreeView<unknown>;
  agents: vscode.TreeView<unknown>;
  mergeQueue: vscode.TreeView<unknown>;
  locks: vscode.TreeView<unknown>;
}

export class ViewVisibility {
  /** The context keys as last set (tests and diagnostics). */
  readonly keys = new Map<keyof ViewPresence, boolean>();

  constructor(
    private readonly controller: OrchardController,
    private readonly views: PresenceViews,
  ) {}

  update(): ViewPresence {
    const p = viewPresence(this.controller, this.controller.state());
    for (const [key, n] of Object.entries(p) as [keyof ViewPresence, number][]) {
      if (this.keys.get(key) === n > 0) continue;
      this.keys.set(key, n > 0);
      void vscode.commands.executeCommand('setContext', key, n > 0);
    }
    const count = (n: number, what?: string) => (n ? (what ? `${n} ${what}` : String(n)) : undefined);
    this.views.escalations.description = count(p['orchard.hasEscalations']);
    this.views.agents.description = count(p['orchard.agentsBusy'], 'busy');
    this.views.mergeQueue.description = count(p['orchard.hasMergeQueue']);
    this.views.locks.description = count(p['orchard.hasLocks']);
    return p;
  }
}
