// How far the prediction is off on the demo's ticket graph, run for real with the fake
// agent (3 agents): the batch end predicted at the start and after each merge, against
// the real end.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { TicketSpec } from '../../src/core/model';
import { predict } from '../../src/core/predict';
import { buildDist, cleanupRepos, makeRepo, within } from '../helpers/repo';
import { writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

// The demo's graph (src/cli/demo.ts) without its @ask (a human answer would be part of the time).
const t = (id: string, priority: TicketSpec['priority'], estimate: number, dependsOn: string[], file: string): TicketSpec => ({
  id,
  title: id,
  prompt: `work on ${id}`,
  priority,
  dependsOn,
  files: [file],
  labels: [],
  estimate,
});
const DEMO = [
  t('API-1', 'P1', 40, [], 'src/api/products.js'),
  t('API-2', 'P1', 50, ['API-1'], 'src/api/orders.js'),
  t('UI-1', 'P2', 30, [], 'src/ui/products.js'),
  t('UI-2', 'P2', 40, ['UI-1'], 'src/ui/checkout.js'),
  t('DOC-1', 'P3', 20, [], 'docs/api.md'),
  t('INT-1', 'P1', 30, ['API-2', 'UI-2'], 'src/ui/wiring.js'),
  t('REL-1', 'P2', 10, ['INT-1', 'DOC-1'], 'docs/CHANGES.md'),
];

describe('prediction on the demo, for real', () => {
  it('records the predicted end at the start and after each merge, and how far off it was', async () => {
    const r = makeRepo();
    const msPerMinute = 40;
    const w = await writer(r.repo, { maxAgents: 3 }, String(msPerMinute));
    const o = w.s.orchestrator;
    await o.addTickets(DEMO);
    const samples: Array<{ at: number; end: number; done: number; why: string }> = [];
    // The prior: what the agents are told (ms per estimated minute); nothing else is known at the start.
    const sample = () => {
      const now = Date.now();
      const p = predict(o.snapshot, now, { agents: 3, mode: 'locking', priorMsPerMinute: msPerMinute });
      if (p.batchEnd !== undefined)
        samples.push({
          at: now,
          end: p.batchEnd,
          done: Object.values(o.snapshot.tickets).filter((x) => x.status === 'done').length,
          why: `${Math.round(p.msPerMinute)} ms/min + ${Math.round(p.overheadMs)} ms, merge ${Math.round(p.mergeLagMs)} ms`,
        });
    };
    sample();
    o.onDidChange(({ events }) => {
      if (events.some((e) => e.type === 'ticket-merged')) sample();
    });
    const t0 = Date.now();
    await o.start();
    await within(o.whenIdle(), 90_000, 'the demo batch');
    const end = Math.max(...w.events.filter((e) => e.type === 'ticket-merged').map((e) => e.at));
    assert.equal(Object.values(o.snapshot.tickets).filter((x) => x.status === 'done').length, 7);
    const rows = samples.map((s) => {
      const err = (s.end - end) / Math.max(1, end - s.at);
      return { done: s.done, at: s.at - t0, predictedRemaining: s.end - s.at, actualRemaining: end - s.at, err, why: s.why };
    });
    console.log(
      `demo prediction (wall ${end - t0} ms):\n` +
        rows
          .map(
            (x) =>
              `  ${x.done}/7 done at ${String(x.at).padStart(6)} ms: predicted ${String(Math.round(x.predictedRemaining)).padStart(6)} ms left, actual ${String(x.actualRemaining).padStart(6)} ms → ${x.err >= 0 ? '+' : ''}${(x.err * 100).toFixed(0)} %  (${x.why})`,
          )
          .join('\n'),
    );
    assert.ok(rows.length >= 4);
  });
});
