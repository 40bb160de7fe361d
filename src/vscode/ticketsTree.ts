// The Tickets view: tickets grouped by status, refreshed from the orchestrator's change
// event (debounced, so a burst of events is one repaint).
import * as vscode from 'vscode';
import { compareIds } from '../core/dag';
import { priorityRank, type OrchardState } from '../core/model';
import { dependencyItem, groupItem, runItem, runsOf, STATUS_ORDER, ticketItem, type Node } from './treeNodes/nodes';

export class TicketsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private ticking: NodeJS.Timeout | undefined;

  constructor(private readonly state: () => OrchardState | undefined) {
    // Elapsed times of running tickets move even when no event arrives.
    this.ticking = setInterval(() => {
      const s = this.state();
      if (s && Object.values(s.tickets).some((t) => t.status === 'running')) this.refresh();
    }, 5000);
  }

  /** Schedules one repaint; calls within 100 ms coalesce. */
  refresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire(undefined);
    }, 100);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const s = this.state()!;
    const now = Date.now();
    switch (node.kind) {
      case 'group':
        return groupItem(node);
      case 'ticket':
        return ticketItem(s.tickets[node.id]!, s, now);
      case 'dependency':
        return dependencyItem(s.tickets[node.id], node.id, node.of);
      case 'run':
        return runItem(s.runs[node.runId]!, now);
    }
  }

  getChildren(node?: Node): Node[] {
    const s = this.state();
    if (!s) return [];
    if (!node) {
      const groups = new Map<string, string[]>();
      for (const t of Object.values(s.tickets)) groups.set(t.status, [...(groups.get(t.status) ?? []), t.id]);
      // Within a group: most urgent first, then id.
      const byUrgency = (a: string, b: string) => priorityRank(s.tickets[a]!.priority) - priorityRank(s.tickets[b]!.priority) || compareIds(a, b);
      return STATUS_ORDER.filter((st) => groups.has(st)).map((status) => ({ kind: 'group', status, ids: groups.get(status)!.sort(byUrgency) }));
    }
    if (node.kind === 'group') return node.ids.filter((id) => s.tickets[id]).map((id) => ({ kind: 'ticket', id }));
    if (node.kind === 'ticket') {
      const t = s.tickets[node.id];
      if (!t) return [];
      return [
        ...t.dependsOn.map((d): Node => ({ kind: 'dependency', id: d, of: t.id })),
        ...runsOf(s, t.id).map((r): Node => ({ kind: 'run', runId: r.id })),
      ];
    }
    return [];
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.ticking);
    this.changed.dispose();
  }
}
