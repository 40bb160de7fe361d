import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildDashboardView, formatValue } from '../../src/core/dashboardModel';
import { createEscalation } from '../../src/core/escalations';
import { emptyState, type OrchardState, type Run, type Ticket, type TicketStatus } from '../../src/core/model';
import { applyPatch, diffList, diffViews, sameData } from '../../src/shared/dashboardView';
import { layoutGraph } from '../../src/shared/graphLayout';
import { dashboardSnapshotHtml } from '../../src/shared/snapshot';

const MIN = 60_000;

function ticket(id: string, status: TicketStatus, extra: Partial<Ticket> = {}): Ticket {
  return { id, title: `Title ${id}`, prompt: id, priority: 'P2', dependsOn: [], files: [], labels: [], status, createdAt: 0, attempts: 0, ...extra };
}
function run(id: string, ticketId: string, slot: number, startMin: number, endMin?: number, extra: Partial<Run> = {}): Run {
  const r: Run = { id, ticketId, slot, attempt: 1, branch: `orchard/${ticketId}`, worktree: '/w', startedAt: startMin * MIN, ...extra };
  if (endMin !== undefined) {
    r.endedAt = endMin * MIN;
    r.outcome ??= 'succeeded';
  }
  return r;
}
function state(tickets: Ticket[], runs: Run[] = []): OrchardState {
  const s = emptyState();
  for (const t of tickets) s.tickets[t.id] = t;
  for (const r of runs) s.runs[r.id] = r;
  s.batch = { startedAt: 0 };
  return s;
}

/** A fan-in chain: A → B → D, C → D (estimates make A-B-D the critical path). */
function sample(): OrchardState {
  const s = state(
    [
      ticket('A', 'done', { estimate: 30, attempts: 1, mergedAs: 'abc' }),
      ticket('B', 'running', { dependsOn: ['A'], estimate: 40, attempts: 2 }),
      ticket('C', 'escalated', { estimate: 5, attempts: 1 }),
      ticket('D', 'backlog', { dependsOn: ['B', 'C'], estimate: 10 }),
      ticket('E', 'queued-for-merge', { attempts: 1 }),
    ],
    [
      run('run-1', 'A', 1, 0, 20),
      run('run-2', 'B', 1, 21, 25, { outcome: 'failed' }),
      run('run-3', 'B', 1, 26, undefined, { attempt: 2, progress: 40, message: 'tests green' }),
      run('run-4', 'C', 2, 1),
      run('run-5', 'E', 3, 2, 12),
    ],
  );
  s.escalations['run-4-q1'] = createEscalation(
    { ticketId: 'C', runId: 'run-4', askedBy: 'run-4', trigger: 'input-needed', question: 'Which DB?', options: ['Postgres', 'SQLite'] },
    'run-4-q1',
    5 * MIN,
  );
  return s;
}

describe('buildDashboardView', () => {
  const v = buildDashboardView({ state: sample(), now: 30 * MIN, agents: 3, mode: 'locking' });

  test('header counts agents, queues, escalations, merge queue and speedup', () => {
    assert.equal(v.header.agentsActive, 2);
    assert.equal(v.header.agentsTotal, 3);
    assert.equal(v.header.queued, 1);
    assert.equal(v.header.running, 1);
    assert.equal(v.header.done, 1);
    assert.equal(v.header.failed, 0);
    assert.equal(v.header.escalations, 1);
    assert.equal(v.header.mergeQueue, 1);
    assert.equal(v.header.batch, 'running');
    // runs: 20 + 4 + 4 + 29 + 10 = 67 min of agent time in 30 min of wall time
    assert.equal(v.header.speedup, 2.23);
  });

  test('one row per slot with ticket, progress and state (waiting for input)', () => {
    assert.equal(v.slots.length, 3);
    assert.deepEqual(
      v.slots.map((s) => [s.slot, s.state, s.ticketId, s.progress ?? null]),
      [
        [1, 'running', 'B', 40],
        [2, 'waiting-input', 'C', null],
        [3, 'idle', undefined, null],
      ],
    );
    assert.equal(v.slots[0]!.attempt, 2);
    assert.equal(v.slots[1]!.message, 'Which DB?');
  });

  test('a rate-limited ticket shows on its idle slot until it may start again', () => {
    const s = sample();
    s.tickets.E = { ...s.tickets.E!, status: 'ready', reason: 'rate limited (profile claude)', notBefore: 40 * MIN };
    const w = buildDashboardView({ state: s, now: 30 * MIN, agents: 3 });
    assert.equal(w.slots[2]!.state, 'rate-limited');
    assert.equal(w.slots[2]!.until, 40 * MIN);
  });

  test('graph: every ticket, dependency edges, the critical path marked', () => {
    assert.deepEqual(
      v.nodes.map((n) => n.id),
      ['A', 'B', 'C', 'D', 'E'],
    );
    assert.deepEqual(
      v.nodes.filter((n) => n.critical).map((n) => n.id),
      ['A', 'B', 'D'],
    );
    assert.deepEqual(
      v.edges.map((e) => `${e.from}>${e.to}${e.critical ? '*' : ''}`),
      ['A>B*', 'B>D*', 'C>D'],
    );
    assert.equal(v.criticalLength, 80);
  });

  test('timeline: a bar per run, retries and escalation waits visible', () => {
    assert.equal(v.bars.length, 5);
    const retry = v.bars.find((b) => b.runId === 'run-3')!;
    assert.equal(retry.attempt, 2);
    assert.equal(retry.end, undefined);
    assert.equal(v.bars.find((b) => b.runId === 'run-2')!.outcome, 'failed');
    assert.deepEqual(v.bars.find((b) => b.runId === 'run-4')!.waits, [{ start: 5 * MIN }]);
  });

  test('metrics carry targets, alert thresholds and status; alerts listed', () => {
    const m = new Map(v.metrics.map((x) => [x.key, x]));
    assert.equal(m.get('escalationRate')!.target, '< 20%');
    assert.equal(m.get('escalationRate')!.alertAt, '> 40%');
    assert.equal(m.get('escalationRate')!.status, 'warn'); // 1 of 4 started tickets escalated = 25%
    assert.equal(m.get('costUsd')!.display, '—');
    assert.ok(v.alerts.every((a) => typeof a === 'string'));
  });

  test('cost and tokens where known', () => {
    const w = buildDashboardView({
      state: sample(),
      now: 30 * MIN,
      agents: 3,
      usage: { 'run-1': { costUsd: 0.5, tokens: 12_000 }, 'run-3': { costUsd: 0.25 } },
    });
    const m = new Map(w.metrics.map((x) => [x.key, x]));
    assert.equal(m.get('costUsd')!.display, '$0.75');
    assert.equal(m.get('tokens')!.display, '12k');
  });

  test('escalation queue and merge queue', () => {
    assert.deepEqual(
      v.escalations.map((e) => [e.id, e.ticketId, e.options.join('|')]),
      [['run-4-q1', 'C', 'Postgres|SQLite']],
    );
    assert.deepEqual(
      v.mergeQueue.map((m) => [m.ticketId, m.status]),
      [['E', 'queued-for-merge']],
    );
  });

  test('empty state: no slots busy, speedup null, batch not started', () => {
    const e = buildDashboardView({ state: emptyState(), now: 0, agents: 2 });
    assert.equal(e.header.speedup, null);
    assert.equal(e.header.batch, 'not-started');
    assert.equal(e.slots.length, 2);
    assert.equal(e.nodes.length, 0);
  });

  test('formatValue', () => {
    assert.equal(formatValue(0.256, 'ratio'), '26%');
    assert.equal(formatValue(2.5, 'x'), '2.50×');
    assert.equal(formatValue(45, 'minutes'), '45 min');
    assert.equal(formatValue(null, 'count'), '—');
  });
});

describe('diffViews / applyPatch', () => {
  test('no change but the clock: no patch', () => {
    const s = sample();
    const a = buildDashboardView({ state: s, now: 30 * MIN, agents: 3 });
    const b = { ...a, now: a.now + 1 };
    assert.equal(diffViews(a, b, 7), undefined);
  });

  test('a progress event changes one slot and one bar only', () => {
    const s = sample();
    const a = buildDashboardView({ state: s, now: 30 * MIN, agents: 3 });
    s.runs['run-3'] = { ...s.runs['run-3']!, progress: 70 };
    const b = buildDashboardView({ state: s, now: 30 * MIN, agents: 3 });
    const p = diffViews(a, b, 7)!;
    assert.equal(p.from, 7);
    assert.equal(p.to, 8);
    assert.deepEqual(p.slots, { upsert: [b.slots[0]], remove: [] });
    assert.equal(p.nodes, undefined);
    assert.equal(p.bars, undefined);
    assert.equal(p.edges, undefined);
    assert.ok(sameData(applyPatch(a, p), b));
  });

  test('status change, new ticket, answered escalation: apply(diff) reproduces the view', () => {
    const s = sample();
    const a = buildDashboardView({ state: s, now: 30 * MIN, agents: 3 });
    s.tickets.C = { ...s.tickets.C!, status: 'running' };
    s.escalations['run-4-q1'] = { ...s.escalations['run-4-q1']!, answeredAt: 31 * MIN, answer: { option: 'Postgres', by: 'human' } };
    s.tickets.F = ticket('F', 'ready', { dependsOn: ['E'] });
    delete s.tickets.D;
    const b = buildDashboardView({ state: s, now: 31 * MIN, agents: 3 });
    const p = diffViews(a, b, 1)!;
    assert.deepEqual(p.escalations?.remove, ['run-4-q1']);
    assert.deepEqual(p.nodes?.remove, ['D']);
    assert.ok(p.nodes?.upsert.some((n) => n.id === 'F'));
    assert.ok(p.edges, 'edges changed with the shape');
    assert.ok(sameData(applyPatch(a, p), b));
  });

  test('diffList reports a reorder', () => {
    const p = diffList([{ k: 1 }, { k: 2 }, { k: 3 }], [{ k: 3 }, { k: 1 }, { k: 2 }], (x) => x.k)!;
    assert.deepEqual(p.upsert, []);
    assert.deepEqual(p.order, [3, 1, 2]);
  });

  test('random edits: apply(prev, diff(prev, next)) == next', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const statuses: TicketStatus[] = ['backlog', 'ready', 'running', 'done', 'failed', 'escalated', 'queued-for-merge'];
    let s = sample();
    let prev = buildDashboardView({ state: s, now: 30 * MIN, agents: 3 });
    for (let i = 0; i < 200; i++) {
      s = structuredClone(s);
      const ids = Object.keys(s.tickets);
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const r = rnd();
      if (r < 0.5) s.tickets[id] = { ...s.tickets[id]!, status: statuses[Math.floor(rnd() * statuses.length)]! };
      else if (r < 0.7) s.tickets[`N${i}`] = ticket(`N${i}`, 'backlog', { dependsOn: rnd() < 0.5 ? [id] : [] });
      else if (r < 0.8 && ids.length > 3) {
        delete s.tickets[id];
        for (const t of Object.values(s.tickets)) t.dependsOn = t.dependsOn.filter((d) => d !== id);
      } else s.runs[`r${i}`] = run(`r${i}`, id, 1 + Math.floor(rnd() * 3), 30 + i, rnd() < 0.5 ? 31 + i : undefined);
      const next = buildDashboardView({ state: s, now: (30 + i) * MIN, agents: 3 });
      const p = diffViews(prev, next, i);
      const applied = p ? applyPatch(prev, p) : { ...prev, now: next.now };
      assert.ok(sameData(applied, next), `step ${i}`);
      prev = next;
    }
  });
});

describe('graph layout and snapshot', () => {
  test('dagre lays dependencies left of their dependents', () => {
    const v = buildDashboardView({ state: sample(), now: 30 * MIN, agents: 3 });
    const l = layoutGraph(v.nodes, v.edges);
    assert.equal(l.nodes.size, 5);
    assert.ok(l.nodes.get('A')!.x < l.nodes.get('B')!.x);
    assert.ok(l.nodes.get('B')!.x < l.nodes.get('D')!.x);
    assert.equal(l.edges.length, 3);
    assert.ok(l.edges.every((e) => e.points.length >= 2));
  });

  test('the HTML snapshot is static, self-contained and escapes text', () => {
    const s = sample();
    s.tickets.A = { ...s.tickets.A!, title: '<img src=x onerror=alert(1)>' };
    const html = dashboardSnapshotHtml(buildDashboardView({ state: s, now: 30 * MIN, agents: 3 }), { title: 'Report <1>' });
    assert.ok(!/<script/i.test(html), 'no scripts');
    assert.ok(!/(src|href)="(https?:)?\/\//i.test(html), 'no remote content');
    assert.ok(!html.includes('<img src=x'), 'ticket text escaped');
    assert.match(html, /Report &#60;1&#62;/);
    for (const part of ['Agents', 'Dependency graph', 'Timeline', 'Metrics', 'Escalations', 'Merge queue', 'Which DB?', 'class="graph"', 'class="gantt"'])
      assert.ok(html.includes(part), part);
  });
});
