import { test } from 'node:test';
import assert from 'node:assert/strict';
import { naiveOverlapPairs, preflight } from '../../src/core/preflight';
import type { TicketSpec } from '../../src/core/model';
import { Rng, randomDag, randomScope, DAG_SHAPES } from '../../src/core/random';
import { validateGraph } from '../../src/core/dag';

function spec(id: string, files: string[], dependsOn: string[] = [], o: Partial<TicketSpec> = {}): TicketSpec {
  return { id, title: id, prompt: id, priority: 'P2', dependsOn, files, labels: [], ...o };
}

test('finds overlapping pairs with the shared patterns', () => {
  const r = preflight([
    spec('A', ['src/core/a.ts', 'docs/x.md']),
    spec('B', ['src/core/**']),
    spec('C', ['src/ui/b.ts']),
    spec('D', ['docs/**/*.md']),
    spec('E', []),
  ]);
  assert.deepEqual(
    r.pairs.map((p) => [p.a, p.b]),
    [
      ['A', 'B'],
      ['A', 'D'],
    ],
  );
  assert.deepEqual(r.pairs[0]!.shared, [{ a: 'src/core/a.ts', b: 'src/core/**' }]);
  assert.deepEqual(r.pairs[1]!.shared, [{ a: 'docs/x.md', b: 'docs/**/*.md' }]);
  assert.deepEqual(r.unscoped, ['E']);
});

test('pairs ordered by dependencies are flagged and get no suggestion', () => {
  const r = preflight([spec('A', ['x.ts']), spec('M', ['m.ts'], ['A']), spec('B', ['x.ts'], ['M']), spec('C', ['x.ts'])]);
  const ab = r.pairs.find((p) => p.a === 'A' && p.b === 'B')!;
  assert.equal(ab.ordered, true);
  assert.equal(r.pairs.find((p) => p.a === 'A' && p.b === 'C')!.ordered, false);
  assert.ok(!r.sequence.some((e) => (e.ticketId === 'B' && e.dependsOn === 'A') || (e.ticketId === 'A' && e.dependsOn === 'B')));
  assert.equal(r.sequence.length, 2); // A–C and B–C
});

test('sequence suggestions prefer higher priority first and never create a cycle', () => {
  const r = preflight([spec('A', ['x.ts'], [], { priority: 'P3' }), spec('B', ['x.ts'], [], { priority: 'P0' })]);
  assert.deepEqual(r.sequence, [{ ticketId: 'A', dependsOn: 'B' }]);
  const rng = new Rng(5);
  for (let k = 0; k < 40; k++) {
    const t = randomDag(rng, { shape: rng.pick(DAG_SHAPES), size: rng.int(5, 60), priorities: ['P0', 'P1', 'P2', 'P3'] });
    const res = preflight(t);
    const withEdges = t.map((s) => ({ ...s, dependsOn: [...s.dependsOn, ...res.sequence.filter((e) => e.ticketId === s.id).map((e) => e.dependsOn)] }));
    assert.deepEqual(validateGraph(withEdges), [], 'adding all suggested edges keeps the graph acyclic');
    // after adding them, every overlapping pair is ordered
    assert.ok(preflight(withEdges).pairs.every((p) => p.ordered));
  }
});

test('the index finds exactly the pairs of the naive all-pairs method (random inputs)', () => {
  const rng = new Rng(2024);
  const extra = ['**', '**/*.ts', 'src/*/a.ts', 'src/c*', '*.md', 'src', 'test/**/x.test.ts', 'src/core/a.ts/inner', 'src/?i/b.ts'];
  for (let round = 0; round < 150; round++) {
    const n = rng.int(2, 40);
    const t = Array.from({ length: n }, (_, i) => {
      const files = randomScope(rng);
      if (rng.bool(0.1)) files.push(rng.pick(extra));
      if (rng.bool(0.05)) files.length = 0;
      return spec(`T${i}`, files);
    });
    const fast = preflight(t).pairs.map((p) => [p.a, p.b]);
    assert.deepEqual(fast, naiveOverlapPairs(t), `round ${round}`);
  }
});

// Its speed is not timed here (a loaded machine fails any fixed limit): the index's result
// equals all pairs' on random graphs (above), and this is its answer at scale.
test('indexed preflight on 2,000 tickets finds the overlapping pairs', () => {
  const rng = new Rng(77);
  const areas = Array.from({ length: 200 }, (_, i) => `pkg${i}`);
  const t = Array.from({ length: 2000 }, (_, i) => spec(`T${i}`, [`${rng.pick(areas)}/src/${rng.int(0, 30)}.ts`, `${rng.pick(areas)}/test/*.ts`]));
  const r = preflight(t);
  assert.ok(r.pairs.length > 0);
  assert.ok(r.pairs.every((p) => p.shared.length > 0));
});
