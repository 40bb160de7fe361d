// Role → profile with fallbacks, end to end: a rate-limited or failing profile hands the
// ticket to the next profile of its role.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, DIST, makeRepo, within } from '../helpers/repo';
import { type OpenedWriter, spec, writerPerTest } from '../helpers/session';

before(() => buildDist());
const openTracked = writerPerTest();
after(() => cleanupRepos());

async function writer(repo: string): Promise<OpenedWriter> {
  const flaky = { ...loadSrc().fakeProfile(DIST), name: 'flaky', description: 'a second fake profile' };
  const w = await openTracked(repo, { maxAgents: 2, roles: { developer: { profile: 'flaky', model: 'big', fallbacks: [{ profile: 'fake' }] } } }, '2', {
    flaky,
  });
  return w;
}

describe('roles: fallbacks end to end (fake agent)', () => {
  it('a rate-limited profile is paused and the ticket goes at once to the next profile of its role', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    const o = w.s.orchestrator;
    await o.addTickets([spec('A', { role: 'developer', prompt: 'do A\n@rate-limit-once' })]);
    await o.start();
    await within(o.whenIdle(), 40_000, 'the fallback');
    const runs = Object.values(o.snapshot.runs).sort((a, b) => a.attempt - b.attempt);
    assert.deepEqual(
      runs.map((x) => [x.profile, x.model]),
      [
        ['flaky', 'big'],
        ['fake', undefined],
      ],
    );
    assert.equal(o.snapshot.tickets.A!.status, 'done');
    const back = w.events.find((e) => e.type === 'ticket-status' && e.id === 'A' && e.to === 'ready' && /rate limited/.test(e.reason ?? ''));
    assert.ok(back && back.type === 'ticket-status');
    assert.match(back.reason!, /flaky is rate limited.*trying fake/);
    assert.equal(back.notBefore, undefined, 'no waiting for the breaker: a fallback is free');
  });
  it('a ticket that failed with a profile retries with the next one', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    const o = w.s.orchestrator;
    await o.addTickets([spec('B', { role: 'developer', prompt: 'do B\n@fail-once' }), spec('C', { role: 'tester' })]);
    await o.start();
    await within(o.whenIdle(), 40_000, 'the retry');
    const runs = Object.values(o.snapshot.runs)
      .filter((x) => x.ticketId === 'B')
      .sort((a, b) => a.attempt - b.attempt);
    assert.deepEqual(
      runs.map((x) => [x.profile, x.outcome]),
      [
        ['flaky', 'failed'],
        ['fake', 'succeeded'],
      ],
    );
    // A role without a mapping runs on the default agent.
    assert.equal(Object.values(o.snapshot.runs).find((x) => x.ticketId === 'C')!.profile, 'fake');
  });
  it("the role's model reaches the agent CLI as its --model argument, and nothing when the role has none", async () => {
    const r = makeRepo();
    const fake = loadSrc().fakeProfile(DIST);
    // A profile that takes a model the way the built-ins do: "--model", "{model}".
    const modelled = { ...fake, name: 'modelled', argv: [...fake.argv, '--model', '{model}'] };
    const w = await openTracked(
      r.repo,
      { maxAgents: 2, roles: { developer: { profile: 'modelled', model: 'big-model-1' }, tester: { profile: 'modelled' } } },
      '2',
      { modelled },
    );
    const o = w.s.orchestrator;
    await o.addTickets([spec('D', { role: 'developer' }), spec('E', { role: 'tester' })]);
    await o.start();
    await within(o.whenIdle(), 40_000, 'the two runs');
    const specOf = (runId: string) =>
      JSON.parse(fs.readFileSync(path.join(w.s.paths.stateDir, 'runs', runId, 'spec.json'), 'utf8')) as { argv: string[]; env: Record<string, string> };
    const d = specOf('D-r1');
    assert.deepEqual(d.argv, [...fake.argv, '--model', 'big-model-1']);
    assert.equal(d.env.ORCHARD_MODEL, 'big-model-1');
    const e = specOf('E-r1');
    assert.deepEqual(e.argv, fake.argv, 'no model: the flag is left out with its placeholder');
    assert.equal(e.env.ORCHARD_MODEL, undefined);
    assert.deepEqual([o.snapshot.tickets.D!.status, o.snapshot.tickets.E!.status], ['done', 'done']);
  });
});
