// The dashboard in the real extension host: the panel and the side-bar view load the webview
// bundle, complete the ready handshake, get a snapshot, and follow core events with patches
// that the webview reports as rendered.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension, allTabs, closeAllEditors, waitFor } from './helpers';
import type { OrchardApi } from '../../src/extension';
import type { DashboardStats } from '../../src/vscode/dashboard';

// A copy: the command hands back the host's live counters, so a `before` kept as returned
// would change with them (two tests were skipped, comparing the object with itself).
const stats = async () => structuredClone((await vscode.commands.executeCommand<DashboardStats>('orchard.dashboard.stats'))!);

describe('dashboard', () => {
  let api: OrchardApi;
  before(async () => {
    api = (await activatedExtension()).exports as OrchardApi;
    await closeAllEditors();
  });
  after(closeAllEditors);

  it('orchard.showDashboard opens one webview tab, and reuses it when run again', async () => {
    const webviewTabs = () => allTabs().filter((t) => t.input instanceof vscode.TabInputWebview);
    await vscode.commands.executeCommand('orchard.showDashboard');
    const tab = await waitFor(() => webviewTabs()[0], 'a webview tab');
    assert.match(tab.label, /orchard/i);
    await vscode.commands.executeCommand('orchard.showDashboard');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(webviewTabs().length, 1, 'running the command twice opened a second dashboard');
  });

  it('the webview says ready, gets a snapshot and reports it rendered', async () => {
    await vscode.commands.executeCommand('orchard.showDashboard');
    const s = await waitFor(
      async () => {
        const x = await stats();
        return x.snapshots >= 1 && x.latencyMs.length >= 1 ? x : undefined;
      },
      'a rendered snapshot',
      20_000,
    );
    assert.equal(s.rejected, 0, 'the webview sent a message the host rejected');
  });

  it('core events reach the open dashboard as patches (coalesced), each rendered', async () => {
    // Something else (a walkthrough, another test) may have covered the panel: a hidden
    // webview is thrown away and gets a fresh snapshot when shown again.
    await vscode.commands.executeCommand('orchard.showDashboard');
    await new Promise((r) => setTimeout(r, 1500));
    const before = await stats();
    const id = `DASH${Date.now() % 100000}`;
    // Straight to the core (the Add Ticket command may reveal the new ticket in a view).
    const s = await api.controller.writer();
    await s.orchestrator.addTickets([
      { id, title: 'Dashboard probe', prompt: 'probe', priority: 'P3', dependsOn: [], files: [`probe/${id}.txt`], labels: [], agent: 'fake' },
    ]);
    await s.orchestrator.cancel(id, 'dashboard test probe');
    assert.ok(s.orchestrator.snapshot.tickets[id], `the probe ticket was not added (session ${api.controller.current === s ? 'current' : 'replaced'})`);
    const after = await waitFor(
      async () => {
        const x = await stats();
        return x.patches > before.patches && x.latencyMs.length > before.latencyMs.length ? x : undefined;
      },
      'a rendered patch',
      15_000,
    ).catch(async (e) => {
      const x = await stats();
      throw new Error(
        `${String(e)}; stats ${JSON.stringify({ ...x, latencyMs: x.latencyMs.length, renderMs: x.renderMs.length, buildMs: x.buildMs.length, messageBytes: x.messageBytes, errors: x.errors })}; before ${JSON.stringify({ changes: before.changes, patches: before.patches, snapshots: before.snapshots, latencyMs: before.latencyMs.length })}; the HTML snapshot ${(await vscode.commands.executeCommand<string>('orchard.dashboard.snapshotHtml'))?.includes('Dashboard probe') ? 'shows' : 'does not show'} the probe`,
      );
    });
    const latest = after.latencyMs.slice(before.latencyMs.length);
    assert.ok(
      latest.every((ms) => ms >= 0 && ms < 5_000),
      `latencies ${latest.join(', ')} ms`,
    );
    assert.ok(after.messageBytes.length > before.messageBytes.length);
    const html = await vscode.commands.executeCommand<string>('orchard.dashboard.snapshotHtml');
    assert.ok(html?.includes('Dashboard probe'), 'the HTML snapshot shows the new ticket');
    assert.ok(!/<script/i.test(html!), 'the snapshot has no scripts');
  });

  it('the side-bar dashboard view resolves and gets its own snapshot', async () => {
    const before = await stats();
    await vscode.commands.executeCommand('orchard.dashboardView.focus');
    // An earlier test may have shown the side bar already: then its snapshot came before this one.
    await waitFor(async () => (await stats()).compactSnapshots >= 1, 'a snapshot for the side-bar view', 20_000).catch(async (e) => {
      const x = await stats();
      throw new Error(`${String(e)}; webviews ${before.webviews} → ${x.webviews}, snapshots ${x.snapshots} (side bar ${x.compactSnapshots})`);
    });
  });
});
