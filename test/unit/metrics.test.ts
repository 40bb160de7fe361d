import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics } from '../../src/core/metrics';
import { emptyState, type OrchardState, type Run, type Ticket, type TicketStatus } from '../../src/core/model';
import { createEscalation, type Escalation } from '../../src/core/escalations';

const MIN = 60_000;

function ticket(id: string, status: TicketStatus, attempts = 1): Ticket {
  return { id, title: id, prompt: id, priority: 'P2', dependsOn: [], files: [], labels: [], status, createdAt: 0, attempts };
}
function run(id: string, ticketId: string, startMin: number, endMin?: number): Run {
  const r: Run = { id, ticketId, slot: 0, attempt: 1, branch: `orchard/${ticketId}`, worktree: '/w', startedAt: startMin * MIN };
  if (endMin !== undefined) {
    r.endedAt = endMin * MIN;
    r.outcome = 'succeeded';
  }
  return r;
}
function state(tickets: Ticket[], runs: Run[], batch?: OrchardState['batch']): OrchardState {
  const s = emptyState();
  for (const t of tickets) s.tickets[t.id] = t;
  for (const r of runs) s.runs[r.id] = r;
  if (batch) s.batch = batch;
  return s;
}
let n = 0;
const esc = (ticketId: string, trigger: Escalation['trigger'] = 'input-needed') => createEscalation({ ticketId, trigger, question: 'q?' }, `e${++n}`, 0);

describe('computeMetrics', () => {
  test('a healthy parallel batch', () => {
    // 3 agents, 60 min wall time; 6 done tickets of 25 min each, two at a time per slot.
    const tickets = ['A', 'B', 'C', 'D', 'E', 'F'].map((id) => ticket(id, 'done'));
    const runs = tickets.map((t, i) => run(`r${i}`, t.id, (i % 2) * 30, (i % 2) * 30 + 25));
    const m = computeMetrics(state(tickets, runs, { startedAt: 0, endedAt: 60 * MIN }), [], 999 * MIN, 3);
    assert.equal(m.wallMs, 60 * MIN);
    assert.equal(m.busyMs, 150 * MIN);
    assert.equal(m.metrics.averageCompletionMinutes.value, 25);
    assert.equal(m.metrics.averageCompletionMinutes.status, 'ok');
    assert.equal(m.metrics.throughputPerHour.value, 6);
    assert.equal(m.metrics.speedup.value, 2.5);
    assert.ok(Math.abs(m.metrics.agentUtilization.value! - 150 / 180) < 1e-9);
    assert.equal(m.metrics.agentUtilization.status, 'ok');
    assert.equal(m.metrics.ticketsInProgress.value, 0);
    assert.equal(m.metrics.escalationRate.value, 0);
    assert.equal(m.metrics.conflictRate.value, 0);
    assert.equal(m.metrics.retries.value, 0);
    assert.equal(m.metrics.costUsd.value, null);
    assert.equal(m.metrics.costUsd.status, 'n/a');
    assert.deepEqual(m.alerts, []);
  });

  test('the default thresholds', () => {
    const m = computeMetrics(emptyState(), [], 0, 4);
    assert.deepEqual(m.metrics.ticketsInProgress.target, { op: '<', value: 8 });
    assert.deepEqual(m.metrics.ticketsInProgress.alertAt, { op: '>', value: 12 });
    assert.deepEqual(m.metrics.averageCompletionMinutes.alertAt, { op: '>', value: 60 });
    assert.deepEqual(m.metrics.escalationRate.target, { op: '<', value: 0.2 });
    assert.deepEqual(m.metrics.escalationRate.alertAt, { op: '>', value: 0.4 });
    assert.deepEqual(m.metrics.conflictRate.alertAt, { op: '>', value: 0.15 });
    assert.deepEqual(m.metrics.agentUtilization.target, { op: '>', value: 0.7 });
    assert.deepEqual(m.metrics.agentUtilization.alertAt, { op: '<', value: 0.4 });
    // nothing ran: no rates, no alerts
    assert.equal(m.metrics.escalationRate.value, null);
    assert.equal(m.metrics.agentUtilization.value, null);
    assert.deepEqual(m.alerts, []);
  });

  test('an unhealthy batch raises every alert', () => {
    // 1 agent; 4 tickets in progress (> 3×1); one done ticket took 90 min; 3 of 5 started escalated;
    // 1 conflict for 1 done; the agent was busy 90 of 300 min.
    const tickets = [
      ticket('D', 'done', 3),
      ticket('R1', 'running'),
      ticket('R2', 'gating'),
      ticket('R3', 'escalated'),
      ticket('R4', 'queued-for-merge'),
      ticket('B', 'backlog', 0),
    ];
    const runs = [run('r1', 'D', 0, 90)];
    const escs = [esc('R3'), esc('R1'), esc('D', 'conflict')];
    const m = computeMetrics(state(tickets, runs, { startedAt: 0 }), escs, 300 * MIN, 1);
    assert.equal(m.metrics.ticketsInProgress.value, 4);
    assert.equal(m.metrics.ticketsInProgress.status, 'alert');
    assert.equal(m.metrics.averageCompletionMinutes.value, 90);
    assert.equal(m.metrics.escalationRate.value, 3 / 5);
    assert.equal(m.metrics.conflictRate.value, 0.5);
    assert.equal(m.metrics.agentUtilization.value, 0.3);
    assert.equal(m.metrics.retries.value, 2);
    assert.deepEqual(
      m.alerts.map((a) => a.key),
      ['ticketsInProgress', 'averageCompletionMinutes', 'escalationRate', 'conflictRate', 'agentUtilization'],
    );
    assert.match(m.alerts[0]!.message, /4 tickets in progress for 1 agents \(alert above 3\)/);
    assert.match(m.alerts[2]!.message, /60% of started tickets escalated/);
  });

  test('between target and alert is a warning, not an alert', () => {
    const tickets = [ticket('A', 'done'), ticket('B', 'done'), ticket('C', 'done'), ticket('D', 'done'), ticket('E', 'done')];
    const runs = tickets.map((t, i) => run(`r${i}`, t.id, 0, 45));
    const m = computeMetrics(state(tickets, runs), [esc('A')], 45 * MIN, 5);
    assert.equal(m.metrics.averageCompletionMinutes.status, 'warn');
    assert.equal(m.metrics.escalationRate.value, 0.2);
    assert.equal(m.metrics.escalationRate.status, 'warn');
    assert.deepEqual(m.alerts, []);
  });

  test('without a batch the window spans the runs; open runs count until now', () => {
    const m = computeMetrics(state([ticket('A', 'running')], [run('r', 'A', 10)]), [], 40 * MIN, 2);
    assert.equal(m.wallMs, 30 * MIN);
    assert.equal(m.busyMs, 30 * MIN);
    assert.equal(m.metrics.agentUtilization.value, 0.5);
    assert.equal(m.metrics.speedup.value, 1);
    assert.equal(m.metrics.throughputPerHour.value, 0);
  });

  test('usage and merge counts when given', () => {
    const m = computeMetrics(state([ticket('A', 'done')], [run('r', 'A', 0, 10)]), [], 10 * MIN, 1, {
      usage: { r: { costUsd: 0.5, tokens: 1000 }, r2: { costUsd: 0.25 }, r3: {} },
      merges: { attempts: 10, conflicts: 1 },
    });
    assert.equal(m.metrics.costUsd.value, 0.75);
    assert.equal(m.metrics.tokens.value, 1000);
    assert.equal(m.metrics.conflictRate.value, 0.1);
    assert.equal(m.metrics.conflictRate.status, 'warn');
  });
});
