// What waits for the human: open questions become waits with a stable key; the tracker
// announces each wait once, never again while it waits, and a new source plugs in as one more
// entry.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Escalation } from '../../src/core/escalations';
import { emptyState, type OrchardState, type Ticket } from '../../src/core/model';
import { WaitTracker, escalationWaits, reviewWaits, waitingText, waitsOf, type WaitSource } from '../../src/vscode/waits';

const ticket = (id: string, over: Partial<Ticket> = {}): Ticket => ({
  id,
  title: id,
  prompt: id,
  priority: 'P2',
  dependsOn: [],
  files: [],
  labels: [],
  status: 'escalated',
  createdAt: 0,
  attempts: 1,
  ...over,
});
const question = (id: string, ticketId: string, createdAt: number, over: Partial<Escalation> = {}): Escalation => ({
  id,
  ticketId,
  askedBy: `${ticketId}-r1`,
  trigger: 'input-needed',
  question: `Question ${id}?`,
  context: '',
  options: ['yes', 'no'],
  createdAt,
  ...over,
});

function board(escalations: Escalation[]): OrchardState {
  const s = emptyState();
  for (const e of escalations) s.tickets[e.ticketId] ??= ticket(e.ticketId);
  for (const e of escalations) s.escalations[e.id] = e;
  return s;
}

describe('waits', () => {
  test('an open question is a wait keyed by its id, opened by answering it; answered ones are not', () => {
    const s = board([question('E1', 'T1', 1000), question('E2', 'T2', 2000, { answer: { option: 'yes', by: 'human' }, answeredAt: 3000 })]);
    const w = escalationWaits(s, 5000);
    assert.deepEqual(
      w.map((x) => x.key),
      ['escalation:E1'],
    );
    assert.deepEqual(w[0]!.open, { command: 'orchard.answerEscalation', arguments: ['E1'] });
    assert.equal(w[0]!.label, 'T1 asks: Question E1?');
    assert.equal(w[0]!.ticketId, 'T1');
  });

  test('the tracker announces each wait once; the first look only takes note', () => {
    const tr = new WaitTracker();
    const e1 = question('E1', 'T1', 1000);
    const e2 = question('E2', 'T2', 2000);
    assert.deepEqual(tr.update(waitsOf(board([e1]), 3000)), [], 'waits already there when the window opened');
    assert.deepEqual(tr.update(waitsOf(board([e1]), 4000)), [], 'the same wait is not announced again');
    assert.deepEqual(
      tr.update(waitsOf(board([e1, e2]), 5000)).map((w) => w.key),
      ['escalation:E2'],
    );
    for (let i = 0; i < 5; i++) assert.deepEqual(tr.update(waitsOf(board([e1, e2]), 6000 + i)), [], 'no stream while it waits');
    assert.deepEqual(tr.update(waitsOf(board([e2]), 7000)), [], 'an answer is not an arrival');
    const e3 = question('E3', 'T1', 8000);
    assert.deepEqual(
      tr.update(waitsOf(board([e2, e3]), 9000)).map((w) => w.key),
      ['escalation:E3'],
      'a new question on the same ticket is a new wait',
    );
  });

  test('no state, no waits; another kind of wait is one more source', () => {
    assert.deepEqual(waitsOf(undefined, 0), []);
    const reviews: WaitSource = (s) =>
      Object.values(s.tickets)
        .filter((t) => t.status === 'queued-for-merge')
        .map((t) => ({
          key: `review:${t.id}`,
          ticketId: t.id,
          label: `${t.id} waits for review`,
          since: 0,
          open: { command: 'orchard.review', arguments: [t.id] },
        }));
    const s = board([question('E1', 'T1', 1000)]);
    s.tickets.T9 = ticket('T9', { status: 'queued-for-merge' });
    assert.deepEqual(
      waitsOf(s, 2000, [escalationWaits, reviews]).map((w) => w.key),
      ['escalation:E1', 'review:T9'],
    );
    assert.equal(waitingText(2), 'Orchard: 2 waiting for you');
  });

  test('a ticket waiting for review is a wait, opened by Open Review; each round of review is a new wait', () => {
    const s = board([question('E1', 'T1', 1000)]);
    s.tickets.R1 = ticket('R1', { status: 'in-review', reviewSince: 1500, title: 'Rate-limit the API' });
    s.runs['R1-r1'] = { id: 'R1-r1', ticketId: 'R1', slot: 0, attempt: 1, branch: 'orchard/R1', worktree: '/wt/R1', startedAt: 1000, endedAt: 1400 };
    const all = waitsOf(s, 2000);
    assert.deepEqual(
      all.map((w) => w.key),
      ['escalation:E1', 'review:R1:1500'],
    );
    assert.deepEqual(all[1]!.open, { command: 'orchard.openReview', arguments: ['R1'] });
    assert.equal(all[1]!.label, 'R1 waits for your review: Rate-limit the API');
    const tr = new WaitTracker();
    tr.update(waitsOf(s, 2000));
    s.tickets.R1.reviewSince = 9000; // sent back, then back for review (events advance seq)
    s.seq += 5;
    assert.deepEqual(
      tr.update(reviewWaits(s, 9500)).map((w) => w.key),
      ['review:R1:9000'],
    );
  });
});
