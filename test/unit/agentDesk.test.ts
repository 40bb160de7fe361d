// The agent desk on fake ports (helpers/fakePorts.ts): what a running agent says through
// `orchard-agent` — questions and their answers, more files to lock, subtasks, progress — with
// no git and no process, in virtual time.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { advanceUntil, fakeWorld, runUntilIdle, spec } from '../helpers/fakePorts';

describe('agent desk on fake ports (no git, no processes)', () => {
  it("an agent's question escalates its ticket; the human's answer reaches the waiting agent and the run resumes", async () => {
    const w = fakeWorld();
    w.scripts.Q = [
      { ask: { question: 'Which database?', options: ['Postgres', 'SQLite'], trigger: 'architecture', context: 'two are in use' }, files: ['src/Q.txt'] },
    ];
    const o = await w.open();
    await o.addTickets([spec('Q')]);
    await o.start();
    await advanceUntil(w, () => o.ticket('Q').status === 'escalated', 'the question');
    const [e] = o.openEscalations();
    assert.equal(e!.id, 'Q-r1-q1');
    assert.equal(e!.trigger, 'architecture');
    assert.equal(e!.askedBy, 'Q-r1');
    assert.equal(o.ticket('Q').reason, 'asks: Which database?');
    assert.equal(w.told['Q#1'], undefined, 'the agent waits');
    await o.answer(e!.id, { option: 'Postgres', guidance: 'version 16', by: 'human' });
    assert.deepEqual(w.told['Q#1'], [{ question: 'q1', answer: { option: 'Postgres', guidance: 'version 16' } }]);
    assert.equal(o.ticket('Q').status, 'running');
    assert.match(o.ticket('Q').reason ?? '', /^resumed: Decision: Postgres/);
    assert.equal(o.openEscalations().length, 0);
    await runUntilIdle(w, o);
    assert.equal(o.ticket('Q').status, 'done');
  });

  it('a question with a trigger Orchard does not know is kept as input-needed', async () => {
    const w = fakeWorld();
    w.scripts.Q = [{ ask: { question: 'Go on?', options: ['yes', 'no'], trigger: 'made-up' } }];
    const o = await w.open();
    await o.addTickets([spec('Q')]);
    await o.start();
    await advanceUntil(w, () => o.openEscalations().length > 0, 'the question');
    assert.equal(o.openEscalations()[0]!.trigger, 'input-needed');
  });

  it('the answer to a question whose agent has ended is recorded, and nothing is handed to anyone', async () => {
    const w = fakeWorld();
    w.scripts.Q = [{ ask: { question: 'Which one?', options: ['a', 'b'], trigger: 'architecture' } }, { files: ['src/Q.txt'] }];
    const o = await w.open();
    await o.addTickets([spec('Q')]);
    await o.start();
    await advanceUntil(w, () => o.ticket('Q').status === 'escalated', 'the question');
    await o.cancel('Q');
    await runUntilIdle(w, o);
    const [e] = o.openEscalations();
    await o.answer(e!.id, { option: 'a', by: 'human' });
    assert.equal(o.snapshot.escalations[e!.id]!.answer?.option, 'a');
    assert.equal(w.told['Q#1'], undefined);
    assert.equal(o.ticket('Q').status, 'cancelled');
  });

  it('more files: granted when free (and locked for the run); refused naming the holder when another run has them', async () => {
    const w = fakeWorld();
    w.scripts.B = [{ files: ['src/shared.txt'], ms: 5000 }];
    w.scripts.A = [{ lock: ['src/shared.txt'], files: ['src/A.txt'] }];
    w.scripts.C = [{ lock: ['docs/C.md'], files: ['src/C.txt', 'docs/C.md'] }];
    const o = await w.open({ maxAgents: 3 });
    await o.addTickets([spec('B', { files: ['src/shared.txt'], priority: 'P0' }), spec('A'), spec('C')]);
    await o.start();
    await advanceUntil(w, () => !!w.told['A#1'] && !!w.told['C#1'], 'both answers');
    assert.deepEqual(w.told['A#1'], [{ lock: 'l1', answer: { granted: false, holder: { ticketId: 'B', pattern: 'src/shared.txt' } } }]);
    assert.deepEqual(w.told['C#1'], [{ lock: 'l1', answer: { granted: true } }]);
    assert.ok(o.snapshot.locks.some((l) => l.runId === 'C-r1' && l.pattern === 'docs/C.md'));
    await runUntilIdle(w, o);
    const ended = w.state.events.find((e) => e.type === 'run-ended' && e.runId === 'C-r1');
    assert.ok(ended?.type === 'run-ended' && ended.message === undefined, 'a granted file is not outside the ticket: no warning');
    assert.deepEqual(await o.requestLocks('C-r1', ['x']), { granted: false, error: 'run C-r1 is not running' });
  });

  it('a subtask: the parent waits (its slot lent, no timeout), the subtask is merged first, then the parent resumes with its commit', async () => {
    const w = fakeWorld();
    w.scripts.P = [{ subtask: { ticket: { title: 'Write the helper', prompt: 'write it', files: ['src/helper.txt'] } }, files: ['src/P.txt'] }];
    w.scripts['P.s1'] = [{ files: ['src/helper.txt'], ms: 3 * 60_000 }];
    const o = await w.open({ maxAgents: 1 });
    await o.addTickets([spec('P', { timeoutMinutes: 2 })]);
    await o.start();
    await advanceUntil(w, () => o.snapshot.tickets['P.s1'] !== undefined, 'the subtask');
    assert.deepEqual(o.ticket('P').dependsOn, ['P.s1']);
    assert.deepEqual(
      o.subtasksOf('P').map((t) => t.id),
      ['P.s1'],
    );
    await runUntilIdle(w, o);
    assert.deepEqual(w.started, ['P#1', 'P.s1#1'], 'the subtask ran on the slot its parent lent');
    assert.deepEqual(w.target, ['P.s1', 'P']);
    assert.deepEqual(w.told['P#1'], [{ request: 's1', answer: { ok: true, ticketId: 'P.s1', commit: 'c1-P.s1' } }]);
    assert.equal(o.snapshot.runs['P-r1']!.outcome, 'succeeded', 'no timeout while it waited three minutes');
  });

  it('a subtask that is not waited for is answered at once; one past the limits is refused with the reason', async () => {
    const w = fakeWorld();
    w.scripts.N = [{ subtask: { ticket: { title: 'Later', prompt: 'later' }, wait: false }, files: ['src/N.txt'] }];
    const o = await w.open();
    await o.addTickets([spec('N')]);
    await o.start();
    await advanceUntil(w, () => !!w.told['N#1'], 'the answer');
    assert.deepEqual(w.told['N#1'], [{ request: 's1', answer: { ok: true, ticketId: 'N.s1' } }]);
    assert.deepEqual(o.ticket('N').dependsOn, [], 'it does not wait for it');
    const w2 = fakeWorld();
    w2.scripts.R = [{ subtask: { ticket: { title: 'Too many', prompt: 'no' } }, files: ['src/R.txt'] }];
    const o2 = await w2.open({ subtasks: { maxPerTicket: 0 } });
    await o2.addTickets([spec('R')]);
    await o2.start();
    await advanceUntil(w2, () => !!w2.told['R#1'], 'the refusal');
    assert.equal(o2.snapshot.tickets['R.s1'], undefined);
    const refused = w2.told['R#1']![0]!;
    assert.ok('request' in refused && !refused.answer.ok && /already delegated 0 subtasks \(at most 0\)/.test(refused.answer.problems.join(' ')));
  });

  it("progress is kept on the run, and a reviewer's VERDICT as its verdict", async () => {
    const w = fakeWorld();
    w.scripts.V = [{ report: { progress: 40, message: 'looked at it\nVERDICT: APPROVE' }, files: ['src/V.txt'] }];
    const o = await w.open();
    await o.addTickets([spec('V')]);
    await o.start();
    await advanceUntil(w, () => o.snapshot.runs['V-r1']?.verdict !== undefined, 'the verdict');
    assert.equal(o.snapshot.runs['V-r1']!.verdict, 'approve');
    assert.equal(o.snapshot.runs['V-r1']!.progress, 40);
  });
});
