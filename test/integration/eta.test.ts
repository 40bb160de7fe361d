// Predicted completion (ETA) in the real extension host: the host's throttled prediction
// reaches the Tickets view (header, summary row, each ticket's row and tooltip) and the
// dashboard snapshot, and follows the state when it changes (a trailing prediction).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { orchardApi as api, waitFor } from './helpers';
import type { Node } from '../../src/vscode/treeNodes/nodes';

const label = (item: vscode.TreeItem): string => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));
/** A tooltip's text (markdown: appendText escapes spaces and punctuation). */
const tooltip = (item: vscode.TreeItem): string =>
  (typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? '')).replace(/&nbsp;/g, ' ').replace(/\\([\\`*_{}[\]()#+\-.!<>])/g, '$1');
const IDS = ['ETA1', 'ETA2', 'ETA3', 'ETA4'];

describe('predicted completion (ETA)', function () {
  this.timeout(240_000);
  let wasActive = false;
  before(async () => {
    const a = await api();
    wasActive = a.controller.isActive();
    // Paused: nothing starts, so the prediction is "once started" and no agent is left behind.
    await vscode.commands.executeCommand('orchard.pause');
  });
  after(async () => {
    const a = await api();
    const s = await a.controller.writer();
    for (const id of IDS) {
      const t = s.orchestrator.snapshot.tickets[id];
      if (t && !['done', 'cancelled', 'failed'].includes(t.status)) await s.orchestrator.cancel(id, 'end of the ETA suite');
    }
    if (wasActive) await vscode.commands.executeCommand('orchard.resume');
  });

  it("the Tickets view shows the batch ETA and each ticket's; a ticket that cannot finish says so; it follows changes", async () => {
    const a = await api();
    const s = await a.controller.writer();
    const spec = (id: string, estimate: number, dependsOn: string[] = []) => ({
      id,
      title: `ETA probe ${id}`,
      prompt: 'probe',
      priority: 'P3' as const,
      dependsOn,
      files: [`eta/${id}.txt`],
      labels: [],
      agent: 'fake',
      estimate,
    });
    await s.orchestrator.addTickets([spec('ETA1', 10), spec('ETA2', 20, ['ETA1']), spec('ETA4', 5), spec('ETA3', 5, ['ETA4'])]);
    await s.orchestrator.cancel('ETA4', 'the ETA test: its dependent cannot finish');
    const runsBefore = a.eta.runs;
    // The host predicts on its own (throttled) after the change.
    const lp = await waitFor(
      () => {
        const p = a.eta.current();
        return p?.prediction.tickets.ETA2 && p.prediction.unreachable.includes('ETA3') ? p : undefined;
      },
      'a prediction that covers the new tickets',
      20_000,
    ).catch((e) => {
      const p = a.eta.current();
      throw new Error(
        `${String(e)}; predictions ${a.eta.runs} (before ${runsBefore}), last covers ${Object.keys(p?.prediction.tickets ?? {}).join(',')} unreachable ${p?.prediction.unreachable.join(',')}; state has ${Object.keys(a.controller.state()?.tickets ?? {}).join(',')}; same session ${a.controller.current === s}`,
      );
    });
    assert.equal(lp.live, false, 'paused: the ETA counts from the start');
    assert.ok(a.eta.runs > runsBefore);

    const tree = a.views.tickets;
    const find = async (id: string) =>
      waitFor(() => {
        for (const g of tree.getChildren()) for (const n of tree.getChildren(g)) if (n.kind === 'ticket' && n.id === id) return tree.getTreeItem(n);
        return undefined;
      }, `${id} in the Tickets tree`);
    // The first row is the batch's ETA; the view's header says the same.
    const first = await waitFor(() => tree.getChildren()[0], 'the first row');
    assert.equal((first as Node).kind, 'eta');
    const summary = tree.getTreeItem(first);
    assert.match(label(summary), /^ETA ≈ \d+(\.\d)? (s|min|h) once started/);
    assert.match(tooltip(summary), /real scheduler/);
    await waitFor(() => a.views.ticketsView.description, 'the view description');
    assert.equal(a.views.ticketsView.description, label(summary));

    // ETA2 waits for ETA1: its row says when it would be done, its tooltip when it starts and ends.
    const eta2 = await find('ETA2');
    assert.match(String(eta2.description), /≈ \d+(\.\d)? (s|min|h)/);
    assert.match(tooltip(eta2), /Predicted start: ≈ .* after the batch starts/);
    assert.match(tooltip(eta2), /Predicted finish \(merged\)/);
    const eta3 = await find('ETA3');
    assert.match(String(eta3.description), /cannot finish/);
    assert.match(tooltip(eta3), /cannot finish as things stand: .*ETA4.*cancelled/);

    // The dashboard's snapshot carries the same prediction (header tile, predicted runs).
    const html = await vscode.commands.executeCommand<string>('orchard.dashboard.snapshotHtml');
    assert.match(html ?? '', /predicted, once started/);
    assert.match(html ?? '', /data-id="ETA2"[^>]*>[^]*?ETA2 predicted: starts at/);

    // A change is reflected by the next (trailing) prediction: with ETA1 cancelled, ETA2 cannot finish.
    await s.orchestrator.cancel('ETA1', 'the ETA test: the prediction follows');
    await waitFor(() => a.eta.current()?.prediction.unreachable.includes('ETA2'), 'a prediction after the change', 20_000);
    await waitFor(async () => /cannot finish/.test(String((await find('ETA2')).description)), 'ETA2 to say it cannot finish', 10_000);
  });
});
