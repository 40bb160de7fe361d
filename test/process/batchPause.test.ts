// A batch the user paused or stopped stays paused across a restart (a VS Code window reload
// resumes only a batch that was running): the pause is an event in the log, not only memory.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { replay } from '../../src/core/reduce';
import { buildDist, cleanupRepos, makeRepo } from '../helpers/repo';
import { readEvents } from '../reliability/helpers';
import { openWriter, spec } from '../helpers/session';

before(() => buildDist());
after(() => cleanupRepos());

describe('batch pause across a restart', () => {
  it('pause and stop are in the log; a restart sees the batch paused; start and the batch end clear it', { timeout: 240_000 }, async () => {
    const r = makeRepo('orchard-pause-');
    const w = await openWriter(r.repo);
    const o = w.s.orchestrator;
    await o.addTickets([spec('A', { prompt: 'a\n@sleep 50' })]);
    await o.start();
    const startedAt = o.snapshot.batch?.startedAt;
    assert.equal(o.snapshot.batch?.pausedAt, undefined);
    await o.pause();
    assert.ok(o.snapshot.batch?.pausedAt, 'pause is in the state');
    assert.equal(w.events.filter((e) => e.type === 'batch-paused').length, 1);
    await o.pause(); // twice: one event
    assert.equal(w.events.filter((e) => e.type === 'batch-paused').length, 1);
    await w.close();

    // Reopened (a reload): paused, not ended — the VS Code layer leaves it alone.
    const w2 = await openWriter(r.repo);
    const o2 = w2.s.orchestrator;
    assert.ok(o2.snapshot.batch?.pausedAt, 'still paused after the restart');
    assert.equal(o2.snapshot.batch?.endedAt, undefined);
    await o2.start();
    assert.equal(o2.snapshot.batch?.pausedAt, undefined, 'a new start clears the pause');
    // The same batch goes on: its budget and wall time are not reset by a restart or a resume.
    assert.equal(o2.snapshot.batch?.startedAt, startedAt);
    await o2.whenIdle();
    assert.ok(o2.snapshot.batch?.endedAt, 'the batch ended');
    assert.equal(o2.snapshot.tickets.A?.status, 'done');
    // Stopping after the end records nothing more.
    await o2.stopAll();
    assert.equal(w2.events.filter((e) => e.type === 'batch-paused').length, 0);
    await w2.close();

    // stopAll of a running batch is a pause too.
    const w3 = await openWriter(r.repo);
    await w3.s.orchestrator.addTickets([spec('B', { prompt: 'b\n@sleep 3000' })]);
    await w3.s.orchestrator.start();
    assert.notEqual(w3.s.orchestrator.snapshot.batch?.startedAt, startedAt, 'after the end, a start is a new batch');
    await w3.s.orchestrator.stopAll();
    assert.ok(w3.s.orchestrator.snapshot.batch?.pausedAt, 'stopAll pauses the batch');
    const snap = w3.s.orchestrator.snapshot;
    await w3.close();
    // The fold of the log gives the same batch.
    assert.deepEqual(replay(readEvents(r.repo)).batch, snap.batch);
  });
});
