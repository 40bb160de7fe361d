import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesPath, normalizePattern, PatternIndex, patternsOverlap, scopeProblem, staticPrefix } from '../../src/core/paths';
import { Rng, randomScope } from '../../src/core/random';

test('literals: equal, directory above, siblings', () => {
  assert.ok(patternsOverlap('src/a.ts', 'src/a.ts'));
  assert.ok(patternsOverlap('src', 'src/core/a.ts'), 'a literal directory covers below it');
  assert.ok(patternsOverlap('src/core/a.ts', 'src/'));
  assert.ok(!patternsOverlap('src/a.ts', 'src/a.tsx'));
  assert.ok(!patternsOverlap('src/core', 'src/corex'));
  assert.ok(patternsOverlap('./src\\core', 'src/core/x'));
});

test('globs', () => {
  assert.ok(patternsOverlap('src/**', 'src/a/b/c.ts'));
  assert.ok(patternsOverlap('**/*.md', 'docs/x.md'));
  assert.ok(!patternsOverlap('**/*.md', 'docs/*.ts'));
  assert.ok(patternsOverlap('**/*.md', 'docs/x.ts'), 'a literal also covers what is below it (docs/x.ts/y.md)');
  assert.ok(patternsOverlap('src/*.ts', 'src/a.ts'));
  assert.ok(!patternsOverlap('src/*.ts', 'src/a/b.ts'));
  assert.ok(patternsOverlap('src/*/a.ts', 'src/**/a.ts'));
  assert.ok(patternsOverlap('src/a?.ts', 'src/*b.ts'));
  assert.ok(!patternsOverlap('src/ui/*', 'src/core/*'));
  assert.ok(!patternsOverlap('src/*', 'src/core/a.ts'), 'a glob segment matches one segment; only literals cover what is below');
});

test('matchesPath and staticPrefix', () => {
  assert.ok(matchesPath('src/**/*.ts', 'src/a/b.ts'));
  assert.ok(!matchesPath('src/*.ts', 'lib/a.ts'));
  assert.equal(staticPrefix('src/core/*.ts'), 'src/core');
  assert.equal(staticPrefix('**/x'), '');
  assert.equal(normalizePattern('./a//b/'), 'a/b');
  assert.match(scopeProblem('../x')!, /leaves the repository/);
  assert.equal(scopeProblem('src/x'), undefined);
});

test('PatternIndex.overlapping equals a linear scan (random patterns)', () => {
  const rng = new Rng(8);
  const extra = ['**', '*', 'src/*', 'src/**/a.ts', '*/core/*.ts', 'docs', 'src/c?re/**'];
  for (let round = 0; round < 100; round++) {
    const idx = new PatternIndex<number>();
    const pats: string[] = [];
    for (let k = rng.int(0, 30); k > 0; k--) {
      const p = rng.bool(0.15) ? rng.pick(extra) : rng.pick(randomScope(rng));
      pats.push(p);
      idx.add(p, pats.length - 1);
    }
    const q = rng.bool(0.2) ? rng.pick(extra) : rng.pick(randomScope(rng));
    const got = idx
      .overlapping(q)
      .map((x) => x.value)
      .sort((a, b) => a - b);
    const want = pats
      .map((p, i) => [p, i] as const)
      .filter(([p]) => patternsOverlap(p, q))
      .map(([, i]) => i);
    assert.deepEqual(got, want, `query ${q} over ${pats.join(' ')}`);
    assert.equal(idx.size, pats.length);
  }
});
