// `orchard-agent subtask`: a running agent delegates work as a new ticket its own ticket
// depends on, waits until it is merged, continues on top of it; bounded in depth and count.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { emptyState, type OrchardState, type Ticket } from '../../src/core/model';
import { planSubtask, subtaskDepth } from '../../src/core/workflows/agentTickets';
import { buildDist, cleanupRepos, makeRepo, waitFor, within } from '../helpers/repo';
import { openWriter, spec, writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

function st(...ts: Array<Partial<Ticket> & { id: string }>): OrchardState {
  const s = emptyState();
  for (const t of ts)
    s.tickets[t.id] = { title: t.id, prompt: t.id, priority: 'P1', dependsOn: [], files: [], labels: [], status: 'running', createdAt: 0, attempts: 1, ...t };
  return s;
}

describe('subtask limits (core)', () => {
  it('makes <parent>.s<n> with the parent priority, labelled with its parent', () => {
    const p = planSubtask(st({ id: 'T1' }), {}, 'T1', { title: 'Write the helper', files: ['src/h.ts'] });
    assert.ok(p.ok);
    assert.equal(p.ticket.id, 'T1.s1');
    assert.equal(p.ticket.priority, 'P1');
    assert.deepEqual(p.ticket.labels, ['subtask-of:T1']);
  });
  it('refuses past the depth limit', () => {
    const s = st({ id: 'T1' }, { id: 'T1.s1', labels: ['subtask-of:T1'] }, { id: 'T1.s1.s1', labels: ['subtask-of:T1.s1'] });
    assert.equal(subtaskDepth(s, 'T1.s1.s1'), 2);
    assert.ok(planSubtask(s, {}, 'T1.s1', { title: 'x' }).ok);
    const deep = planSubtask(s, {}, 'T1.s1.s1', { title: 'x' });
    assert.ok(!deep.ok && /nest 2 deep/.test(deep.problems[0]!));
  });
  it('refuses past the count per ticket and in total', () => {
    const s = st({ id: 'T1' }, { id: 'T1.s1', labels: ['subtask-of:T1'] });
    const r = planSubtask(s, { subtasks: { maxPerTicket: 1 } }, 'T1', { title: 'x' });
    assert.ok(!r.ok && /already delegated 1/.test(r.problems[0]!));
    const t = planSubtask(s, { subtasks: { maxTotal: 1 } }, 'T1.s1', { title: 'x' });
    assert.ok(!t.ok && /at most 1/.test(t.problems[0]!));
  });
  it('validates the subtask like an import', () => {
    const r = planSubtask(st({ id: 'T1' }), {}, 'T1', { title: 'x', role: 'Big Boss', estimate: 0 });
    assert.ok(!r.ok && r.problems.length === 2, JSON.stringify(r));
  });
});

describe('subtask delegation end to end (fake agent)', () => {
  it('the parent waits (slot lent), the subtask merges, the parent continues on top of it and merges', async () => {
    const r = makeRepo();
    // One agent: the waiting parent must lend its slot, or this would deadlock.
    const w = await writer(r.repo, { maxAgents: 1 }, '2');
    const o = w.s.orchestrator;
    await o.addTickets([spec('P', { prompt: 'do P\n@subtask Write the helper', files: ['src/P.txt'] })]);
    await o.start();
    await within(o.whenIdle(), 60_000, 'parent and subtask');
    const t = o.snapshot.tickets;
    if (Object.keys(t).length !== 2)
      console.log(
        w.events
          .filter((e) => e.type === 'ticket-status' || e.type === 'run-ended')
          .map((e) => JSON.stringify(e))
          .join('\n'),
      );
    assert.equal(t['P.s1']?.status, 'done', JSON.stringify(t['P.s1']));
    assert.equal(t.P!.status, 'done', t.P!.reason);
    assert.deepEqual(t.P!.dependsOn, ['P.s1']);
    const seq = (pred: (e: (typeof w.events)[number]) => boolean) => w.events.find(pred)!.seq;
    assert.ok(seq((e) => e.type === 'ticket-merged' && e.id === 'P.s1') < seq((e) => e.type === 'ticket-merged' && e.id === 'P'));
    // Only one run of P: it waited instead of failing and retrying.
    assert.equal(Object.values(o.snapshot.runs).filter((x) => x.ticketId === 'P').length, 1);
    // P's branch contains the subtask's merge (it continued on top of it).
    const onP = r.git('log', '--format=%s', 'main');
    assert.match(onP, /P\.s1: Write the helper/);
    assert.ok(w.events.some((e) => e.type === 'run-progress' && /waits for subtask P\.s1/.test(e.message ?? '')));
  });
  it('a run waiting on its subtask keeps waiting across an Orchard restart (adopted, slot lent, no second subtask)', async () => {
    const r = makeRepo();
    const w1 = await openWriter(r.repo, { maxAgents: 1 }, '2');
    const o1 = w1.s.orchestrator;
    // Pause as soon as the subtask is asked for, so it is still to do when Orchard stops.
    o1.onDidChange(({ events }) => {
      if (events.some((e) => e.type === 'subtask-requested')) void o1.pause();
    });
    await o1.addTickets([spec('P', { prompt: 'do P\n@subtask Write the helper', files: ['src/P.txt'] })]);
    await o1.start();
    await waitFor(() => o1.snapshot.runs['P-r1']?.waitingFor === 'P.s1', 30_000, 'P to wait for its subtask');
    assert.notEqual(o1.snapshot.tickets['P.s1']!.status, 'running');
    // Orchard stops (window reload, CLI ended): the agent's runner lives on, blocked in `orchard-agent subtask`.
    await w1.s.close();

    const w2 = await writer(r.repo, { maxAgents: 1 }, '2');
    const o2 = w2.s.orchestrator;
    const run = o2.snapshot.runs['P-r1']!;
    assert.equal(run.endedAt, undefined, 'the waiting run is adopted, not interrupted');
    assert.equal(run.waitingFor, 'P.s1', 'the wait is restored from the state');
    await o2.start();
    await within(o2.whenIdle(), 60_000, 'subtask and parent after the restart');
    const t = o2.snapshot.tickets;
    assert.deepEqual(Object.keys(t).sort(), ['P', 'P.s1'], 'the request seen again after adoption made no second subtask');
    assert.equal(t['P.s1']!.status, 'done', t['P.s1']!.reason);
    assert.equal(t.P!.status, 'done', t.P!.reason);
    assert.equal(Object.values(o2.snapshot.runs).filter((x) => x.ticketId === 'P').length, 1, 'P was not retried: it waited');
    assert.equal(o2.snapshot.runs['P-r1']!.waitingFor, undefined);
    assert.ok(w2.events.some((e) => e.type === 'subtask-settled' && e.subtaskId === 'P.s1' && e.merged));
    assert.match(r.git('show', 'main:src/P.txt'), /P: ticket P/);
    assert.ok(r.git('log', '--format=%s', 'main').includes('P.s1: Write the helper'));
  });
  it('a handle made again after a restart reads only requests not answered yet', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    const dir = w.s.launcher.runDir('X-r1');
    fs.mkdirSync(dir, { recursive: true });
    const token = 'secret-token';
    const put = (name: string, body: object) => fs.writeFileSync(path.join(dir, name), JSON.stringify({ token, ...body }));
    // Answered before the restart: a subtask request and a question (their answers are still on disk).
    put('tr-1.ticket-request.json', { id: 'tr-1', kind: 'subtask', ticket: { title: 'old' } });
    put('tr-1.ticket-answer.json', { ok: true, ticketId: 'X.s1' });
    put('esc-1.question.json', { id: 'esc-1', question: 'old?', options: [] });
    put('esc-1.answer.json', { option: 'yes' });
    // Not answered: the agent still waits for it.
    put('tr-2.ticket-request.json', { id: 'tr-2', kind: 'subtask', ticket: { title: 'new' } });
    const h = w.s.launcher.watch(dir, { tokenHash: createHash('sha256').update(token).digest('hex'), pid: process.pid, runId: 'X-r1' });
    const seen: string[] = [];
    h.onQuestion!((q) => seen.push(q.id));
    // Every request file of a poll is read in one go: once tr-2 is seen, tr-1 and esc-1 were passed over.
    await new Promise<void>((done) =>
      h.onTicketRequest!((q) => {
        seen.push(q.id);
        done();
      }),
    );
    assert.deepEqual(seen, ['tr-2']);
    fs.writeFileSync(path.join(dir, 'exit.json'), JSON.stringify({ exitCode: 0, endedAt: Date.now() }));
    await h.exited;
  });
  it('is bounded: a second subtask past maxPerTicket is refused and the agent goes on', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 2, subtasks: { maxPerTicket: 1 } }, '2');
    const o = w.s.orchestrator;
    await o.addTickets([spec('Q', { prompt: 'do Q\n@subtask first\n@subtask second' })]);
    await o.start();
    await within(o.whenIdle(), 60_000, 'bounded subtasks');
    assert.deepEqual(Object.keys(o.snapshot.tickets).sort(), ['Q', 'Q.s1']);
    assert.equal(o.snapshot.tickets.Q!.status, 'done');
  });
});
