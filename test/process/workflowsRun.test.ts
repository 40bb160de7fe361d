// Every built-in template, expanded and run end to end with the fake agent: real git
// worktrees, the real runner, merges into main.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { BUILTIN_TEMPLATES } from '../../src/core/workflows/builtins';
import { expandTemplate } from '../../src/core/workflows/expand';
import { replay } from '../../src/core/reduce';
import { buildDist, cleanupRepos, makeRepo, within } from '../helpers/repo';
import { writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

describe('workflow templates run end to end with the fake agent', () => {
  it('all seven built-ins in one batch: every ticket merged, dependencies respected', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 6 }, '1');
    const o = w.s.orchestrator;
    const all = [];
    for (const t of BUILTIN_TEMPLATES) {
      const e = expandTemplate(t, {
        request: `${t.name} for the demo`,
        existingIds: [...Object.keys(o.snapshot.tickets), ...all.map((x) => x.id)],
        params: t.id === 'fanout' ? { parts: 'api,ui' } : {},
      });
      all.push(...e.tickets);
    }
    await o.addTickets(all);
    await o.start();
    await within(o.whenIdle(), 120_000, 'the workflows');
    const tickets = Object.values(o.snapshot.tickets);
    // The refine loop's first review approves, so the rest of its rounds are skipped (cancelled, never started).
    const skipped = tickets.filter((t) => t.status === 'cancelled');
    assert.deepEqual(skipped.map((t) => t.id).sort(), ['refine1.critique.r2', 'refine1.revise.r1', 'refine1.revise.r2']);
    for (const t of skipped) assert.match(t.reason ?? '', /^not needed: refine1\.critique\.r1 approved in round 1/);
    assert.deepEqual(o.snapshot.tickets['refine1.final']!.dependsOn, ['refine1.critique.r1']);
    const notDone = tickets.filter((t) => t.status !== 'done' && t.status !== 'cancelled').map((t) => `${t.id}: ${t.status} ${t.reason ?? ''}`);
    assert.deepEqual(notDone, []);
    assert.equal(tickets.length, all.length);
    // Dependencies merged before dependents started.
    const merged = new Map<string, number>();
    const started = new Map<string, number>();
    for (const e of w.events) {
      if (e.type === 'ticket-merged') merged.set(e.id, e.seq);
      if (e.type === 'run-started' && !started.has(e.run.ticketId)) started.set(e.run.ticketId, e.seq);
    }
    const ran = tickets.filter((t) => t.status === 'done');
    for (const t of ran) for (const d of t.dependsOn) assert.ok(merged.get(d)! < started.get(t.id)!, `${d} merged before ${t.id} started`);
    for (const t of skipped) assert.ok(!started.has(t.id), `${t.id} was skipped, not started`);
    // P0 hotfix tickets started before any P2 ticket that was ready at the same time.
    const hot = all.filter((t) => t.priority === 'P0')[0]!;
    assert.ok(started.get(hot.id)! <= Math.min(...all.filter((t) => t.dependsOn.length === 0 && t.priority === 'P2').map((t) => started.get(t.id)!)));
    const log = r.git('log', '--oneline', 'main');
    for (const t of ran) assert.ok(log.includes(`${t.id}:`), `${t.id} is on main`);
  });

  /** The refine template for `request` (its @review-* lines steer the fake reviewer), run to the end. */
  async function runRefine(request: string, rounds: number, workflowId: string) {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 2 }, '1');
    const refine = BUILTIN_TEMPLATES.find((t) => t.id === 'refine')!;
    await w.s.orchestrator.addTickets(expandTemplate(refine, { request, params: { rounds }, workflowId }).tickets);
    await w.s.orchestrator.start();
    await within(w.s.orchestrator.whenIdle(), 120_000, 'the refine workflow');
    return { r, w, s: w.s.orchestrator.snapshot };
  }

  it('refine stops at the first approving review: later rounds are skipped, the final check follows the approval', async () => {
    // Round 1's review rejects (the fake agent's @review-reject-once), round 2's approves: round 3 never runs.
    const { r, w, s } = await runRefine('Tighten the parser\n@review-reject-once the error messages are vague', 3, 'rf');
    const status = Object.fromEntries(Object.values(s.tickets).map((t) => [t.id, t.status]));
    assert.deepEqual(status, {
      'rf.draft': 'done',
      'rf.critique.r1': 'done',
      'rf.revise.r1': 'done',
      'rf.critique.r2': 'done',
      'rf.revise.r2': 'cancelled',
      'rf.critique.r3': 'cancelled',
      'rf.revise.r3': 'cancelled',
      'rf.final': 'done',
    });
    const verdictOf = (id: string) => Object.values(s.runs).find((x) => x.ticketId === id)?.verdict;
    assert.equal(verdictOf('rf.critique.r1'), 'reject');
    assert.equal(verdictOf('rf.critique.r2'), 'approve');
    for (const id of ['rf.revise.r2', 'rf.critique.r3', 'rf.revise.r3']) {
      assert.match(s.tickets[id]!.reason ?? '', /not needed: rf\.critique\.r2 approved in round 2/);
      assert.ok(!Object.values(s.runs).some((x) => x.ticketId === id), `${id} never ran`);
    }
    assert.deepEqual(s.tickets['rf.final']!.dependsOn, ['rf.critique.r2']);
    // The skip is in the history: a state rebuilt from the events agrees.
    assert.deepEqual(replay(w.events).tickets['rf.final']!.dependsOn, ['rf.critique.r2']);
    assert.match(r.git('log', '--format=%s', 'main'), /rf\.final: Final check/);
  });

  it('a review that approves without writing notes is not a failed run: nothing to merge, the loop stops', async () => {
    const { s } = await runRefine('Tighten the parser\n@verdict-only', 2, 'rv');
    const run = Object.values(s.runs).find((x) => x.ticketId === 'rv.critique.r1')!;
    assert.deepEqual([run.outcome, run.commits, run.verdict], ['succeeded', 0, 'approve']);
    assert.equal(Object.values(s.runs).filter((x) => x.ticketId === 'rv.critique.r1').length, 1, 'not retried');
    const status = Object.fromEntries(Object.values(s.tickets).map((t) => [t.id, t.status]));
    assert.deepEqual(status, {
      'rv.draft': 'done',
      'rv.critique.r1': 'done',
      'rv.revise.r1': 'cancelled',
      'rv.critique.r2': 'cancelled',
      'rv.revise.r2': 'cancelled',
      'rv.final': 'done',
    });
  });

  it('refine without approval runs every round (at most N) and the final check after the last', async () => {
    const { s } = await runRefine('Tighten the parser\n@review-reject still vague', 2, 'rn');
    const notDone = Object.values(s.tickets)
      .filter((t) => t.status !== 'done')
      .map((t) => t.id);
    assert.deepEqual(notDone, []);
    assert.deepEqual(s.tickets['rn.final']!.dependsOn, ['rn.revise.r2']);
  });
});
