// The dashboard command opens a webview panel in the editor area.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension, allTabs, closeAllEditors, waitFor } from './helpers';

describe('dashboard', () => {
  before(async () => {
    await activatedExtension();
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
});
