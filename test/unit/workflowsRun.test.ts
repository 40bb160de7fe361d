// Every built-in template, expanded and run end to end with the fake agent: real git
// worktrees, the real runner, merges into main.
import { strict as assert } from 'node:assert';
import { after, afterEach, before, describe, it } from 'node:test';
import { BUILTIN_TEMPLATES } from '../../src/core/workflows/builtins';
import { expandTemplate } from '../../src/core/workflows/expand';
import { buildDist, cleanupRepos, makeRepo, within } from './helpers/repo';
import { openWriter, type OpenedWriter } from './helpers/session';

before(() => buildDist());
const open: OpenedWriter[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});
after(() => cleanupRepos());

describe('workflow templates run end to end with the fake agent', () => {
  it('all seven built-ins in one batch: every ticket merged, dependencies respected', async () => {
    const r = makeRepo();
    const w = await openWriter(r.repo, { maxAgents: 6 }, '1');
    open.push(w);
    const o = w.s.orchestrator;
    const all = [];
    for (const t of BUILTIN_TEMPLATES) {
      const e = expandTemplate(t, { request: `${t.name} for the demo`, existingIds: [...Object.keys(o.snapshot.tickets), ...all.map((x) => x.id)], params: t.id === 'fanout' ? { parts: 'api,ui' } : {} });
      all.push(...e.tickets);
    }
    await o.addTickets(all);
    await o.start();
    await within(o.whenIdle(), 120_000, 'the workflows');
    const tickets = Object.values(o.snapshot.tickets);
    const notDone = tickets.filter((t) => t.status !== 'done').map((t) => `${t.id}: ${t.status} ${t.reason ?? ''}`);
    assert.deepEqual(notDone, []);
    assert.equal(tickets.length, all.length);
    // Dependencies merged before dependents started.
    const merged = new Map<string, number>();
    const started = new Map<string, number>();
    for (const e of w.events) {
      if (e.type === 'ticket-merged') merged.set(e.id, e.seq);
      if (e.type === 'run-started' && !started.has(e.run.ticketId)) started.set(e.run.ticketId, e.seq);
    }
    for (const t of all) for (const d of t.dependsOn) assert.ok(merged.get(d)! < started.get(t.id)!, `${d} merged before ${t.id} started`);
    // P0 hotfix tickets started before any P2 ticket that was ready at the same time.
    const hot = all.filter((t) => t.priority === 'P0')[0]!;
    assert.ok(started.get(hot.id)! <= Math.min(...all.filter((t) => t.dependsOn.length === 0 && t.priority === 'P2').map((t) => started.get(t.id)!)));
    const log = r.git('log', '--oneline', 'main');
    for (const t of all) assert.ok(log.includes(`${t.id}:`), `${t.id} is on main`);
  });
});
