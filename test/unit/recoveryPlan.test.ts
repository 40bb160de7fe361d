// The restart plan (core/recovery.ts) as a pure function of the state and the runs adopted again.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { emptyState, type OrchardState, type Run, type Ticket, type TicketStatus } from '../../src/core/model';
import { planRecovery } from '../../src/core/recovery';

const ticket = (id: string, status: TicketStatus): Ticket => ({
  id,
  title: id,
  prompt: id,
  priority: 'P2',
  dependsOn: [],
  files: [`src/${id}.txt`],
  labels: [],
  status,
  createdAt: 0,
  attempts: 1,
});
const run = (ticketId: string, over: Partial<Run> = {}): Run => ({
  id: `${ticketId}-r1`,
  ticketId,
  slot: 0,
  attempt: 1,
  branch: `orchard/${ticketId}`,
  worktree: `/wt/${ticketId}`,
  startedAt: 0,
  ...over,
});

function board(entries: [TicketStatus, Partial<Run> | undefined][]): OrchardState {
  const s = emptyState();
  entries.forEach(([status, r], i) => {
    const id = `T${i + 1}`;
    s.tickets[id] = ticket(id, status);
    if (r) {
      s.runs[`${id}-r1`] = run(id, r);
      s.locks.push({ pattern: `src/${id}.txt`, runId: `${id}-r1`, ticketId: id, expiresAt: 1, generation: i + 1 });
    }
  });
  return s;
}

it('a restart: finished agents are gated again, cut-short runs go back to ready, cut-short merges back to the queue; locks kept where work waits to merge', () => {
  const s = board([
    ['running', { endedAt: 5, outcome: 'succeeded' }], // T1: its agent finished, the gates never ran
    ['gating', { endedAt: 5, outcome: 'succeeded' }], // T2: killed while gating
    ['running', { endedAt: 5, outcome: 'crashed' }], // T3: interrupted
    ['merging', { endedAt: 5, outcome: 'succeeded' }], // T4: killed while merging
    ['queued-for-merge', { endedAt: 5, outcome: 'succeeded' }], // T5: waiting in the queue
    ['in-review', { endedAt: 5, outcome: 'succeeded' }], // T6: waiting for a person
    ['running', {}], // T7: its runner still beats (adopted)
    ['failed', { endedAt: 5, outcome: 'failed' }], // T8: over
  ]);
  const p = planRecovery(s, new Set(['T7-r1']));
  assert.deepEqual(p.regate, [
    { ticketId: 'T1', runId: 'T1-r1', toGating: true },
    { ticketId: 'T2', runId: 'T2-r1', toGating: false },
  ]);
  assert.deepEqual(p.interrupted, [{ ticketId: 'T3', runId: 'T3-r1' }]);
  assert.deepEqual(p.mergeInterrupted, ['T4']);
  assert.deepEqual(p.requeue, ['T4', 'T5']);
  // Only the failed ticket's and the interrupted run's locks are orphans; the adopted run keeps its own.
  assert.deepEqual(p.orphanLockRuns.sort(), ['T3-r1', 'T8-r1']);
});

it('an adopted run that ended while Orchard recovered is left to its own exit: never gated here too', () => {
  const s = board([['running', { endedAt: 5, outcome: 'succeeded' }]]);
  const p = planRecovery(s, new Set(['T1-r1']));
  assert.deepEqual(p.regate, []);
  assert.deepEqual(p.interrupted, []);
  assert.deepEqual(p.orphanLockRuns, []);
});
