// Cost per run from `orchard-agent usage`, and the batch budget pausing new starts.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { costSummary } from '../../src/core/budget';
import { markdownReport } from '../../src/core/report';
import { buildDist, cleanupRepos, makeRepo, within } from '../helpers/repo';
import { spec, writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

describe('budget end to end (fake agent reporting cost)', () => {
  it('pauses new starts once the batch has spent its budget, says so, and goes on when raised', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 1, budgetUsd: 0.5 }, '2');
    const o = w.s.orchestrator;
    await o.addTickets([
      spec('A', { role: 'developer', prompt: 'do A\n@cost 0.3', priority: 'P0' }),
      spec('B', { role: 'reviewer', prompt: 'do B\n@cost 0.3', priority: 'P1' }),
      spec('C', { prompt: 'do C\n@cost 0.3' }),
    ]);
    await o.start();
    await within(o.whenIdle(), 40_000, 'the budgeted batch');
    const s = o.snapshot;
    assert.deepEqual([s.tickets.A!.status, s.tickets.B!.status, s.tickets.C!.status], ['done', 'done', 'ready']);
    assert.match(o.startsPausedReason ?? '', /budget reached: this batch has cost \$0\.600 of its \$0\.500 budget/);
    assert.ok(w.events.some((e) => e.type === 'starts-paused' && e.reason));
    const c = costSummary(s);
    assert.equal(c.byRole.developer!.usd, 0.3);
    assert.equal(c.byRole.reviewer!.usd, 0.3);
    assert.equal(c.byTicket.A!.inputTokens, 1000);
    assert.match(markdownReport(s, Date.now()), /Cost: \$0\.600, .*by role: developer \$0\.300/);
    // Raising the budget lets the batch go on.
    o.settings.budgetUsd = 5;
    await o.start();
    await within(o.whenIdle(), 40_000, 'the rest');
    assert.equal(o.snapshot.tickets.C!.status, 'done');
    assert.equal(o.startsPausedReason, undefined);
  });
});
