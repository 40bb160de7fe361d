// The Orchard side bar: Tickets (filtered by ticketFilterCommands.ts), Escalations, Agents,
// the Merge queue and Locks, each a StateTreeProvider over the controller's state. Views
// with nothing to show are hidden (viewVisibility.ts); the Tickets view's badge counts what
// waits for the human (waitSignals.ts).
import * as vscode from 'vscode';
import { batchEta, batchEtaLabel } from '../core/etaView';
import type { OrchardState } from '../core/model';
import type { OrchardController } from './controller';
import type { EtaService } from './eta';
import { Disposable, interval } from './lifecycle';
import { StateTreeProvider, type TreeModel } from './stateTree';
import type { TicketFilterControl } from './ticketFilterCommands';
import { TicketsTreeProvider } from './ticketsTree';
import { agentItem, slotViews, type AgentNode } from './treeNodes/agents';
import { escalationItem, type EscalationNode } from './treeNodes/escalations';
import { lockItem, type LockNode } from './treeNodes/locks';
import { mergeItem, mergeNodes, type MergeNode } from './treeNodes/mergeQueue';
import type { Node } from './treeNodes/nodes';
import { ViewVisibility } from './viewVisibility';

export function agentsModel(controller: OrchardController): TreeModel<AgentNode> {
  const views = (s: OrchardState) => slotViews(s, controller.maxAgents(), controller.isActive(), controller.defaultAgent());
  return {
    ticks: (s) => Object.values(s.runs).some((r) => r.endedAt === undefined),
    children: (s, node) => (node ? [] : views(s).map((v) => ({ kind: 'agent', slot: v.slot, ticketId: v.run?.ticketId, runId: v.run?.id }))),
    item: (s, node, now) => {
      const v = views(s).find((x) => x.slot === node.slot) ?? { slot: node.slot, state: 'idle' as const };
      return agentItem(v, s, now);
    },
  };
}

export const locksModel: TreeModel<LockNode> = {
  ticks: (s) => s.locks.length > 0,
  children: (s, node) =>
    node
      ? []
      : [...s.locks]
          .sort((a, b) => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0))
          .map((l) => ({ kind: 'lock', pattern: l.pattern, runId: l.runId })),
  item: (s, node, now) => {
    const l = s.locks.find((x) => x.pattern === node.pattern && x.runId === node.runId);
    return l ? lockItem(l, s, now) : new vscode.TreeItem(node.pattern);
  },
};

export function escalationsModel(controller: OrchardController): TreeModel<EscalationNode> {
  return {
    ticks: (s) => Object.values(s.escalations ?? {}).some((e) => !e.answer),
    children: (_s, node) => (node ? [] : controller.openEscalations().map((e) => ({ kind: 'escalation', id: e.id }))),
    item: (s, node, now) => escalationItem(s.escalations[node.id]!, s, now),
  };
}

export const mergeQueueModel: TreeModel<MergeNode> = {
  children: (s, node) => (node ? [] : mergeNodes(s)),
  item: (s, node) => {
    const queued = mergeNodes(s).filter((n) => n.state === 'queued');
    return mergeItem(node, s, queued.findIndex((n) => n.id === node.id) + 1);
  },
};

export class OrchardViews extends Disposable {
  readonly tickets: StateTreeProvider<Node>;
  readonly agents: StateTreeProvider<AgentNode>;
  readonly locks: StateTreeProvider<LockNode>;
  readonly escalations: StateTreeProvider<EscalationNode>;
  readonly mergeQueue: StateTreeProvider<MergeNode>;
  readonly ticketsView: vscode.TreeView<Node>;
  readonly escalationsView: vscode.TreeView<EscalationNode>;
  readonly agentsView: vscode.TreeView<AgentNode>;
  readonly mergeQueueView: vscode.TreeView<MergeNode>;
  readonly locksView: vscode.TreeView<LockNode>;
  readonly visibility: ViewVisibility;

  constructor(
    private readonly controller: OrchardController,
    private readonly eta?: EtaService,
    private readonly filter?: TicketFilterControl,
  ) {
    super();
    const state = () => controller.state();
    this.tickets = this._register(
      new TicketsTreeProvider(state, { prediction: () => eta?.current(), agents: () => controller.maxAgents(), filter: () => filter?.current }),
    );
    this.agents = this._register(new StateTreeProvider(state, agentsModel(controller)));
    this.locks = this._register(new StateTreeProvider(state, locksModel));
    this.escalations = this._register(new StateTreeProvider(state, escalationsModel(controller)));
    this.mergeQueue = this._register(new StateTreeProvider(state, mergeQueueModel));
    this.ticketsView = this._register(
      vscode.window.createTreeView('orchard.tickets', { treeDataProvider: this.tickets, showCollapseAll: true, canSelectMany: true }),
    );
    this.agentsView = this._register(vscode.window.createTreeView('orchard.agents', { treeDataProvider: this.agents }));
    this.locksView = this._register(vscode.window.createTreeView('orchard.locks', { treeDataProvider: this.locks }));
    this.escalationsView = this._register(vscode.window.createTreeView('orchard.escalations', { treeDataProvider: this.escalations }));
    this.mergeQueueView = this._register(vscode.window.createTreeView('orchard.mergeQueue', { treeDataProvider: this.mergeQueue }));
    this.visibility = new ViewVisibility(controller, {
      escalations: this.escalationsView,
      agents: this.agentsView,
      mergeQueue: this.mergeQueueView,
      locks: this.locksView,
    });
    this._register(controller.onDidChangeState(() => this.refresh()));
    if (filter) {
      this._register(
        filter.onDidChange(() => {
          this.tickets.refresh();
          this.ticketsView.message = filter.message();
        }),
      );
      this.ticketsView.message = filter.message();
    }
    if (eta) {
      this._register(
        eta.onDidChange(() => {
          this.tickets.refresh();
          this.updateEta();
        }),
      );
      // The description counts down while the batch runs (the tree's rows tick on their own).
      this._register(interval(() => eta.current()?.live && this.updateEta(), 5_000));
    }
  }

  /**
   * The batch's predicted end in the Tickets view's header ("ETA ≈ 12 min"), from the
   * EtaService's latest prediction: set on every new prediction, cleared when none is left.
   */
  private updateEta(): void {
    const lp = this.eta?.current();
    const s = this.controller.state();
    const b = lp && s ? batchEta(lp, s) : undefined;
    this.ticketsView.description = b ? batchEtaLabel(b, Date.now()) : undefined;
  }

  refresh(): void {
    for (const p of [this.tickets, this.agents, this.locks, this.escalations, this.mergeQueue]) p.refresh();
    this.visibility.update();
    if (this.filter?.current) this.ticketsView.message = this.filter.message();
    const s = this.controller.state();
    void vscode.commands.executeCommand('setContext', 'orchard.hasTickets', !!s && Object.keys(s.tickets).length > 0);
    void vscode.commands.executeCommand('setContext', 'orchard.active', this.controller.isActive());
  }

  /** Ticket ids selected in the Tickets view (for multi-select commands). */
  selectedTickets(): string[] {
    return this.ticketsView.selection.filter((n): n is Extract<Node, { kind: 'ticket' }> => n.kind === 'ticket').map((n) => n.id);
  }
}
