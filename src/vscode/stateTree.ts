// One TreeDataProvider for every Orchard view: a view is a TreeModel (children + items
// computed from the state), repainted on the controller's change event. Repaints are
// coalesced (at most one per `debounceMs`, never postponed by a steady stream of events),
// so a 500-ticket board with agents reporting progress stays responsive.
import * as vscode from 'vscode';
import type { OrchardState } from '../core/model';
import { Disposable, interval } from './lifecycle';

export interface TreeModel<N> {
  children(state: OrchardState, node: N | undefined): N[];
  item(state: OrchardState, node: N, now: number): vscode.TreeItem;
  /** Whether times shown in the view move on their own (elapsed, lease left). */
  ticks?(state: OrchardState): boolean;
  parent?(state: OrchardState, node: N): N | undefined;
}

export class StateTreeProvider<N> extends Disposable implements vscode.TreeDataProvider<N> {
  private readonly changed = this._register(new vscode.EventEmitter<N | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  /** Number of repaints fired (tests and diagnostics). */
  repaints = 0;

  constructor(
    readonly state: () => OrchardState | undefined,
    readonly model: TreeModel<N>,
    private readonly debounceMs = 200,
    tickMs = 5000,
  ) {
    super();
    this._register(
      interval(() => {
        const s = this.state();
        if (s && this.model.ticks?.(s)) this.refresh();
      }, tickMs),
    );
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  /** Schedules one repaint; calls within the debounce window coalesce. */
  refresh(): void {
    if (this.timer || this.isDisposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.repaints++;
      this.changed.fire(undefined);
    }, this.debounceMs);
  }

  getTreeItem(node: N): vscode.TreeItem {
    const s = this.state();
    if (!s) return new vscode.TreeItem('…');
    return this.model.item(s, node, Date.now());
  }

  getChildren(node?: N): N[] {
    const s = this.state();
    return s ? this.model.children(s, node) : [];
  }

  getParent(node: N): N | undefined {
    const s = this.state();
    return s && this.model.parent ? this.model.parent(s, node) : undefined;
  }
}
