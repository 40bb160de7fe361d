// The review desk in the real extension host, with `orchard.review: human`: finished tickets
// wait in the Review Queue view; Open Review shows the change in the multi-file diff editor;
// a line comment drafted through the comment controller goes back, with Request Changes, into
// the next attempt's context as "file:line: body"; drafts survive a window reload (a second
// ReviewComments over the same repository, as the reloaded window builds it, shows them again)
// and a decision discards them; Approve merges two tickets at once; Discard keeps the branch
// under a backup ref.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchardApi } from '../../src/extension';
import { REVIEW_DRAFTS_FILE } from '../../src/infra/reviewDrafts';
import { ReviewComments, reviewDraftStore } from '../../src/vscode/reviewComments';
import { allTabs, closeAllEditors, git, orchardApi as api, orchardState as state, waitFor, workspaceRoot } from './helpers';

const IDS = ['RV1', 'RV2', 'RV3'];

function policy(a: OrchardApi): unknown {
  const s = a.controller.current;
  return s?.role === 'writer' ? s.orchestrator.settings.review : undefined;
}

async function setReview(a: OrchardApi, value: 'human' | 'auto'): Promise<void> {
  // User settings: a .vscode/settings.json would make the user's checkout dirty (merges wait for a clean one).
  await vscode.workspace.getConfiguration('orchard').update('review', value, vscode.ConfigurationTarget.Global);
  await waitFor(() => policy(a) === value, `review: ${value} to reach the orchestrator`);
}

/** The drafts on disk, by ticket (what the next window reads). */
function storedDrafts(a: OrchardApi): Record<string, { runId: string; threads: { file: string; line: number; bodies: string[] }[] }> {
  const file = path.join(a.controller.current!.paths.stateDir, REVIEW_DRAFTS_FILE);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).tickets : {};
}

/** A second ReviewComments over the same repository, as the window after a reload builds it. */
function reloadedComments(a: OrchardApi): ReviewComments {
  const c = new ReviewComments(() => a.controller.state(), reviewDraftStore(a.controller));
  c.sync();
  return c;
}

const waitingIds = (a: OrchardApi) => a.review.queue.provider.getChildren().map((n) => n.id);

describe('review desk in the extension host', function () {
  this.timeout(400_000);

  before(async () => {
    await setReview(await api(), 'human');
  });

  after(async () => {
    const a = await api();
    await setReview(a, 'auto');
    await vscode.workspace.getConfiguration('orchard').update('review', undefined, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
  });

  it('finished tickets wait in the Review Queue view, oldest first, with summary, gates and files', async () => {
    const a = await api();
    const files: Record<string, string[]> = { RV1: ['review/one.txt', 'review/extra.md'], RV2: ['review/two.txt'], RV3: ['review/three.txt'] };
    for (const id of IDS) {
      await vscode.commands.executeCommand('orchard.addTicket', {
        id,
        title: `Review me ${id}`,
        prompt: `Write ${id}.\n@sleep 200`,
        files: files[id],
        agent: 'fake',
        estimate: 5,
      });
    }
    const started = await vscode.commands.executeCommand<string[]>('orchard.startTicket', 'RV1', IDS, { overlap: 'continue' });
    // A batch already under way may start some of them itself (its pump runs on every add): those
    // are not started twice. Every one of them runs either way.
    assert.ok(
      started.every((id) => IDS.includes(id)),
      `started ${started.join(', ')}`,
    );
    await waitFor(
      () => IDS.every((id) => !['backlog', 'ready'].includes(state(a).tickets[id]?.status ?? 'backlog')),
      `RV1..RV3 started (the command started ${started.join(', ') || 'none'})`,
    );
    await waitFor(() => IDS.every((id) => state(a).tickets[id]?.status === 'in-review'), 'RV1..RV3 to wait for review', 120_000);
    await waitFor(() => IDS.every((id) => waitingIds(a).includes(id)), 'the Review Queue view to list them');
    const queue = a.review.queue.provider.getChildren();
    const since = queue.map((n) => state(a).tickets[n.id]!.reviewSince ?? 0);
    assert.deepEqual(
      since,
      [...since].sort((x, y) => x - y),
      'oldest first',
    );
    const row = a.review.queue.provider.getTreeItem(queue.find((n) => n.id === 'RV1')!);
    assert.equal(row.label, 'RV1  Review me RV1');
    assert.match(String(row.description), /^waiting .* · 2 files · (no gates|\d+ gates? passed)/);
    assert.match(String(row.contextValue), /^review-item has-diff/);
    const tooltip = (row.tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' ');
    assert.match(tooltip, /Waiting for review since [^\n]*: every ticket is reviewed/);
    assert.match(tooltip, /Agent:\*\* changed review\/one\.txt/);
    const children = a.review.queue.provider.getChildren(queue.find((n) => n.id === 'RV1'));
    assert.deepEqual(children.map((c) => (c.kind === 'review-file' ? c.file : '')).sort(), ['review/extra.md', 'review/one.txt']);
    // The Tickets tree shows them under "Waiting for review", where its context menu offers the same decisions.
    const group = a.views.tickets.getChildren().find((n) => n.kind === 'group' && n.status === 'in-review');
    assert.ok(group, 'a "Waiting for review" group in the Tickets tree');
    assert.match(String(a.views.tickets.getTreeItem({ kind: 'ticket', id: 'RV1' }).contextValue), /^ticket-in-review/);
    await vscode.commands.executeCommand('orchard.reviewQueue.focus');
  });

  it('Open Review opens the multi-file diff editor: base version against the worktree file, every changed file', async () => {
    const a = await api();
    await closeAllEditors();
    const run = state(a).runs['RV1-r1']!;
    const opened = await vscode.commands.executeCommand<number>('orchard.openReview', { kind: 'review', id: 'RV1' });
    assert.equal(opened, 2);
    const MultiDiff = (vscode as unknown as { TabInputTextMultiDiff?: new (...x: unknown[]) => { textDiffs: vscode.TabInputTextDiff[] } })
      .TabInputTextMultiDiff;
    assert.ok(MultiDiff, 'this VS Code has the multi-diff tab input');
    const tab = await waitFor(() => allTabs().find((t) => t.input instanceof MultiDiff), 'a multi-diff editor tab');
    assert.match(tab.label, /Review RV1: Review me RV1/);
    const diffs = (tab.input as InstanceType<typeof MultiDiff>).textDiffs;
    assert.deepEqual(diffs.map((d) => d.modified.fsPath).sort(), [path.join(run.worktree, 'review/extra.md'), path.join(run.worktree, 'review/one.txt')]);
    for (const d of diffs) assert.equal(d.original.scheme, 'orchard-git', 'the base side is read-only content at the base commit');
    await closeAllEditors();
  });

  it('a line comment + Request Changes sends the ticket back; its next attempt gets "file:line: body"', async () => {
    const a = await api();
    const run = state(a).runs['RV1-r1']!;
    const file = vscode.Uri.file(path.join(run.worktree, 'review/one.txt'));
    const doc = await vscode.workspace.openTextDocument(file);
    assert.equal(a.review.comments.commentingRanges(doc).length, 1, 'the worktree file of a ticket in review can be commented');
    const outside = { uri: vscode.Uri.file(path.join(workspaceRoot(), 'review/one.txt')), lineCount: 1 };
    assert.deepEqual(a.review.comments.commentingRanges(outside), [], 'the same file in the checkout cannot');
    // The reviewer's comment, as the reply box's "Add Comment" adds it to a new thread.
    const thread = a.review.comments.addDraft(file, 0, 'Use a constant here');
    assert.equal(thread.comments.length, 1);
    assert.deepEqual(a.review.comments.drafts('RV1'), [{ file: 'review/one.txt', line: 1, body: 'Use a constant here' }]);
    const sent = await vscode.commands.executeCommand<boolean>('orchard.requestChanges', { kind: 'review', id: 'RV1' }, { summary: 'Tidy it up' });
    assert.equal(sent, true);
    assert.equal(a.review.comments.threadCount('RV1'), 0, 'the threads are closed once sent');
    const r2 = await waitFor(() => state(a).runs['RV1-r2'], 'the next attempt of RV1', 90_000);
    assert.match(r2.context ?? '', /review\/one\.txt:1: Use a constant here/);
    assert.match(r2.context ?? '', /Tidy it up/);
    await waitFor(
      () => state(a).tickets.RV1?.status === 'in-review' && state(a).tickets.RV1?.humanReviewRounds === 1,
      'RV1 back in review after its second attempt',
      120_000,
    );
  });

  it('draft line comments survive a window reload: kept on disk for the ticket and run, shown again on the same review', async () => {
    const a = await api();
    const run = state(a).runs['RV1-r2']!;
    assert.equal(state(a).tickets.RV1?.status, 'in-review');
    const file = vscode.Uri.file(path.join(run.worktree, 'review/one.txt'));
    a.review.comments.addDraft(file, 0, 'Still a magic number');
    await waitFor(() => storedDrafts(a).RV1?.threads.length === 1, 'the draft on disk');
    assert.deepEqual(storedDrafts(a).RV1, { runId: 'RV1-r2', threads: [{ file: 'review/one.txt', line: 0, bodies: ['Still a magic number'] }] });
    const reloaded = reloadedComments(a);
    try {
      assert.equal(reloaded.threadCount('RV1'), 1, 'the draft thread is back after the reload');
      assert.deepEqual(reloaded.drafts('RV1'), [{ file: 'review/one.txt', line: 1, body: 'Still a magic number' }], 'and Request Changes would send it');
    } finally {
      reloaded.dispose();
    }
    assert.equal(storedDrafts(a).RV1?.threads.length, 1, 'closing a window keeps the drafts');
  });

  it('Approve of two selected tickets at once merges both', async () => {
    const a = await api();
    const root = workspaceRoot();
    const approved = await vscode.commands.executeCommand<string[]>('orchard.approve', { kind: 'review', id: 'RV2' }, [
      { kind: 'review', id: 'RV2' },
      { kind: 'review', id: 'RV3' },
    ]);
    assert.deepEqual(approved, ['RV2', 'RV3']);
    await waitFor(() => ['RV2', 'RV3'].every((id) => state(a).tickets[id]?.status === 'done'), 'RV2 and RV3 merged', 120_000);
    assert.match(git(root, 'show', 'main:review/two.txt'), /RV2/);
    assert.match(git(root, 'show', 'main:review/three.txt'), /RV3/);
    await waitFor(() => !waitingIds(a).includes('RV2') && !waitingIds(a).includes('RV3'), 'the Review Queue view to drop them');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('orchard.approve', 'RV2')), /waiting for review; RV2 is done/);
  });

  it('Discard from the review queue goes through the Discard flow: the branch is kept under a backup ref', async () => {
    const a = await api();
    const root = workspaceRoot();
    const done = await vscode.commands.executeCommand<boolean>('orchard.discardFromReview', { kind: 'review', id: 'RV1' }, { confirmed: true });
    assert.equal(done, true);
    await waitFor(() => state(a).tickets.RV1?.status !== 'in-review', 'RV1 to leave review');
    assert.match(git(root, 'for-each-ref', '--format=%(refname)', 'refs/orchard/discarded/'), /RV1/);
    assert.throws(() => git(root, 'show', 'main:review/one.txt'), 'nothing of RV1 merged');
    // The decision discards its drafts: on disk, and for the next window.
    await waitFor(() => !storedDrafts(a).RV1, "RV1's drafts gone from disk");
    const reloaded = reloadedComments(a);
    assert.equal(reloaded.threadCount('RV1'), 0);
    reloaded.dispose();
  });
});
