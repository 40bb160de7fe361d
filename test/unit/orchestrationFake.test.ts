// The orchestrator on fake ports (helpers/fakePorts.ts): a virtual clock, in-memory state, a
// scripted workspace and agents. Whole batches run in milliseconds with no git and no process;
// these pin the orchestration rules themselves (order, retries, ways out, restarts, timeouts).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fakeWorld, runUntilIdle, spec } from '../helpers/fakePorts';

describe('orchestration on fake ports (no git, no processes)', () => {
  it('a dependency graph runs in order and every ticket is merged once, after its dependencies', async () => {
    const w = fakeWorld();
    const o = await w.open({ maxAgents: 2 });
    await o.addTickets([spec('A'), spec('B', { dependsOn: ['A'] }), spec('C', { dependsOn: ['A'] }), spec('D', { dependsOn: ['B', 'C'], priority: 'P0' })]);
    await o.start();
    await runUntilIdle(w, o);
    assert.deepEqual(
      Object.values(o.snapshot.tickets).map((t) => `${t.id}:${t.status}`),
      ['A:done', 'B:done', 'C:done', 'D:done'],
    );
    assert.equal(w.target.length, 4);
    assert.equal(w.target[0], 'A');
    assert.equal(w.target[3], 'D');
    assert.equal(w.state.events.filter((e) => e.type === 'ticket-merged').length, 4, 'each merged once');
  });

  it('a crashing agent is retried with its failure as context; one that keeps failing fails and blocks its dependents', async () => {
    const w = fakeWorld();
    w.scripts.R = [{ exit: { exitCode: 1 } }, { files: ['src/R.txt'] }];
    w.scripts.F = [{ exit: { exitCode: 1 } }];
    const o = await w.open({ maxRetries: 2 });
    await o.addTickets([spec('R'), spec('F'), spec('G', { dependsOn: ['F'] })]);
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('R').status, 'done');
    assert.deepEqual(
      w.started.filter((s) => s.startsWith('R#')),
      ['R#1', 'R#2'],
    );
    assert.equal(o.ticket('F').status, 'failed');
    assert.match(o.ticket('F').reason ?? '', /gave up after 3 attempts/);
    assert.equal(o.ticket('G').status, 'blocked');
    assert.ok(!w.started.some((s) => s.startsWith('G#')), 'a blocked ticket never starts');
  });

  it('a merge conflict is one question with typed ways out; "Send back to the agent" reruns it and it merges', async () => {
    const w = fakeWorld();
    w.merges.X = ['conflict'];
    const o = await w.open();
    await o.addTickets([spec('X')]);
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('X').status, 'escalated');
    const [q] = o.openEscalations();
    assert.deepEqual(q!.ways, ['open-conflicts', 'send-back', 'keep-for-later', 'discard']);
    await o.answer(q!.id, { option: 'Send back to the agent', by: 'human' });
    await runUntilIdle(w, o);
    assert.equal(o.ticket('X').status, 'done');
    assert.deepEqual(w.started, ['X#1', 'X#2']);
    assert.equal(o.openEscalations().length, 0);
  });

  it("an agent's question waits for the human (no timeout meanwhile); the answer resumes it", async () => {
    const w = fakeWorld();
    w.scripts.Q = [{ ask: { question: 'Which database?', options: ['Postgres', 'SQLite'], trigger: 'architecture' }, files: ['src/Q.txt'] }];
    const o = await w.open({ runTimeoutMinutes: 1 });
    await o.addTickets([spec('Q')]);
    await o.start();
    await w.clock.advance(10 * 60_000); // ten virtual minutes: far past the run timeout
    assert.equal(o.ticket('Q').status, 'escalated');
    const [q] = o.openEscalations();
    assert.equal(q!.question, 'Which database?');
    assert.equal(q!.ways, undefined, "an agent's question has no ways out of Orchard's");
    await o.answer(q!.id, { option: 'Postgres', by: 'human' });
    await runUntilIdle(w, o);
    assert.equal(o.ticket('Q').status, 'done');
  });

  it('a hung agent is stopped at the run timeout and retried', async () => {
    const w = fakeWorld();
    w.scripts.H = [{ hang: true }, { files: ['src/H.txt'] }];
    const o = await w.open({ runTimeoutMinutes: 5 });
    await o.addTickets([spec('H')]);
    await o.start();
    await runUntilIdle(w, o);
    assert.equal(o.ticket('H').status, 'done');
    assert.equal(o.snapshot.runs[Object.keys(o.snapshot.runs)[0]!]!.outcome, 'timeout');
    assert.deepEqual(w.started, ['H#1', 'H#2']);
  });

  it('a restart mid-batch (the process gone, its state kept): runs cut short start again, nothing is merged twice', async () => {
    const w = fakeWorld();
    const first = await w.open({ maxAgents: 2 });
    await first.addTickets([spec('A'), spec('B'), spec('C', { dependsOn: ['A'] })]);
    await first.start();
    await w.clock.advance(500); // A and B are working
    assert.equal(first.ticket('A').status, 'running');
    first.dispose(); // the process dies: nothing more is recorded by it
    const o = await w.open({ maxAgents: 2 });
    assert.equal(o.ticket('A').status, 'ready', 'interrupted: back to ready');
    await o.start();
    await runUntilIdle(w, o);
    assert.deepEqual(
      Object.values(o.snapshot.tickets).map((t) => t.status),
      ['done', 'done', 'done'],
    );
    assert.equal(w.state.events.filter((e) => e.type === 'ticket-merged').length, 3);
    assert.ok(Object.values(o.snapshot.runs).some((r) => r.outcome === 'crashed' && /interrupted/.test(r.message ?? '')));
  });

  it('a restart adopts a run whose agent finished while Orchard was down: gated and merged once, never run again', async () => {
    const w = fakeWorld();
    // Three tickets whose agents died with Orchard come first: recovering them takes a few
    // awaits, during which the adopted run's end is being recorded.
    for (const id of ['P', 'Q', 'R']) w.scripts[id] = [{ hang: true }, { files: [`src/${id}.txt`] }];
    w.scripts.A = [{ hang: true }];
    const first = await w.open({ maxAgents: 4 });
    await first.addTickets([spec('P'), spec('Q'), spec('R'), spec('A'), spec('B', { dependsOn: ['A'] })]);
    await first.start();
    await w.clock.advance(500);
    assert.equal(first.ticket('A').status, 'running');
    first.dispose(); // Orchard dies; A's agent goes on and finishes
    w.finishedWhileDown['A-r1'] = ['src/A.txt'];
    w.state.slowAppends = true;
    const errors: string[] = [];
    const o = await w.open({ maxAgents: 4 });
    await o.start();
    await runUntilIdle(w, o);
    errors.push(...w.log.filter((l) => l.startsWith('error:')));
    assert.deepEqual(errors, []);
    assert.deepEqual([...w.target].sort(), ['A', 'B', 'P', 'Q', 'R']);
    assert.equal(w.state.events.filter((e) => e.type === 'ticket-status' && e.id === 'A' && e.to === 'gating').length, 1, 'gated once');
    assert.equal(w.started.filter((x) => x.startsWith('A#')).length, 1, 'not run again');
  });
});
