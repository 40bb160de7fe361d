// The side bar you can live in, in the real extension host: views with nothing to show are
// hidden by context keys and come back when something arrives; the Tickets filter; a wait
// (an agent's question) raises the badge, the status-bar item and the sound once, and they go
// when it is answered; each setting turns its signal off; a real merge conflict opens in VS
// Code's 3-way merge editor and Continue Merge finishes after it is resolved there.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchardApi } from '../../src/extension';
import { closeAllEditors, git, orchardApi as api, orchardState as state, waitFor, workspaceRoot } from './helpers';

const label = (item: vscode.TreeItem): string => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

/** Ticket ids listed in the Tickets tree, in order. */
function listed(a: OrchardApi): string[] {
  return a.views.tickets
    .getChildren()
    .flatMap((g) => (g.kind === 'group' ? a.views.tickets.getChildren(g) : []))
    .flatMap((n) => (n.kind === 'ticket' ? [n.id] : []));
}

async function agentsIdle(a: OrchardApi): Promise<void> {
  await waitFor(() => Object.values(a.controller.state()?.runs ?? {}).every((r) => r.endedAt !== undefined), 'every earlier run to end', 90_000);
}

const notify = vscode.workspace.getConfiguration('orchard.notify');
const setNotify = (key: 'badge' | 'statusBar' | 'sound', value: boolean | undefined) => notify.update(key, value, vscode.ConfigurationTarget.Global);

/** Starts a fake-agent ticket that asks `question` and waits for the answer; returns the question. */
async function asking(a: OrchardApi, id: string, question: string) {
  await vscode.commands.executeCommand('orchard.addTicket', {
    id,
    title: `Asks ${id}`,
    prompt: `Do it.\n@ask ${question}`,
    files: [`sb/${id}.txt`],
    labels: ['sidebar'],
    agent: 'fake',
    estimate: 1,
  });
  await vscode.commands.executeCommand('orchard.startTicket', id);
  return waitFor(() => a.controller.openEscalations().find((e) => e.ticketId === id), `${id} to ask`, 60_000);
}

describe('the side bar you can live in', function () {
  this.timeout(300_000);
  let wasActive = false;
  before(async () => {
    const a = await api();
    wasActive = a.controller.isActive();
    await vscode.commands.executeCommand('orchard.pause');
    await agentsIdle(a);
  });
  after(async () => {
    await setNotify('badge', undefined);
    await setNotify('statusBar', undefined);
    await setNotify('sound', undefined);
    await vscode.commands.executeCommand('orchard.clearTicketFilter');
    await closeAllEditors();
    if (wasActive) await vscode.commands.executeCommand('orchard.resume');
  });

  it('package.json: Tickets first; Escalations, Agents, Merge Queue and Locks shown only by their context keys; the filter on the Tickets title bar', async () => {
    const a = await api();
    const pkg = vscode.extensions.getExtension('orchard-dev.orchard')!.packageJSON as {
      contributes: { views: { orchard: { id: string; when?: string }[] }; menus: Record<string, { command: string; when?: string }[]> };
    };
    const views = pkg.contributes.views.orchard;
    assert.equal(views[0]!.id, 'orchard.tickets');
    assert.equal(views[0]!.when, undefined, 'the Tickets view is always there');
    const when = Object.fromEntries(views.map((v) => [v.id, v.when]));
    assert.deepEqual(
      { esc: when['orchard.escalations'], agents: when['orchard.agents'], merge: when['orchard.mergeQueue'], locks: when['orchard.locks'] },
      { esc: 'orchard.hasEscalations', agents: 'orchard.agentsBusy', merge: 'orchard.hasMergeQueue', locks: 'orchard.hasLocks' },
    );
    assert.ok(pkg.contributes.menus['view/title']!.some((m) => m.command === 'orchard.filterTickets' && /view == orchard.tickets/.test(m.when ?? '')));
    // The keys follow the state (whatever earlier suites left behind).
    const s = state(a);
    await waitFor(() => a.views.visibility.keys.get('orchard.hasLocks') === s.locks.length > 0, 'hasLocks to match the state');
    assert.equal(a.views.visibility.keys.get('orchard.hasEscalations'), a.controller.openEscalations().length > 0);
  });

  it('a question brings Escalations, Agents and Locks back (their count in the header), the badge, the status-bar item and one sound; the answer takes them away', async () => {
    const a = await api();
    const before = { sounds: a.waits.sounds, announced: a.waits.announced.length };
    const q = await asking(a, 'SB1', 'Keep the old API?');
    const key = `escalation:${q.id}`;
    await waitFor(() => a.waits.announced.includes(key), 'the wait to be announced');
    const v = a.views.visibility;
    await waitFor(
      () => v.keys.get('orchard.hasEscalations') && v.keys.get('orchard.agentsBusy') && v.keys.get('orchard.hasLocks'),
      'Escalations, Agents and Locks to be shown',
    );
    assert.match(String(a.views.escalationsView.description), /^\d+$/);
    assert.match(String(a.views.agentsView.description), /busy/);
    // The view can be opened now (its when clause holds) and is visible.
    await vscode.commands.executeCommand('orchard.escalations.focus');
    await waitFor(() => a.views.escalationsView.visible, 'the Escalations view to be visible');
    const waiting = a.controller.openEscalations().length;
    await waitFor(() => a.views.ticketsView.badge?.value === waiting, `the Tickets view's badge to count ${waiting}`);
    await waitFor(() => a.waits.visible && a.waits.item.text.includes(`Orchard: ${waiting} waiting for you`), `the status-bar item (${a.waits.item.text})`);
    if (waiting === 1) assert.deepEqual((a.waits.item.command as vscode.Command).arguments, [q.id], 'a click answers that question');
    assert.equal(a.waits.sounds, before.sounds + 1, 'one sound for the new wait');
    await waitFor(() => a.waits.bell.rung >= 1, 'the bell to ring in its terminal', 30_000);
    // State keeps changing while it waits: no second announcement, no second sound.
    for (let i = 0; i < 5; i++)
      await vscode.commands.executeCommand('orchard.addTicket', { id: `SBX${i}`, title: `Noise ${i}`, files: [`sb/x${i}.txt`], agent: 'fake' });
    await waitFor(() => listed(a).includes('SBX4'), 'the noise tickets listed');
    assert.equal(a.waits.announced.filter((k) => k === key).length, 1, 'announced once');
    assert.equal(a.waits.sounds, before.sounds + 1, 'still one sound');
    // Answered: the wait goes; its agent finishes; the views with nothing left hide again.
    assert.equal(await vscode.commands.executeCommand('orchard.answerEscalation', q.id, { option: 'yes' }), true);
    await waitFor(() => !a.waits.waits.some((w) => w.key === key), 'the wait to go');
    await waitFor(() => state(a).tickets.SB1?.status === 'done', 'SB1 merged', 90_000);
    if (a.controller.openEscalations().length === 0) {
      await waitFor(() => !a.waits.visible && a.views.ticketsView.badge === undefined, 'the status-bar item and the badge to go');
      await waitFor(() => v.keys.get('orchard.hasEscalations') === false, 'Escalations to hide');
    }
    await waitFor(() => v.keys.get('orchard.hasLocks') === state(a).locks.length > 0, 'Locks to follow its locks');
  });

  it('the settings turn each signal off: no status-bar item, no badge, no sound', async () => {
    const a = await api();
    await setNotify('statusBar', false);
    await setNotify('badge', false);
    await setNotify('sound', false);
    const sounds = a.waits.sounds;
    const q = await asking(a, 'SB2', 'Rename it?');
    await waitFor(() => a.waits.announced.includes(`escalation:${q.id}`), 'the wait to be noted');
    assert.equal(a.waits.visible, false, 'no status-bar item');
    assert.equal(a.views.ticketsView.badge, undefined, 'no badge');
    assert.equal(a.waits.sounds, sounds, 'no sound');
    // Turned back on: the item and the badge show the wait that is there (no sound for an old wait).
    await setNotify('statusBar', undefined);
    await setNotify('badge', undefined);
    await waitFor(() => a.waits.visible && (a.views.ticketsView.badge?.value ?? 0) >= 1, 'the item and the badge back');
    await setNotify('sound', undefined);
    assert.equal(a.waits.sounds, sounds);
    await vscode.commands.executeCommand('orchard.answerEscalation', q.id, { option: 'yes' });
    await waitFor(() => state(a).tickets.SB2?.status === 'done', 'SB2 merged', 90_000);
  });

  it('Filter Tickets: by status, label and text, shown above the tree; Clear Ticket Filter lists everything again', async () => {
    const a = await api();
    const all = Object.keys(state(a).tickets);
    await waitFor(() => listed(a).length === all.length, 'every ticket listed without a filter');
    await vscode.commands.executeCommand('orchard.filterTickets', { labels: ['sidebar'] });
    await waitFor(() => listed(a).length === 2 && listed(a).every((id) => /^SB[12]$/.test(id)), `only the labelled tickets (${listed(a).join(',')})`);
    assert.match(String(a.views.ticketsView.message), /^Filtered \(label: sidebar\): 2 of \d+ tickets$/);
    await vscode.commands.executeCommand('orchard.filterTickets', { statuses: ['backlog', 'ready'], text: 'noise' });
    await waitFor(
      () =>
        listed(a).join(',') === ['SBX0', 'SBX1', 'SBX2', 'SBX3', 'SBX4'].filter((id) => ['backlog', 'ready'].includes(state(a).tickets[id]!.status)).join(','),
      `the noise tickets (${listed(a).join(',')})`,
    );
    assert.match(String(a.views.ticketsView.message), /status: backlog, ready · “noise”/);
    await vscode.commands.executeCommand('orchard.filterTickets', { text: 'SBX3' });
    await waitFor(() => listed(a).join(',') === 'SBX3', 'one ticket by its id');
    const item = a.views.tickets.getTreeItem({ kind: 'ticket', id: 'SBX3' });
    assert.equal(label(item), 'SBX3  Noise 3');
    await vscode.commands.executeCommand('orchard.clearTicketFilter');
    await waitFor(
      () => listed(a).length === Object.keys(state(a).tickets).length && a.views.ticketsView.message === undefined,
      'every ticket back, no message',
    );
    for (let i = 0; i < 5; i++) await vscode.commands.executeCommand('orchard.cancelTicket', `SBX${i}`, { confirmed: true });
  });

  it('Open Conflicted Files opens a real conflict in the 3-way merge editor; saved there, Continue Merge merges it', async () => {
    const a = await api();
    await agentsIdle(a);
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'SBM',
      title: 'Conflicts with main',
      prompt: '@sleep 2500',
      files: ['sb/merge.txt'],
      agent: 'fake',
    });
    await vscode.commands.executeCommand('orchard.startTicket', 'SBM');
    fs.mkdirSync(path.join(root, 'sb'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sb', 'merge.txt'), 'main says hello\n');
    git(root, 'add', 'sb/merge.txt');
    git(root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'main writes the same file');
    const q = await waitFor(() => a.controller.openEscalations().find((e) => e.ticketId === 'SBM' && !e.askedBy), 'the conflict question', 90_000);
    await closeAllEditors();
    // The question's first way out is this command.
    assert.equal(await vscode.commands.executeCommand('orchard.answerEscalation', q.id, { option: 'Open the conflicted files' }), true);
    const mergeTab = await waitFor(
      () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .find((t) => {
            const i = t.input as { base?: vscode.Uri; input1?: vscode.Uri; input2?: vscode.Uri; result?: vscode.Uri } | undefined;
            return !!(i?.result && i.input1 && i.input2 && i.result.fsPath.endsWith(path.join('sb', 'merge.txt')));
          }),
      'a merge editor tab on sb/merge.txt',
    );
    const input = mergeTab.input as { base: vscode.Uri; input1: vscode.Uri; input2: vscode.Uri; result: vscode.Uri };
    assert.equal(input.input1.scheme, 'orchard-git');
    // The two sides are git's stages 2 (the target) and 3 (the ticket's branch).
    assert.equal((await vscode.workspace.openTextDocument(input.input1)).getText(), 'main says hello\n');
    assert.match((await vscode.workspace.openTextDocument(input.input2)).getText(), /- SBM: Conflicts with main/);
    // The merge editor takes the file over: with conflict markers in it, it resets the result
    // to the base plus the changes that do not conflict (the document turns dirty).
    const result = await vscode.workspace.openTextDocument(input.result);
    await waitFor(() => result.isDirty && !/^<<<<<<< /m.test(result.getText()), 'the merge editor to set up its result');
    // Resolved there, as a user would: accept both sides, then Complete Merge (saves and closes).
    await vscode.commands.executeCommand('mergeEditor.acceptAllCombination');
    await waitFor(
      () => /main says hello/.test(result.getText()) && /- SBM: Conflicts with main/.test(result.getText()),
      `both sides in the result (${JSON.stringify(result.getText())})`,
    );
    await vscode.commands.executeCommand('mergeEditor.acceptMerge');
    await waitFor(
      () => !result.isDirty && !vscode.window.tabGroups.all.flatMap((g) => g.tabs).includes(mergeTab),
      'Complete Merge to save and close the merge editor',
    );
    assert.doesNotMatch(fs.readFileSync(input.result.fsPath, 'utf8'), /^(<<<<<<<|=======|>>>>>>>)/m);
    assert.equal(await vscode.commands.executeCommand('orchard.continueMerge', 'SBM'), true);
    await waitFor(() => state(a).tickets.SBM?.status === 'done', 'SBM merged', 90_000);
    const merged = git(root, 'show', 'main:sb/merge.txt');
    assert.match(merged, /main says hello/);
    assert.match(merged, /- SBM: Conflicts with main/);
    await closeAllEditors();
  });
});
