// The extension loads in a real extension host, opened on a temp git repository.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS, EXTENSION_ID, activatedExtension, git, workspaceRoot } from './helpers';

describe('activation', () => {
  it('opens a temp git repository on main as the only workspace folder', () => {
    const root = workspaceRoot();
    if (process.env.ORCHARD_TEST_WORKSPACE) assert.equal(root, process.env.ORCHARD_TEST_WORKSPACE);
    assert.ok(fs.existsSync(path.join(root, '.git')), `${root} has no .git`);
    assert.equal(git(root, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    assert.match(git(root, 'rev-parse', 'HEAD'), /^[0-9a-f]{40}$/);
    assert.equal(vscode.workspace.isTrusted, true);
  });

  it(`finds ${EXTENSION_ID} and activates it`, async () => {
    const ext = await activatedExtension();
    assert.equal(ext.packageJSON.name, 'orchard');
    assert.equal(ext.packageJSON.publisher, 'orchard-dev');
  });

  it('registers its commands', async () => {
    await activatedExtension();
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = COMMANDS.filter((c) => !all.has(c));
    assert.deepEqual(missing, [], `commands not registered: ${missing.join(', ')}`);
  });

  it('shows the Orchard view container and the Tickets view', async () => {
    await activatedExtension();
    await vscode.commands.executeCommand('workbench.view.extension.orchard');
    await vscode.commands.executeCommand('orchard.tickets.focus');
  });

  it('runs orchard.refresh without error', async () => {
    await activatedExtension();
    await vscode.commands.executeCommand('orchard.refresh');
  });
});
