import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockedByFinal,
  compareIds,
  criticalPath,
  criticalPathLengths,
  DEFAULT_ESTIMATE_MINUTES,
  executionWaves,
  readySet,
  topologicalOrder,
  validateGraph,
} from '../../src/core/dag';
import type { Ticket, TicketSpec, TicketStatus } from '../../src/core/model';
import { Rng, randomDag, DAG_SHAPES } from '../../src/core/random';

function spec(id: string, dependsOn: string[] = [], estimate?: number): TicketSpec {
  return { id, title: id, prompt: id, priority: 'P2', dependsOn, files: [], labels: [], estimate };
}
function ticket(id: string, dependsOn: string[], status: TicketStatus): Ticket {
  return { ...spec(id, dependsOn), status, createdAt: 0, attempts: 0 };
}

test('a valid graph has no problems', () => {
  assert.deepEqual(validateGraph([spec('A'), spec('B', ['A']), spec('C', ['A', 'B'])]), []);
});

test('duplicate id is reported on the id field', () => {
  const p = validateGraph([spec('A'), spec('A'), spec('B', ['A'])]);
  assert.equal(p.length, 1);
  assert.equal(p[0]!.kind, 'duplicate-id');
  assert.equal(p[0]!.field, 'id');
  assert.equal(p[0]!.ticketId, 'A');
  assert.match(p[0]!.message, /unique/);
});

test('self-dependency and unknown dependency name the ticket and the entry', () => {
  const p = validateGraph([spec('A', ['A']), spec('B', ['ZZ'])]);
  const self = p.find((x) => x.kind === 'self-dependency')!;
  const unk = p.find((x) => x.kind === 'unknown-dependency')!;
  assert.equal(self.ticketId, 'A');
  assert.equal(self.dependency, 'A');
  assert.equal(self.field, 'dependsOn');
  assert.match(self.message, /A depends on itself/);
  assert.equal(unk.ticketId, 'B');
  assert.equal(unk.dependency, 'ZZ');
  assert.match(unk.message, /"ZZ".*not a ticket/);
  assert.equal(p.filter((x) => x.kind === 'cycle').length, 0, 'a self-dependency is not also a cycle');
});

test('a cycle is reported once with its closed path', () => {
  // A depends on B, B on C, C on A; D hangs off the cycle, E is fine.
  const p = validateGraph([spec('A', ['B']), spec('B', ['C']), spec('C', ['A']), spec('D', ['C']), spec('E')]);
  assert.equal(p.length, 1);
  const c = p[0]!;
  assert.equal(c.kind, 'cycle');
  assert.deepEqual(c.path, ['A', 'B', 'C', 'A']);
  assert.equal(c.ticketId, 'A');
  assert.match(c.message, /A → B → C → A/);
  assert.match(c.message, /remove/);
});

test('two separate cycles are both reported; each path follows real edges', () => {
  const t = [spec('A', ['B']), spec('B', ['A']), spec('X', ['Y']), spec('Y', ['Z']), spec('Z', ['X', 'Y'])];
  const cycles = validateGraph(t).filter((x) => x.kind === 'cycle');
  assert.equal(cycles.length, 2);
  const deps = new Map(t.map((s) => [s.id, s.dependsOn]));
  for (const c of cycles) {
    const path = c.path!;
    assert.equal(path[0], path[path.length - 1]);
    for (let k = 0; k + 1 < path.length; k++) assert.ok(deps.get(path[k]!)!.includes(path[k + 1]!), `${path[k]} → ${path[k + 1]}`);
  }
});

test('topologicalOrder puts dependencies first and leaves cycles out', () => {
  const order = topologicalOrder([spec('C', ['B']), spec('B', ['A']), spec('A'), spec('X', ['Y']), spec('Y', ['X'])]);
  assert.deepEqual(order, ['A', 'B', 'C']);
});

test('topologicalOrder respects every edge on random DAGs', () => {
  const rng = new Rng(7);
  for (const shape of DAG_SHAPES) {
    const t = rng.shuffle(randomDag(rng, { shape, size: 80 }));
    const order = topologicalOrder(t);
    assert.equal(order.length, t.length);
    const pos = new Map(order.map((id, i) => [id, i]));
    for (const s of t) for (const d of s.dependsOn) assert.ok(pos.get(d)! < pos.get(s.id)!, `${shape}: ${d} before ${s.id}`);
  }
});

test('executionWaves are longest-path levels', () => {
  const w = executionWaves([spec('A'), spec('B'), spec('C', ['A']), spec('D', ['C', 'B']), spec('E', ['A'])]);
  assert.deepEqual(w, [['A', 'B'], ['C', 'E'], ['D']]);
});

test('critical path: longest chain of estimates, default estimate when missing', () => {
  const t = [spec('A', [], 10), spec('B', ['A'], 50), spec('C', ['A']), spec('D', ['B', 'C'], 5)];
  const cp = criticalPath(t);
  assert.deepEqual(cp.ids, ['A', 'B', 'D']);
  assert.equal(cp.length, 65);
  const L = criticalPathLengths(t);
  assert.equal(L.get('D'), 5);
  assert.equal(L.get('C'), DEFAULT_ESTIMATE_MINUTES + 5);
  assert.equal(L.get('B'), 55);
  assert.equal(L.get('A'), 65);
  assert.equal(DEFAULT_ESTIMATE_MINUTES, 30);
  // Default estimate wins when it makes the longer chain.
  const t2 = [spec('A', [], 10), spec('B', ['A'], 20), spec('C', ['A']), spec('D', ['B', 'C'], 5)];
  assert.deepEqual(criticalPath(t2).ids, ['A', 'C', 'D']);
  assert.deepEqual(criticalPath([]), { ids: [], length: 0 });
});

test('critical path lengths agree with a brute-force recursion on random DAGs', () => {
  const rng = new Rng(99);
  for (const shape of DAG_SHAPES) {
    const t = randomDag(rng, { shape, size: 60 });
    const dependents = new Map<string, string[]>();
    for (const s of t) for (const d of s.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
    const byId = new Map(t.map((s) => [s.id, s]));
    const memo = new Map<string, number>();
    const brute = (id: string): number => {
      if (memo.has(id)) return memo.get(id)!;
      const v = byId.get(id)!.estimate! + Math.max(0, ...(dependents.get(id) ?? []).map(brute));
      memo.set(id, v);
      return v;
    };
    const L = criticalPathLengths(t);
    for (const s of t) assert.equal(L.get(s.id), brute(s.id), `${shape} ${s.id}`);
    const cp = criticalPath(t);
    assert.equal(cp.length, Math.max(...t.map((s) => brute(s.id))));
    assert.equal(
      cp.ids.reduce((a, id) => a + byId.get(id)!.estimate!, 0),
      cp.length,
      'path sums to its length',
    );
    for (let k = 1; k < cp.ids.length; k++) assert.ok(byId.get(cp.ids[k]!)!.dependsOn.includes(cp.ids[k - 1]!));
  }
});

test('blockedByFinal propagates failure and cancellation transitively with the chain', () => {
  const t = [
    ticket('A', [], 'failed'),
    ticket('B', ['A'], 'backlog'),
    ticket('C', ['B'], 'backlog'),
    ticket('D', [], 'cancelled'),
    ticket('E', ['D', 'X'], 'ready'),
    ticket('X', [], 'done'),
    ticket('F', ['X'], 'backlog'),
  ];
  const b = blockedByFinal(t);
  assert.deepEqual([...b.keys()].sort(), ['B', 'C', 'E']);
  assert.equal(b.get('B')!.dependency, 'A');
  assert.equal(b.get('B')!.dependencyStatus, 'failed');
  assert.deepEqual(b.get('B')!.via, ['A']);
  assert.deepEqual(b.get('C')!.via, ['B', 'A']);
  assert.match(b.get('C')!.reason, /C depends on B.*A/);
  assert.equal(b.get('E')!.dependencyStatus, 'cancelled');
  assert.match(b.get('E')!.reason, /cancelled/);
  // Record form works too.
  assert.equal(blockedByFinal(Object.fromEntries(t.map((x) => [x.id, x]))).size, 3);
});

test('readySet: deps all done, status backlog/ready only', () => {
  const t = [
    ticket('A', [], 'done'),
    ticket('B', ['A'], 'backlog'),
    ticket('C', ['A'], 'running'),
    ticket('D', ['B'], 'ready'),
    ticket('E', [], 'escalated'),
    ticket('F', ['A', 'Q'], 'ready'), // unknown dep: never ready
    ticket('G', [], 'ready'),
    ticket('H', ['A'], 'failed'),
  ];
  assert.deepEqual(readySet(t), ['B', 'G']);
});

test('compareIds is natural', () => {
  assert.deepEqual(['ws-10', 'ws-2', 'ws-01', 'a', 'T-100', 'T-99'].sort(compareIds), ['T-99', 'T-100', 'a', 'ws-01', 'ws-2', 'ws-10']);
});

// How fast is bench/scale.ts's job (ratios in one run); a timed assertion here failed on a loaded machine.
test('10,000 tickets: every graph function handles them', () => {
  const t = randomDag(new Rng(1), { shape: 'layered', size: 10_000 });
  assert.deepEqual(validateGraph(t), []);
  assert.equal(topologicalOrder(t).length, 10_000);
  assert.ok(executionWaves(t).length >= 3);
  assert.equal(criticalPathLengths(t).size, 10_000);
  assert.ok(criticalPath(t).length > 0);
  const statuses = t.map((s, i) => ({ ...s, status: (i % 97 === 0 ? 'failed' : 'backlog') as TicketStatus, createdAt: 0, attempts: 0 }));
  assert.ok(blockedByFinal(statuses).size > 0);
});

test('a 10,000-long chain does not overflow the stack (iterative algorithms)', () => {
  const t = Array.from({ length: 10_000 }, (_, i) => spec(`T${i}`, i ? [`T${i - 1}`] : [], 1));
  t[0]!.dependsOn = ['T9999'];
  const p = validateGraph(t);
  assert.equal(p.length, 1);
  assert.equal(p[0]!.path!.length, 10_001);
  t[0]!.dependsOn = [];
  assert.equal(criticalPath(t).length, 10_000);
});
