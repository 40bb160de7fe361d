// The Tickets view: the batch's predicted end first, then tickets grouped by status (most
// urgent first within a group), each with its own predicted finish; a ticket expands to its
// dependencies, its runs and the gate results of its last run.
import * as vscode from 'vscode';
import { compareIds } from '../core/dag';
import { batchEta, type LivePrediction } from '../core/etaView';
import { priorityRank, type OrchardState } from '../core/model';
import { StateTreeProvider, type TreeModel } from './stateTree';
import { matchesFilter, type TicketFilter } from './ticketFilter';
import { dependencyItem, etaItem, gateItem, gatesOf, groupItem, lastRunOf, runItem, runsOf, STATUS_ORDER, ticketItem, type Node } from './treeNodes/nodes';

export interface TicketsModelOptions {
  /** The host's latest prediction (EtaService), if any. */
  prediction?: () => LivePrediction | undefined;
  /** Slots in the pool (for the ETA's tooltip). */
  agents?: () => number;
  /** The view's filter (ticketFilterCommands.ts); tickets it leaves out are not listed. */
  filter?: () => TicketFilter | undefined;
}

function groupsOf(s: OrchardState, filter: TicketFilter | undefined): Node[] {
  const groups = new Map<string, string[]>();
  for (const t of Object.values(s.tickets)) {
    if (!matchesFilter(t, filter)) continue;
    const g = groups.get(t.status);
    if (g) g.push(t.id);
    else groups.set(t.status, [t.id]);
  }
  const byUrgency = (a: string, b: string) => priorityRank(s.tickets[a]!.priority) - priorityRank(s.tickets[b]!.priority) || compareIds(a, b);
  return STATUS_ORDER.filter((st) => groups.has(st)).map((status) => ({ kind: 'group', status, ids: groups.get(status)!.sort(byUrgency) }));
}

export function ticketsTreeModel(o: TicketsModelOptions = {}): TreeModel<Node> {
  const prediction = o.prediction ?? (() => undefined);
  return {
    // Running tickets' elapsed times move, and so do predicted times while the batch runs.
    ticks: (s) => Object.values(s.tickets).some((t) => t.status === 'running') || !!prediction()?.live,
    children(s: OrchardState, node: Node | undefined): Node[] {
      if (!node) {
        const lp = prediction();
        return [...(lp && batchEta(lp, s) ? [{ kind: 'eta' } as const] : []), ...groupsOf(s, o.filter?.())];
      }
      if (node.kind === 'group') return node.ids.filter((id) => s.tickets[id]).map((id) => ({ kind: 'ticket', id }));
      if (node.kind === 'ticket') {
        const t = s.tickets[node.id];
        if (!t) return [];
        const last = lastRunOf(s, t.id);
        return [
          ...t.dependsOn.map((d): Node => ({ kind: 'dependency', id: d, of: t.id })),
          ...runsOf(s, t.id).map((r): Node => ({ kind: 'run', runId: r.id })),
          ...gatesOf(last).map((_, index): Node => ({ kind: 'gate', runId: last!.id, index })),
        ];
      }
      return [];
    },
    item(s, node, now) {
      switch (node.kind) {
        case 'eta': {
          const lp = prediction();
          // The row is only listed with a prediction; a stale node (prediction gone) says so.
          const b = lp && batchEta(lp, s);
          return b ? etaItem(b, lp, now, o.agents?.() ?? 1) : new vscode.TreeItem('Predicting…');
        }
        case 'group':
          return groupItem(node);
        case 'ticket':
          return ticketItem(s.tickets[node.id]!, s, now, prediction());
        case 'dependency':
          return dependencyItem(s.tickets[node.id], node.id, node.of);
        case 'run':
          return runItem(s.runs[node.runId]!, now);
        case 'gate':
          return gateItem(gatesOf(s.runs[node.runId])[node.index]!, node.runId, node.index);
      }
    },
  };
}

/** The model without predictions. */
export const ticketsModel: TreeModel<Node> = ticketsTreeModel();

export class TicketsTreeProvider extends StateTreeProvider<Node> {
  constructor(state: () => OrchardState | undefined, o: TicketsModelOptions = {}) {
    super(state, ticketsTreeModel(o));
  }
}
