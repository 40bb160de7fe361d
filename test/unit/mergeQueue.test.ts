// The merge queue's pure decisions: order with conflict predictions, batch planning, and the
// bisection state machine checked against one-at-a-time merging for every culprit placement.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BatchBisector, orderQueue, planBatch, runBatches, type QueueEntry } from '../../src/core/mergeQueue';

const e = (ticketId: string, over: Partial<QueueEntry> = {}): QueueEntry => ({ ticketId, priority: 'P2', queuedAt: 0, ...over });

/** One-at-a-time: each branch is tested on the tip; the passing ones are merged. */
function oneAtATime(queue: string[], bad: Set<string>): { merged: string[]; tests: number } {
  const merged: string[] = [];
  for (const id of queue) if (!bad.has(id)) merged.push(id);
  return { merged, tests: queue.length };
}

describe('merge queue order', () => {
  it('priority, then queue time, then id; predicted conflicts go last', () => {
    const order = orderQueue([
      e('C', { queuedAt: 3 }),
      e('A', { queuedAt: 2, predictedConflict: true, priority: 'P0' }),
      e('B', { queuedAt: 1 }),
      e('D', { queuedAt: 5, priority: 'P1' }),
      e('E', { queuedAt: 1 }),
    ]).map((x) => x.ticketId);
    assert.deepEqual(order, ['D', 'B', 'E', 'C', 'A']);
  });

  it('planBatch takes up to maxBatch and stops at a predicted conflict (merged alone)', () => {
    const q = [e('A'), e('B'), e('C', { predictedConflict: true }), e('D')];
    assert.deepEqual(planBatch(q, 8), ['A', 'B']);
    assert.deepEqual(planBatch(q, 1), ['A']);
    assert.deepEqual(planBatch([e('X', { predictedConflict: true }), e('Y')], 8), ['X']);
  });
});

describe('batch bisection', () => {
  it('a passing batch is one test', async () => {
    const r = await runBatches(['a', 'b', 'c', 'd'], 8, async () => true);
    assert.deepEqual(r, { merged: ['a', 'b', 'c', 'd'], culprits: [], tests: 1, batches: 1 });
  });

  it('finds one culprit in a batch of 8 with 4 tests (left half known to fail is inferred, not retested)', async () => {
    const q = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const tested: string[][] = [];
    const r = await runBatches(q, 8, async (ids) => {
      tested.push(ids);
      return !ids.includes('f');
    });
    assert.deepEqual(r.culprits, ['f']);
    assert.deepEqual(r.merged, ['a', 'b', 'c', 'd', 'e', 'g', 'h']);
    // all 8 fail; a-d pass (so e-h is known to fail); e-f fail; e passes (so f is known to fail) → culprit; g-h retested.
    assert.deepEqual(tested, [q, ['a', 'b', 'c', 'd'], ['e', 'f'], ['e'], ['g', 'h']]);
  });

  it('for every placement of 2 culprits among 16: same merged set and order as one-at-a-time, ≤ 10 tests', async () => {
    const q = Array.from({ length: 16 }, (_, i) => `b${i}`);
    let worst = 0;
    for (let a = 0; a < 16; a++) {
      for (let b = a + 1; b < 16; b++) {
        const bad = new Set([q[a]!, q[b]!]);
        const r = await runBatches(q, 8, async (ids) => !ids.some((x) => bad.has(x)));
        const ref = oneAtATime(q, bad);
        assert.deepEqual(r.merged, ref.merged, `culprits at ${a}, ${b}`);
        assert.deepEqual([...r.culprits].sort(), [...bad].sort());
        worst = Math.max(worst, r.tests);
      }
    }
    assert.ok(worst <= 10, `worst case ${worst} tests`);
  });

  it('drop() takes a conflicting ticket out and the rest is retested', () => {
    const b = new BatchBisector(['a', 'b', 'c']);
    assert.deepEqual(b.next(), { kind: 'test', ids: ['a', 'b', 'c'] });
    b.drop('b');
    assert.deepEqual(b.next(), { kind: 'test', ids: ['a', 'c'] });
    b.report(true);
    assert.deepEqual(b.next(), { kind: 'done', requeue: [] });
    assert.deepEqual(b.snapshot, { merged: ['a', 'c'], culprits: [], tests: 1 });
  });

  it('after a culprit the rest of the batch is requeued (the next batch is planned afresh)', () => {
    const b = new BatchBisector(['a', 'b', 'c', 'd']);
    b.next();
    b.report(false); // a-d fail
    assert.deepEqual(b.next(), { kind: 'test', ids: ['a', 'b'] });
    b.report(false); // a-b fail → c-d unknown again
    assert.deepEqual(b.next(), { kind: 'test', ids: ['a'] });
    b.report(false);
    assert.deepEqual(b.next(), { kind: 'culprit', id: 'a' });
    b.culprit();
    assert.deepEqual(b.next(), { kind: 'done', requeue: ['b', 'c', 'd'] });
    assert.throws(() => b.report(true), /after a done step/);
  });
});
