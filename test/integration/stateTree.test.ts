// How the trees repaint, in the real extension host: a change that keeps a tree's shape
// refreshes only the rows that changed, given as the very objects the view was given (VS Code
// keeps every other row's handle, so an inline action clicked meanwhile still gets its row);
// a row that comes, goes or moves refreshes the whole tree. The provider runs on its own
// state here, read the way a view reads it, so nothing else in the session can repaint it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { emptyState, type OrchardState, type Ticket } from '../../src/core/model';
import { itemFingerprint, StateTreeProvider } from '../../src/vscode/stateTree';
import { ticketsTreeModel } from '../../src/vscode/ticketsTree';
import type { Node } from '../../src/vscode/treeNodes/nodes';

function ticket(id: string, patch: Partial<Ticket> = {}): Ticket {
  return { id, title: `Ticket ${id}`, prompt: 'p', priority: 'P2', dependsOn: [], files: [], labels: [], status: 'ready', createdAt: 0, attempts: 0, ...patch };
}

/** Reads the tree as the view does: the groups, each group's rows, and every row's item. */
function show(p: StateTreeProvider<Node>): Node[] {
  const rows: Node[] = [];
  for (const g of p.getChildren()) {
    p.getTreeItem(g);
    rows.push(g);
    for (const n of p.getChildren(g)) {
      p.getTreeItem(n);
      rows.push(n);
    }
  }
  return rows;
}

/** The next repaint the provider fires: the rows it names, or undefined for the whole tree. */
function nextRepaint(p: StateTreeProvider<Node>): Promise<Node | Node[] | undefined | null | void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no repaint within 30 s of the change')), 30_000);
    const d = p.onDidChangeTreeData((e) => {
      clearTimeout(timer);
      d.dispose();
      resolve(e);
    });
  });
}

describe('tree repaints', () => {
  let state: OrchardState;
  let p: StateTreeProvider<Node>;
  const set = (id: string, patch: Partial<Ticket>) => {
    state = { ...state, tickets: { ...state.tickets, [id]: { ...state.tickets[id]!, ...patch } } };
  };
  beforeEach(() => {
    state = emptyState();
    state.tickets = { A: ticket('A'), B: ticket('B') };
    p = new StateTreeProvider(() => state, ticketsTreeModel(), 10, 3_600_000);
  });
  afterEach(() => p.dispose());

  it('an edit that keeps the shape repaints only its row, as the object the view holds', async () => {
    const rows = show(p);
    const a = rows.find((n) => n.kind === 'ticket' && n.id === 'A')!;
    set('A', { title: 'Renamed' });
    const painted = nextRepaint(p);
    p.refresh();
    const fired = await painted;
    assert.ok(Array.isArray(fired), `a whole-tree repaint for a rename: ${JSON.stringify(fired)}`);
    assert.equal(fired.length, 1, JSON.stringify(fired));
    assert.equal(fired[0], a, 'the row is the object the view was given, so VS Code can find it');
    assert.equal(p.fullRepaints, 0);
    // The same rows keep their objects on the next read, and the row shows the edit.
    const again = show(p);
    assert.equal(
      again.find((n) => n.kind === 'ticket' && n.id === 'A'),
      a,
    );
    assert.match(String(p.getTreeItem(a).label), /Renamed/);
    // A change only in the tooltip (markdown) counts too.
    set('B', { files: ['src/b.ts'] });
    const painted2 = nextRepaint(p);
    p.refresh();
    const fired2 = await painted2;
    assert.deepEqual(fired2, [again.find((n) => n.kind === 'ticket' && n.id === 'B')]);
  });

  it('a row that comes, goes or moves repaints the whole tree', async () => {
    show(p);
    state = { ...state, tickets: { ...state.tickets, C: ticket('C') } };
    let painted = nextRepaint(p);
    p.refresh();
    assert.equal(await painted, undefined, 'a new row');
    assert.equal(p.fullRepaints, 1);
    show(p);
    set('A', { status: 'running' });
    painted = nextRepaint(p);
    p.refresh();
    assert.equal(await painted, undefined, 'a row moving group');
    show(p);
    const { B: _gone, ...rest } = state.tickets;
    state = { ...state, tickets: rest };
    painted = nextRepaint(p);
    p.refresh();
    assert.equal(await painted, undefined, 'a row gone');
    assert.equal(p.fullRepaints, 3);
  });

  it("an item's fingerprint follows what it shows, markdown tooltips included", () => {
    const item = (tip: string) => {
      const i = new vscode.TreeItem('row');
      i.tooltip = new vscode.MarkdownString(tip);
      return i;
    };
    assert.equal(itemFingerprint(item('one')), itemFingerprint(item('one')));
    assert.notEqual(itemFingerprint(item('one')), itemFingerprint(item('two')));
  });
});
