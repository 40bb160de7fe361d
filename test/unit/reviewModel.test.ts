// The review desk's pure parts of the VS Code layer and the dashboard: which ticket a file
// belongs to, draft threads → line comments, the queue row's text, the dashboard's review
// queue (model, patch, snapshot) and the webview's review requests.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { buildDashboardView } from '../../src/core/dashboardModel';
import { emptyState, type GateResult, type OrchardState, type Run, type Ticket } from '../../src/core/model';
import type { ReviewItem } from '../../src/core/review';
import { applyPatch, diffViews } from '../../src/shared/dashboardView';
import { parseWebviewMessage, REQUEST_COMMANDS } from '../../src/shared/protocol';
import { reviewGatesText } from '../../src/shared/render';
import { dashboardSnapshotHtml } from '../../src/shared/snapshot';
import { commentsFromDrafts, reviewFileOf, reviewQueueOf, reviewRowDescription } from '../../src/vscode/reviewModel';

const MIN = 60_000;
const wt = (id: string) => path.join('/repo.orchard/worktrees', id);

function gate(name: string, passed: boolean): GateResult {
  return { name, kind: 'command', passed, status: passed ? 'passed' : 'failed', startedAt: 0 } as GateResult;
}

function item(id: string, over: Partial<ReviewItem> = {}): ReviewItem {
  return {
    ticketId: id,
    title: `ticket ${id}`,
    runId: `${id}-r1`,
    since: 0,
    why: 'every ticket is reviewed',
    gates: [],
    files: ['src/a.ts'],
    branch: `orchard/${id}`,
    base: 'abc',
    worktree: wt(id),
    rounds: 0,
    ...over,
  };
}

function inReview(): OrchardState {
  const s = emptyState();
  const t = (id: string, since: number): Ticket => ({
    id,
    title: `ticket ${id}`,
    prompt: id,
    priority: 'P2',
    dependsOn: [],
    files: [],
    labels: [],
    status: 'in-review',
    createdAt: 0,
    attempts: 1,
    reviewSince: since,
    reason: 'waiting for review: every ticket is reviewed (review: human)',
  });
  const r = (id: string, files: string[]): Run => ({
    id: `${id}-r1`,
    ticketId: id,
    slot: 1,
    attempt: 1,
    branch: `orchard/${id}`,
    worktree: wt(id),
    base: 'abc',
    startedAt: 0,
    endedAt: MIN,
    outcome: 'succeeded',
    filesChanged: files,
    message: `did ${id}`,
    gates: [gate('tests', true)],
  });
  s.tickets.B = t('B', 5 * MIN);
  s.tickets.A = t('A', 2 * MIN);
  s.runs['A-r1'] = r('A', ['src/a.ts', 'src/b.ts']);
  s.runs['B-r1'] = r('B', ['docs/x.md']);
  s.tickets.C = { ...t('C', 0), status: 'running' };
  s.batch = { startedAt: 0 };
  return s;
}

describe('review desk model (VS Code layer)', () => {
  it('a file belongs to the ticket whose worktree holds it, relative and "/"-separated; other files to none', () => {
    const items = [item('A'), item('B')];
    assert.deepEqual(reviewFileOf(path.join(wt('B'), 'src', 'x.ts'), items)?.file, 'src/x.ts');
    assert.equal(reviewFileOf(path.join(wt('B'), 'src', 'x.ts'), items)?.item.ticketId, 'B');
    assert.equal(reviewFileOf('/repo/src/x.ts', items), undefined, "the user's checkout");
    assert.equal(reviewFileOf(wt('A'), items), undefined, 'the worktree folder itself');
    assert.equal(reviewFileOf(`${wt('A')}-other/x.ts`, items), undefined, 'a sibling folder with the same prefix');
  });

  it("draft threads become the ticket's line comments: 1-based lines, sorted, empty texts and other tickets left out", () => {
    const items = [item('A'), item('B')];
    const drafts = [
      { fsPath: path.join(wt('A'), 'src/z.ts'), line: 9, bodies: ['rename this'] },
      { fsPath: path.join(wt('A'), 'src/a.ts'), line: 0, bodies: [' handle the empty list ', '  ', 'and null'] },
      { fsPath: path.join(wt('B'), 'src/a.ts'), line: 3, bodies: ["not A's"] },
      { fsPath: '/elsewhere/a.ts', line: 1, bodies: ['nowhere'] },
    ];
    assert.deepEqual(commentsFromDrafts('A', items, drafts), [
      { file: 'src/a.ts', line: 1, body: 'handle the empty list' },
      { file: 'src/a.ts', line: 1, body: 'and null' },
      { file: 'src/z.ts', line: 10, body: 'rename this' },
    ]);
    assert.deepEqual(commentsFromDrafts('C', items, drafts), []);
  });

  it('a row reads "waiting … · N files · gates · review N"', () => {
    assert.match(
      reviewRowDescription(item('A', { since: 0, files: ['a', 'b', 'c'], gates: [gate('tests', true), gate('lint', true)] }), 4 * MIN),
      /^waiting 4m 00s · 3 files · 2 gates passed$/,
    );
    assert.match(
      reviewRowDescription(item('A', { files: ['a'], gates: [gate('tests', true), gate('lint', false)], rounds: 1 }), 0),
      /· 1 file · lint failed · review 2$/,
    );
    assert.equal(reviewGatesText([]), 'no gates');
  });

  it('the queue is computed once per state version, oldest first', () => {
    const s = inReview();
    const q = reviewQueueOf(s);
    assert.deepEqual(
      q.map((i) => i.ticketId),
      ['A', 'B'],
    );
    assert.equal(reviewQueueOf(s), q, 'same state version: the same list');
    s.tickets.A!.status = 'queued-for-merge';
    s.seq++;
    assert.deepEqual(
      reviewQueueOf(s).map((i) => i.ticketId),
      ['B'],
    );
  });
});

describe('dashboard review queue', () => {
  it('lists tickets waiting for review, oldest first, with files, gates, summary; the header counts them', () => {
    const v = buildDashboardView({ state: inReview(), now: 10 * MIN, agents: 2 });
    assert.equal(v.header.review, 2);
    assert.deepEqual(
      v.reviewQueue?.map((r) => [r.ticketId, r.since, r.files, r.fileList, r.gates, r.summary]),
      [
        ['A', 2 * MIN, 2, ['src/a.ts', 'src/b.ts'], [{ name: 'tests', passed: true }], 'did A'],
        ['B', 5 * MIN, 1, ['docs/x.md'], [{ name: 'tests', passed: true }], 'did B'],
      ],
    );
    const html = dashboardSnapshotHtml(v);
    assert.match(html, /waiting for review/);
    assert.match(html, /<h2>Review queue<\/h2><table>.*A.*ticket A.*2 files.*1 gate passed/s);
  });

  it('a decision is a patch of the review queue and the header; old views without it still apply', () => {
    const s = inReview();
    const before = buildDashboardView({ state: s, now: 10 * MIN, agents: 2 });
    s.tickets.A!.status = 'queued-for-merge';
    s.seq++;
    const after = buildDashboardView({ state: s, now: 10 * MIN, agents: 2 });
    const p = diffViews(before, after, 7)!;
    assert.deepEqual(
      p.reviewQueue?.map((r) => r.ticketId),
      ['B'],
    );
    assert.equal(p.header?.review, 1);
    assert.deepEqual(applyPatch(before, p).reviewQueue, after.reviewQueue);
    const { reviewQueue: _, ...old } = before;
    assert.deepEqual(applyPatch(old, { from: 1, to: 2, now: 0 }).reviewQueue, [], 'a view from before the review queue');
  });

  it('the webview may ask to approve, open a review or request changes (checked), each through its command', () => {
    for (const kind of ['approve', 'openReview', 'requestChanges'] as const) {
      assert.deepEqual(parseWebviewMessage({ type: 'request', id: 1, request: { kind, ticketId: 'A' } }), {
        type: 'request',
        id: 1,
        request: { kind, ticketId: 'A' },
      });
      assert.equal(parseWebviewMessage({ type: 'request', id: 1, request: { kind, ticketId: '' } }), undefined);
    }
    assert.equal(REQUEST_COMMANDS.approve, 'orchard.approve');
    assert.equal(REQUEST_COMMANDS.openReview, 'orchard.openReview');
    assert.equal(REQUEST_COMMANDS.requestChanges, 'orchard.requestChanges');
  });
});
