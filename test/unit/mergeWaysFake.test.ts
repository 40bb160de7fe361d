// The merge and conflict desks on the fake workspace (helpers/fakePorts.ts), through every part
// of the WorkspacePort: a batch that bisects to its culprit, a conflict opened for the human and
// continued, a discard that keeps the branch on a ref, a failure after merge sent back rebased.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { advanceUntil, fakeWorld, runUntilIdle, spec } from '../helpers/fakePorts';

/** A world where the ticket's merge conflicts: it waits, escalated, with the conflict question. */
async function conflicted(id: string) {
  const w = fakeWorld();
  w.merges[id] = ['conflict'];
  const o = await w.open();
  await o.addTickets([spec(id)]);
  await o.start();
  await runUntilIdle(w, o);
  assert.equal(o.ticket(id).status, 'escalated');
  return { w, o };
}

describe('merge ways out on the fake workspace (no git, no processes)', () => {
  it('batch merge: a batch whose tests fail is bisected; the others merge together, the culprit goes back and merges later', async () => {
    const w = fakeWorld();
    w.merges.B = ['test-failed'];
    const o = await w.open({ maxAgents: 3, batchMerge: true });
    await o.addTickets([spec('A'), spec('B'), spec('C')]);
    await o.start();
    await runUntilIdle(w, o);
    assert.deepEqual(
      Object.values(o.snapshot.tickets).map((t) => `${t.id}:${t.status}`),
      ['A:done', 'B:done', 'C:done'],
    );
    assert.deepEqual(
      w.started.filter((s) => s.startsWith('B#')),
      ['B#1', 'B#2'],
      'the culprit ran again with the failure',
    );
    assert.match(w.handedOver['B#2'] ?? '', /tests failed with B/);
    assert.equal(w.target.indexOf('B'), 2, 'the culprit merged last');
    assert.ok(!w.started.some((s) => s === 'A#2' || s === 'C#2'), 'the innocent were not run again');
  });

  it('a conflict opened for the human and continued after they resolve it: merged, no rerun', async () => {
    const { w, o } = await conflicted('X');
    const opened = await o.openConflict('X');
    assert.deepEqual(opened, { dir: '/integration', files: ['/integration/src/X.txt'] });
    assert.equal(w.openConflict.ticketId, 'X');
    const r = await o.continueMerge('X');
    assert.equal(r.kind, 'merged');
    await runUntilIdle(w, o);
    assert.equal(o.ticket('X').status, 'done');
    assert.deepEqual(w.started, ['X#1']);
    assert.equal(w.openConflict.ticketId, undefined);
    assert.equal(o.openEscalations().length, 0);
  });

  it('discarding a conflicted ticket keeps its branch under refs/orchard/discarded/ and drops its open conflict', async () => {
    const { w, o } = await conflicted('X');
    await o.openConflict('X');
    const { ref } = await o.discard('X', true);
    assert.match(ref ?? '', /^refs\/orchard\/discarded\/X\//);
    assert.deepEqual(w.refs[ref!], ['src/X.txt']);
    assert.equal(w.openConflict.ticketId, undefined);
    assert.equal(o.ticket('X').status, 'cancelled');
    assert.deepEqual(w.target, []);
  });

  it('tests failing after merge: the target does not move; the ticket goes back rebased onto the new target, with the output', async () => {
    const w = fakeWorld();
    w.merges.T = ['test-failed'];
    w.scripts.T = [{ files: ['src/T.txt'], ms: 2000 }];
    const o = await w.open({ maxAgents: 2 });
    await o.addTickets([spec('A'), spec('T')]);
    await o.start();
    await advanceUntil(w, () => w.started.includes('T#2'), 'the second attempt');
    assert.deepEqual(w.target, ['A']);
    assert.match(w.handedOver['T#2'] ?? '', /tests failed with T[\s\S]*Your branch was rebased onto the latest main/);
    await runUntilIdle(w, o);
    assert.deepEqual(w.target, ['A', 'T']);
  });
});
