// The Tickets view: tickets grouped by status (most urgent first within a group); a ticket
// expands to its dependencies, its runs and the gate results of its last run.
import { compareIds } from '../core/dag';
import { priorityRank, type OrchardState } from '../core/model';
import { StateTreeProvider, type TreeModel } from './stateTree';
import { dependencyItem, gateItem, gatesOf, groupItem, lastRunOf, runItem, runsOf, STATUS_ORDER, ticketItem, type Node } from './treeNodes/nodes';

export const ticketsModel: TreeModel<Node> = {
  ticks: (s) => Object.values(s.tickets).some((t) => t.status === 'running'),
  children(s: OrchardState, node: Node | undefined): Node[] {
    if (!node) {
      const groups = new Map<string, string[]>();
      for (const t of Object.values(s.tickets)) {
        const g = groups.get(t.status);
        if (g) g.push(t.id);
        else groups.set(t.status, [t.id]);
      }
      const byUrgency = (a: string, b: string) => priorityRank(s.tickets[a]!.priority) - priorityRank(s.tickets[b]!.priority) || compareIds(a, b);
      return STATUS_ORDER.filter((st) => groups.has(st)).map((status) => ({ kind: 'group', status, ids: groups.get(status)!.sort(byUrgency) }));
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
      case 'group':
        return groupItem(node);
      case 'ticket':
        return ticketItem(s.tickets[node.id]!, s, now);
      case 'dependency':
        return dependencyItem(s.tickets[node.id], node.id, node.of);
      case 'run':
        return runItem(s.runs[node.runId]!, now);
      case 'gate':
        return gateItem(gatesOf(s.runs[node.runId])[node.index]!, node.runId, node.index);
    }
  },
};

export class TicketsTreeProvider extends StateTreeProvider<Node> {
  constructor(state: () => OrchardState | undefined) {
    super(state, ticketsModel);
  }
}
