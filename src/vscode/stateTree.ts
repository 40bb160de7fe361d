// One TreeDataProvider for every Orchard view: a view is a TreeModel (children + items
// computed from the state), repainted on the controller's change event. Repaints are
// coalesced (at most one per `debounceMs`, never postponed by a steady stream of events),
// so a 500-ticket board with agents reporting progress stays responsive.
//
// A repaint refreshes only the rows whose item changed while the tree keeps its shape (the
// same rows under the same parents). A full refresh makes VS Code forget every row's handle
// until the view has fetched its children again, and an inline action clicked in that gap
// (a ticket's Start, an agent's Stop) reaches its command without its row. So the whole tree
// is refreshed only when a row comes, goes or moves. Row objects are kept by key, because VS
// Code finds a row to refresh by the identity of the object it was given.
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

/** The key of the root in `shownChildren` (a node's key is its JSON, never empty). */
const ROOT = '';

/** What a row shows, as text: two items that show the same have the same fingerprint. */
export function itemFingerprint(item: vscode.TreeItem): string {
  return JSON.stringify(item, (_key, value: unknown) =>
    // A MarkdownString keeps its text in a private field, which JSON leaves out.
    value instanceof vscode.MarkdownString ? { markdown: value.value, trusted: value.isTrusted, icons: value.supportThemeIcons } : value,
  );
}

export class StateTreeProvider<N> extends Disposable implements vscode.TreeDataProvider<N> {
  private readonly changed = this._register(new vscode.EventEmitter<N | N[] | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  /** Each row's one object, by key (its JSON). */
  private rows = new Map<string, N>();
  /** Since the last full refresh: the child keys of every parent the view asked for, and the fingerprint of every row it was given. */
  private shownChildren = new Map<string, string>();
  private shownItems = new Map<string, string>();
  /** Number of repaints fired, and how many of them refreshed the whole tree (tests and diagnostics). */
  repaints = 0;
  fullRepaints = 0;

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
      this.repaint();
    }, this.debounceMs);
  }

  getTreeItem(node: N): vscode.TreeItem {
    const s = this.state();
    if (!s) return new vscode.TreeItem('…');
    const item = this.model.item(s, node, Date.now());
    const key = JSON.stringify(node);
    // Only rows handed out by getChildren are watched; the first fingerprint is never newer than what the view shows.
    if (this.rows.has(key) && !this.shownItems.has(key)) this.shownItems.set(key, itemFingerprint(item));
    return item;
  }

  getChildren(node?: N): N[] {
    const s = this.state();
    const children = s ? this.model.children(s, node).map((n) => this.row(n)) : [];
    const key = node === undefined ? ROOT : JSON.stringify(this.row(node));
    if (!this.shownChildren.has(key)) this.shownChildren.set(key, childKeys(children));
    return children;
  }

  getParent(node: N): N | undefined {
    const s = this.state();
    const parent = s && this.model.parent ? this.model.parent(s, node) : undefined;
    return parent === undefined ? undefined : this.row(parent);
  }

  private row(node: N): N {
    const key = JSON.stringify(node);
    const known = this.rows.get(key);
    if (known !== undefined) return known;
    this.rows.set(key, node);
    return node;
  }

  private repaint(): void {
    const s = this.state();
    const rows = s && this.changedRows(s);
    if (rows === undefined) {
      this.rows.clear();
      this.shownChildren.clear();
      this.shownItems.clear();
      this.fullRepaints++;
      this.fire(undefined);
    } else if (rows.length) this.fire(rows);
  }

  private fire(rows: N[] | undefined): void {
    this.repaints++;
    this.changed.fire(rows);
  }

  /** The rows whose item changed since they were shown, or undefined when the tree's shape changed (then only a full refresh will do). */
  private changedRows(s: OrchardState): N[] | undefined {
    try {
      for (const [key, shown] of this.shownChildren) {
        const parent = key === ROOT ? undefined : this.rows.get(key);
        if (key !== ROOT && parent === undefined) return undefined;
        if (childKeys(this.model.children(s, parent)) !== shown) return undefined;
      }
      const now = Date.now();
      const changed: N[] = [];
      const fingerprints: [string, string][] = [];
      for (const [key, shown] of this.shownItems) {
        const node = this.rows.get(key)!;
        const fingerprint = itemFingerprint(this.model.item(s, node, now));
        if (fingerprint === shown) continue;
        changed.push(node);
        fingerprints.push([key, fingerprint]);
      }
      for (const [key, fingerprint] of fingerprints) this.shownItems.set(key, fingerprint);
      return changed;
    } catch {
      return undefined; // a model that cannot paint a row it showed (the row is gone): repaint everything
    }
  }
}

function childKeys(children: readonly unknown[]): string {
  return JSON.stringify(children);
}
