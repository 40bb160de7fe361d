// The run desk and the retry desk on fake ports (helpers/fakePorts.ts): a run's life from start to
// end and what follows it — retries with backoff, restarts, timeouts, rate limits, cancel — with
// no git and no process, in virtual time.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { OrchardEvent } from '../../src/core/events';
import { advanceUntil, fakeWorld, runUntilIdle, spec } from '../helpers/fakePorts';

const moves = (events: readonly OrchardEvent[], id: string) => events.flatMap((e) => (e.type === 'ticket-status' && e.id === id ? [e] : []));

describe('run desk on fake ports (no git, no processes)', () => {
  it('a failing run is retried after its backoff up to maxRetries, then fails and blocks its dependents', async () => {
    const w = fakeWorld();
    w.scripts.F = [{ exit: { exitCode: 1 } }];
    const o = await w.open({ maxRetries: 1 });
    await o.addTickets([spec('F'), spec('G', { dependsOn: ['F'] })]);
    await o.start();
    await runUntilIdle(w, o);
    assert.deepEqual(w.started, ['F#1', 'F#2']);
    const retry = moves(w.state.events, 'F').find((e) => e.to === 'ready' && /^retry/.test(e.reason ?? ''));
    assert.match(retry?.reason ?? '', /^retry 1\/1: the agent exited with code 1/);
    const [r1, r2] = [o.snapshot.runs['F-r1']!, o.snapshot.runs['F-r2']!];
    assert.ok(r2.startedAt - r1.endedAt! >= 60_000, 'the first retry waits its minute of backoff');
    assert.equal(o.ticket('F').status, 'failed');
    assert.match(o.ticket('F').reason ?? '', /gave up after 2 attempts/);
    assert.equal(o.ticket('G').status, 'blocked');
    assert.equal(o.snapshot.locks.length, 0, 'a failed run holds no locks');
  });

  it('an attempt stopped by Stop All starts again from where it began (its work on a WIP ref), not as a retry', async () => {
    const w = fakeWorld();
    w.scripts.A = [{ hang: true }, { files: ['src/A.txt'] }];
    const o = await w.open({ maxRetries: 0 });
    await o.addTickets([spec('A')]);
    await o.start();
    await w.clock.advance(500);
    await o.stopAll();
    assert.equal(o.ticket('A').status, 'ready');
    assert.match(
      o.ticket('A').reason ?? '',
      /^interrupted: stopped by Orchard \(stopped by the user\); starts again on the next run \(its work is kept on refs\/orchard\/wip\/A\/1\)/,
    );
    assert.equal(o.snapshot.runs['A-r1']!.outcome, 'crashed');
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('A').status, 'done', 'an interruption does not use up a retry (maxRetries 0)');
    assert.deepEqual(w.started, ['A#1', 'A#2']);
    assert.equal(w.restarted['A#1'], o.snapshot.runs['A-r1']!.startHead, 'put back where attempt 1 began');
    assert.ok(w.state.events.some((e) => e.type === 'run-progress' && e.runId === 'A-r2' && /starts again from where attempt 1 began/.test(e.message ?? '')));
  });

  it('afterInterruption "continue" builds on the interrupted attempt instead', async () => {
    const w = fakeWorld();
    w.scripts.A = [{ hang: true }, { files: ['src/A.txt'] }];
    const o = await w.open({ afterInterruption: 'continue' });
    await o.addTickets([spec('A')]);
    await o.start();
    await w.clock.advance(500);
    await o.stopAll();
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('A').status, 'done');
    assert.deepEqual(w.restarted, {});
  });

  it('a hung agent is stopped at its timeout; its partial work is kept on a WIP ref named in the retry', async () => {
    const w = fakeWorld();
    w.scripts.H = [{ hang: true }, { files: ['src/H.txt'] }];
    const o = await w.open({ runTimeoutMinutes: 5 });
    await o.addTickets([spec('H', { timeoutMinutes: 2 })]);
    await o.start();
    await advanceUntil(w, () => o.snapshot.runs['H-r1']?.endedAt !== undefined, 'the timeout');
    const r1 = o.snapshot.runs['H-r1']!;
    assert.equal(r1.outcome, 'timeout');
    assert.equal(r1.endedAt! - r1.startedAt, 2 * 60_000, "the ticket's own timeout wins over the setting");
    assert.match(o.ticket('H').reason ?? '', /^retry 1\/2: timed out after 2 min; partial work on refs\/orchard\/wip\/H\/1/);
    assert.ok('refs/orchard/wip/H/1' in w.refs);
    await runUntilIdle(w, o);
    assert.equal(o.ticket('H').status, 'done');
  });

  it('a rate-limited run does not use up a retry: the ticket waits for the pause of its profile', async () => {
    const w = fakeWorld();
    w.scripts.L = [{ exit: { exitCode: 1, rateLimited: true } }, { files: ['src/L.txt'] }];
    const o = await w.open({ maxRetries: 0 });
    await o.addTickets([spec('L')]);
    await o.start();
    await advanceUntil(w, () => o.snapshot.runs['L-r1']?.endedAt !== undefined, 'the rate limit');
    const r1 = o.snapshot.runs['L-r1']!;
    assert.equal(r1.outcome, 'crashed');
    assert.match(r1.message ?? '', /^rate limited: the agent exited with code 1/);
    assert.equal(o.ticket('L').status, 'ready');
    assert.match(o.ticket('L').reason ?? '', /^fake is rate limited; paused until/);
    assert.ok((o.ticket('L').notBefore ?? 0) > r1.endedAt!, 'not before the pause is over');
    await runUntilIdle(w, o);
    assert.equal(o.ticket('L').status, 'done');
    assert.ok(o.snapshot.runs['L-r2']!.startedAt >= o.snapshot.runs['L-r1']!.endedAt! + 60_000);
  });

  it('an agent that cannot start is recorded as crashed and retried', async () => {
    const w = fakeWorld();
    const start = w.ports.agents.start.bind(w.ports.agents);
    let calls = 0;
    w.ports.agents.start = (t, r) => (calls++ === 0 ? Promise.reject(new Error('claude: command not found')) : start(t, r));
    const o = await w.open();
    await o.addTickets([spec('S')]);
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.snapshot.runs['S-r1']!.outcome, 'crashed');
    assert.equal(o.snapshot.runs['S-r1']!.message, 'could not start: claude: command not found');
    assert.deepEqual(w.started, ['S#2']);
    assert.equal(o.ticket('S').status, 'done');
  });

  it('cancelling a running ticket stops its agent: the run is cancelled, its locks released, nothing retried', async () => {
    const w = fakeWorld();
    w.scripts.C = [{ hang: true }];
    const o = await w.open();
    await o.addTickets([spec('C')]);
    await o.start();
    await w.clock.advance(500);
    assert.ok(o.snapshot.locks.some((l) => l.ticketId === 'C'));
    await o.cancel('C');
    await runUntilIdle(w, o);
    assert.equal(o.ticket('C').status, 'cancelled');
    assert.equal(o.snapshot.runs['C-r1']!.outcome, 'cancelled');
    assert.equal(o.snapshot.locks.length, 0);
    assert.deepEqual(w.started, ['C#1']);
  });

  it('an agent caught working outside its worktree fails at once: no retry, the human decides', async () => {
    const w = fakeWorld();
    w.scripts.O = [{ exit: { exitCode: null, problem: 'outside-worktree', outsideAt: '/home/me/repo/src/x.ts' } }];
    const o = await w.open({ maxRetries: 3 });
    await o.addTickets([spec('O')]);
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('O').status, 'failed');
    assert.match(o.ticket('O').reason ?? '', /worked in your checkout \(\/home\/me\/repo\/src\/x\.ts\), outside its worktree/);
    assert.deepEqual(w.started, ['O#1']);
  });

  it('files changed outside the ticket and its locks are merged with a warning on the run', async () => {
    const w = fakeWorld();
    w.scripts.W = [{ files: ['src/W.txt', 'README.md'] }];
    const o = await w.open();
    await o.addTickets([spec('W')]);
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('W').status, 'done');
    assert.match(o.snapshot.runs['W-r1']!.message ?? '', /^warning: changed files outside its ticket's files \(src\/W\.txt\): README\.md$/);
  });

  it('a restart ends a run whose agent died with Orchard (its work on a WIP ref) and runs the ticket again', async () => {
    const w = fakeWorld();
    w.scripts.A = [{ hang: true }, { files: ['src/A.txt'] }];
    const first = await w.open();
    await first.addTickets([spec('A')]);
    await first.start();
    await w.clock.advance(500);
    first.dispose();
    const o = await w.open();
    assert.equal(o.snapshot.runs['A-r1']!.message, 'interrupted: Orchard stopped while the agent was running; work kept on refs/orchard/wip/A/1');
    assert.equal(o.ticket('A').status, 'ready');
    assert.equal(o.snapshot.locks.length, 0, 'the dead run holds no locks');
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('A').status, 'done');
    assert.deepEqual(w.started, ['A#1', 'A#2']);
  });
});
