import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchedule, simulate, strongLowerBound, type SimPolicy } from '../../src/core/simulate';
import { executionWaves } from '../../src/core/dag';
import type { Mode, TicketSpec } from '../../src/core/model';
import { Rng, randomDag, DAG_SHAPES } from '../../src/core/random';

function spec(id: string, estimate: number, dependsOn: string[] = [], files: string[] = [], o: Partial<TicketSpec> = {}): TicketSpec {
  return { id, title: id, prompt: id, priority: 'P2', dependsOn, files, labels: [], estimate, ...o };
}

test('a small schedule by hand: critical path first, refill at once', () => {
  // A(10) → C(30); B(20) independent; D(5) independent. K = 2.
  const t = [spec('A', 10), spec('B', 20), spec('C', 30, ['A']), spec('D', 5)];
  const r = simulate(t, { agents: 2, mode: 'isolation' });
  const at = Object.fromEntries(r.tickets.map((x) => [x.id, [x.start, x.end]]));
  assert.deepEqual(at, { A: [0, 10], B: [0, 20], C: [10, 40], D: [20, 25] });
  assert.equal(r.makespan, 40);
  assert.equal(r.totalWork, 65);
  assert.equal(r.lowerBound, 40);
  assert.deepEqual(r.criticalPath.ids, ['A', 'C']);
  assert.deepEqual(checkSchedule(t, r, { agents: 2, mode: 'isolation' }), []);
});

test('wave baseline is the barrier loop: up to K ready tickets, then wait for all of them', () => {
  // K = 2, all independent: A(10) B(60) | C(10) D(10) | E(10) — each batch waits for its slowest.
  const t = [spec('A', 10), spec('B', 60), spec('C', 10), spec('D', 10), spec('E', 10)];
  const w = simulate(t, { agents: 2, mode: 'isolation', policy: 'wave' });
  assert.deepEqual(
    w.tickets.map((x) => [x.id, x.start]),
    [
      ['A', 0],
      ['B', 0],
      ['C', 60],
      ['D', 60],
      ['E', 70],
    ],
  );
  assert.equal(w.makespan, 80);
  assert.equal(simulate(t, { agents: 2, mode: 'isolation', policy: 'wave-list' }).makespan, 60);
  assert.equal(simulate(t, { agents: 2, mode: 'isolation' }).makespan, 60);
  assert.deepEqual(checkSchedule(t, w, { agents: 2, mode: 'isolation' }), []);
});

test('wave-list baseline waits for the whole level; orchard does not', () => {
  const t = [spec('A', 10), spec('B', 60), spec('C', 30, ['A']), spec('D', 30, ['A'])];
  const wave = simulate(t, { agents: 3, mode: 'isolation', policy: 'wave-list' });
  const orch = simulate(t, { agents: 3, mode: 'isolation', policy: 'orchard' });
  assert.equal(wave.makespan, 90, 'C and D start after B (60), the end of wave 0');
  assert.equal(orch.makespan, 60);
  const waves = executionWaves(t);
  const end0 = Math.max(...wave.tickets.filter((x) => waves[0]!.includes(x.id)).map((x) => x.end));
  for (const x of wave.tickets) if (waves[1]!.includes(x.id)) assert.ok(x.start >= end0);
  assert.deepEqual(checkSchedule(t, wave, { agents: 3, mode: 'isolation' }), []);
});

test('fifo ignores priority and critical path (id order)', () => {
  const t = [spec('A', 5), spec('B', 5, [], [], { priority: 'P0' }), spec('C', 100)];
  const f = simulate(t, { agents: 1, mode: 'isolation', policy: 'fifo' });
  assert.deepEqual(
    f.tickets.map((x) => x.id),
    ['A', 'B', 'C'],
  );
  const o = simulate(t, { agents: 1, mode: 'isolation', policy: 'orchard' });
  assert.deepEqual(
    o.tickets.map((x) => x.id),
    ['B', 'C', 'A'],
  );
});

test('locking keeps overlapping tickets apart in time; queue mode runs one at a time', () => {
  const t = [spec('A', 10, [], ['src/a.ts']), spec('B', 10, [], ['src/**']), spec('C', 10, [], ['docs/x.md'])];
  const l = simulate(t, { agents: 3, mode: 'locking' });
  assert.deepEqual(checkSchedule(t, l, { agents: 3, mode: 'locking' }), []);
  assert.equal(l.makespan, 20);
  const q = simulate(t, { agents: 3, mode: 'queue' });
  assert.equal(q.makespan, 30);
  assert.equal(q.lowerBound, 30);
  assert.deepEqual(checkSchedule(t, q, { agents: 3, mode: 'queue' }), []);
});

test('checkSchedule catches each kind of violation', () => {
  const t = [spec('A', 10, [], ['x.ts']), spec('B', 10, ['A'], ['y.ts']), spec('C', 10, [], ['x.ts'])];
  const good = {
    tickets: [
      { id: 'A', start: 0, end: 10, slot: 0 },
      { id: 'B', start: 10, end: 20, slot: 0 },
      { id: 'C', start: 10, end: 20, slot: 1 },
    ],
  };
  assert.deepEqual(checkSchedule(t, good, { agents: 2, mode: 'locking' }), []);
  const bad = (tickets: typeof good.tickets, o: { agents: number; mode: Mode } = { agents: 2, mode: 'locking' }) => checkSchedule(t, { tickets }, o).join('\n');
  assert.match(bad([good.tickets[0]!, { ...good.tickets[1]!, start: 5, end: 15 }, good.tickets[2]!]), /B starts at 5 before its dependency A/);
  assert.match(bad([good.tickets[0]!, good.tickets[1]!, { ...good.tickets[2]!, start: 5, end: 15 }]), /C and A run at once.*overlapping/);
  assert.match(bad([good.tickets[0]!, good.tickets[1]!, { ...good.tickets[2]!, slot: 0 }]), /slot 0 runs B and C at once/);
  assert.match(bad(good.tickets, { agents: 1, mode: 'isolation' }), /2 tickets run at once.*limit 1/);
  assert.match(bad(good.tickets, { agents: 2, mode: 'queue' }), /queue mode/);
  assert.match(bad(good.tickets.slice(0, 2)), /C is never scheduled/);
  assert.match(bad([...good.tickets, { id: 'C', start: 30, end: 40, slot: 0 }]), /C is scheduled more than once/);
  assert.match(bad([...good.tickets, { id: 'Z', start: 30, end: 40, slot: 0 }]), /Z is scheduled but is not a ticket/);
  assert.match(bad([good.tickets[0]!, good.tickets[1]!, { ...good.tickets[2]!, end: 25 }]), /C lasts 15, estimate 10/);
  assert.match(bad([good.tickets[0]!, good.tickets[1]!, { ...good.tickets[2]!, slot: 7 }]), /outside 0..1/);
});

test('property: every policy × mode yields a valid schedule on 240 seeded random DAGs', () => {
  const rng = new Rng(31337);
  const policies: SimPolicy[] = ['orchard', 'wave', 'wave-list', 'fifo'];
  const modes: Mode[] = ['isolation', 'locking', 'queue'];
  let ratioSum = 0;
  let runs = 0;
  for (let k = 0; k < 240; k++) {
    const shape = DAG_SHAPES[k % DAG_SHAPES.length]!;
    const t = randomDag(rng, { shape, size: rng.int(1, 70), priorities: k % 3 === 0 ? ['P0', 'P1', 'P2', 'P3'] : ['P2'] });
    const K = rng.int(1, 8);
    for (const policy of policies) {
      for (const mode of modes) {
        const r = simulate(t, { agents: K, mode, policy });
        const problems = checkSchedule(t, r, { agents: K, mode });
        assert.deepEqual(problems, [], `#${k} ${shape} K=${K} ${policy}/${mode}`);
        assert.deepEqual(r.unscheduled, []);
        assert.ok(r.makespan >= r.lowerBound - 1e-9, 'no schedule beats the lower bound');
        if (policy === 'orchard' && mode === 'isolation') {
          ratioSum += r.makespan / r.lowerBound;
          runs++;
          // Graham: list scheduling is within (2 - 1/K) of max(critical path, work / K)
          assert.ok(r.makespan <= (2 - 1 / K) * r.lowerBound + 1e-9, `Graham bound #${k}`);
        }
      }
    }
  }
  assert.ok(ratioSum / runs < 1.05, `orchard isolation mean ratio ${ratioSum / runs}`);
});

test('property: the simulation is deterministic', () => {
  const t = randomDag(new Rng(4), { shape: 'fan', size: 80 });
  assert.deepEqual(simulate(t, { agents: 3, mode: 'locking' }), simulate(t, { agents: 3, mode: 'locking' }));
});

test('strongLowerBound: at least the simple bound, never above an actual schedule', () => {
  const rng = new Rng(12);
  for (let k = 0; k < 60; k++) {
    const t = randomDag(rng, { shape: rng.pick(DAG_SHAPES), size: rng.int(2, 60) });
    const K = rng.int(1, 6);
    const r = simulate(t, { agents: K, mode: 'isolation' });
    const lb = strongLowerBound(t, K);
    assert.ok(lb >= r.lowerBound - 1e-9);
    assert.ok(lb <= r.makespan + 1e-9, `#${k}: ${lb} > ${r.makespan}`);
  }
  // diamond: head 10, four mids of 10, tail 10, K = 2 → optimum 40; simple bound 30
  const d = [spec('H', 10), ...['a', 'b', 'c', 'd'].map((m) => spec(m, 10, ['H'])), spec('T', 10, ['a', 'b', 'c', 'd'])];
  assert.equal(simulate(d, { agents: 2, mode: 'isolation' }).lowerBound, 30);
  assert.equal(strongLowerBound(d, 2), 40);
  assert.equal(simulate(d, { agents: 2, mode: 'isolation' }).makespan, 40);
});

test('unknown dependency: reported as unscheduled, never started', () => {
  const t = [spec('A', 10), spec('B', 10, ['NOPE'])];
  for (const policy of ['orchard', 'wave', 'wave-list', 'fifo'] as const) {
    const r = simulate(t, { agents: 2, mode: 'isolation', policy });
    assert.deepEqual(r.unscheduled, ['B'], policy);
    assert.deepEqual(
      r.tickets.map((x) => x.id),
      ['A'],
      policy,
    );
  }
});
