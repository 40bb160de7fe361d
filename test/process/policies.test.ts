// Orchestrator policies with real processes: agent questions (escalations) answered and
// resumed, repeated questions flag the ticket for a human, rate limits pause a profile
// without using up the ticket's retries, and leases of live work are renewed.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { buildDist, cleanupRepos, makeRepo, waitFor, within } from '../helpers/repo';
import { spec, writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

describe('escalations', () => {
  it('an agent question escalates the ticket; the answer reaches the agent, which resumes and finishes', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    const o = w.s.orchestrator;
    await o.addTickets([spec('ASK', { prompt: 'build it\n@ask Use tabs or spaces?', files: ['src/ask.txt'] })]);
    await o.start();
    await waitFor(() => o.snapshot.tickets.ASK!.status === 'escalated', 15_000, 'the question');
    const [e] = o.openEscalations();
    assert.ok(e, 'one open escalation');
    assert.equal(e.question, 'Use tabs or spaces?');
    assert.deepEqual(e.options, ['yes', 'no']);
    assert.equal(e.askedBy, e.runId, 'asked by the run itself');
    await assert.rejects(o.answer(e.id, { option: 'yes', by: e.runId! }), /own|asked|answer/i, 'a run cannot answer its own question');
    await o.answer(e.id, { option: 'no', guidance: 'spaces, two of them', by: 'human' });
    await within(o.whenIdle(), 20_000, 'the batch');
    assert.equal(o.snapshot.tickets.ASK!.status, 'done');
    // The fake agent writes the answer it got into its file: the answer really reached it.
    assert.match(r.git('show', 'main:src/ask.txt'), /answer: no/);
    assert.equal(o.openEscalations().length, 0);
  });

  it('a third question on one ticket raises a human-only "repeated-escalation"', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    const o = w.s.orchestrator;
    await o.addTickets([spec('Q', { prompt: 'q\n@ask One?\n@ask Two?\n@ask Three?', files: ['src/q.txt'] })]);
    await o.start();
    for (const q of ['One?', 'Two?', 'Three?']) {
      await waitFor(() => o.openEscalations().some((x) => x.question === q), 15_000, `question ${q}`);
      if (q !== 'Three?') await o.answer(o.openEscalations().find((x) => x.question === q)!.id, { option: 'yes', by: 'human' });
    }
    await waitFor(() => o.openEscalations().some((x) => x.trigger === 'repeated-escalation'), 5000, 'the repeated-escalation flag');
    const flag = o.openEscalations().find((x) => x.trigger === 'repeated-escalation')!;
    assert.equal(flag.requiresHuman, true);
    assert.equal(flag.ticketId, 'Q');
    await assert.rejects(o.answer(flag.id, { option: 'x', by: 'some-run' }), /human/i, 'only a human may answer it');
    await o.answer(o.openEscalations().find((x) => x.question === 'Three?')!.id, { option: 'no', by: 'human' });
    await within(o.whenIdle(), 20_000, 'the batch');
    assert.equal(o.snapshot.tickets.Q!.status, 'done');
    assert.match(r.git('show', 'main:src/q.txt'), /answer: yes, yes, no/);
  });
});

describe('rate limits', () => {
  it('a rate-limited run pauses its profile, does not use up a retry, and the ticket finishes afterwards', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxRetries: 0 });
    const o = w.s.orchestrator;
    await o.addTickets([spec('RL', { prompt: 'x\n@rate-limit-once', files: ['src/rl.txt'] })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const t = o.snapshot.tickets.RL!;
    assert.equal(t.status, 'done', `with maxRetries 0 a counted failure would have failed it: ${t.reason}`);
    const reasons = w.events.filter((e) => e.type === 'ticket-status' && e.id === 'RL').map((e) => (e as { reason?: string }).reason ?? '');
    assert.ok(
      reasons.some((x) => /rate limited/.test(x)),
      `a status says the profile is rate limited: ${reasons.join(' | ')}`,
    );
  });
});

describe('lock leases', () => {
  it('locks of a live run are renewed before they expire, and released after the merge', async () => {
    const r = makeRepo();
    // A 0.01-minute (600 ms) lease renewed every 200 ms while the agent works for ~1.5 s.
    const w = await writer(r.repo, { lockLeaseMinutes: 0.01 });
    const o = w.s.orchestrator;
    await o.addTickets([spec('L', { prompt: 'slow\n@sleep 1500', files: ['src/l.txt'] })]);
    await o.start();
    await within(o.whenIdle(), 20_000, 'the batch');
    const renewals = w.events.filter((e) => e.type === 'lock-renewed');
    assert.ok(renewals.length >= 2, `renewed ${renewals.length} times`);
    assert.equal(o.snapshot.tickets.L!.status, 'done', o.snapshot.tickets.L!.reason);
    assert.deepEqual(o.snapshot.locks, []);
  });
});
