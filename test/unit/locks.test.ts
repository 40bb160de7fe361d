import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_GRACE_MS,
  DEFAULT_LEASE_MS,
  acquireEvents,
  checkGeneration,
  conflicts,
  describeConflicts,
  expired,
  holdersOf,
  isTakeoverable,
  locksOf,
  overdue,
  release,
  renew,
  sweepExpired,
  tryAcquire,
  uncoveredPaths,
  type LockTable,
} from '../../src/core/locks';
import type { Lock } from '../../src/core/model';
import { emptyState } from '../../src/core/model';
import { reduce } from '../../src/core/reduce';

const MIN = 60_000;
const empty: LockTable = { locks: [], generation: 0 };

function acquire(table: LockTable, runId: string, patterns: string[], now = 0, extra: { leaseMs?: number; graceMs?: number } = {}) {
  const r = tryAcquire(table, { runId, ticketId: `T-${runId}`, patterns, now, ...extra });
  assert.ok(r.ok, `expected ${runId} to get ${patterns.join(', ')}`);
  return r;
}

describe('conflicts', () => {
  const lock = (pattern: string, runId = 'r1'): Lock => ({ pattern, runId, ticketId: 'T1', expiresAt: 1000, generation: 1 });

  test('a glob and a path it can match conflict; disjoint ones do not', () => {
    const locks = [lock('src/auth/**')];
    assert.equal(conflicts(locks, ['src/auth/login.ts'], 'r2').length, 1);
    assert.equal(conflicts(locks, ['src/*/login.ts'], 'r2').length, 1);
    assert.equal(conflicts(locks, ['src/api/**', 'docs/x.md'], 'r2').length, 0);
  });

  test('a directory and a file below it conflict', () => {
    assert.equal(conflicts([lock('src/auth')], ['src/auth/a.ts'], 'r2').length, 1);
    assert.equal(conflicts([lock('src/auth/a.ts')], ['./src/auth/'], 'r2').length, 1);
  });

  test('a run never conflicts with itself', () => {
    assert.deepEqual(conflicts([lock('src/**', 'r1')], ['src/a.ts'], 'r1'), []);
  });

  test('reports each requested pattern against each holder', () => {
    const cs = conflicts([lock('a/**', 'r1'), lock('b/**', 'r3')], ['a/x', 'b/y', 'c/z'], 'r2');
    assert.deepEqual(
      cs.map((c) => [c.requested, c.holder.runId]),
      [
        ['a/x', 'r1'],
        ['b/y', 'r3'],
      ],
    );
    assert.match(describeConflicts(cs), /a\/x is locked by run r1 \(ticket T1, pattern a\/\*\*\)/);
  });

  test('with now, locks past expiry + grace do not count, locks inside grace still do', () => {
    const locks = [lock('a/**')];
    assert.equal(conflicts(locks, ['a/x'], 'r2', { now: 1000 + DEFAULT_GRACE_MS - 1 }).length, 1);
    assert.equal(conflicts(locks, ['a/x'], 'r2', { now: 1000 + DEFAULT_GRACE_MS }).length, 0);
  });
});

describe('tryAcquire', () => {
  test('grants every pattern with increasing generations and a 30-minute default lease', () => {
    const r = acquire(empty, 'r1', ['src/a.ts', './src/b/', 'src/a.ts'], 100);
    assert.equal(DEFAULT_LEASE_MS, 30 * MIN);
    assert.deepEqual(r.granted, [
      { pattern: 'src/a.ts', runId: 'r1', ticketId: 'T-r1', expiresAt: 100 + 30 * MIN, generation: 1 },
      { pattern: 'src/b', runId: 'r1', ticketId: 'T-r1', expiresAt: 100 + 30 * MIN, generation: 2 },
    ]);
    assert.equal(r.table.generation, 2);
    const r2 = acquire(r.table, 'r2', ['docs/**'], 200);
    assert.equal(r2.granted[0]!.generation, 3);
  });

  test('is all-or-nothing and returns the holders', () => {
    const t = acquire(empty, 'r1', ['src/auth/**']).table;
    const r = tryAcquire(t, { runId: 'r2', ticketId: 'T2', patterns: ['docs/a.md', 'src/auth/x.ts'], now: 1 });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.conflicts.map((c) => [c.requested, c.holder.runId, c.holder.pattern]),
      [['src/auth/x.ts', 'r1', 'src/auth/**']],
    );
    // the input table is untouched
    assert.equal(t.locks.length, 1);
    assert.equal(t.generation, 1);
  });

  test('does not mutate its input', () => {
    const t = acquire(empty, 'r1', ['a']).table;
    const frozen = JSON.stringify(t);
    acquire(t, 'r1', ['b'], 5);
    acquire(t, 'r2', ['c'], 5);
    assert.equal(JSON.stringify(t), frozen);
  });

  test('re-asking for held patterns renews instead of re-granting', () => {
    const t = acquire(empty, 'r1', ['a', 'b'], 0).table;
    const r = acquire(t, 'r1', ['b', 'c'], 10 * MIN);
    assert.deepEqual(
      r.granted.map((l) => [l.pattern, l.generation]),
      [['c', 3]],
    );
    assert.ok(r.table.locks.every((l) => l.expiresAt === 40 * MIN));
    assert.deepEqual(
      acquireEvents(r, 'r1').map((e) => e.type),
      ['lock-renewed', 'lock-acquired'],
    );
  });

  test('an expired lock is taken over only after the grace period', () => {
    const t = acquire(empty, 'r1', ['src/**'], 0, { leaseMs: 10 * MIN }).table;
    const early = tryAcquire(t, { runId: 'r2', ticketId: 'T2', patterns: ['src/x'], now: 10 * MIN + 1, graceMs: 5 * MIN });
    assert.equal(early.ok, false, 'inside the grace period the owner keeps its lock');
    const late = acquire(t, 'r2', ['src/x'], 15 * MIN, { graceMs: 5 * MIN });
    assert.deepEqual(
      late.takenOver.map((l) => l.runId),
      ['r1'],
    );
    assert.deepEqual(
      late.table.locks.map((l) => [l.runId, l.pattern, l.generation]),
      [['r2', 'src/x', 2]],
    );
    assert.deepEqual(acquireEvents(late, 'r2'), [
      { type: 'lock-released', runId: 'r1', patterns: ['src/**'], reason: 'expired; taken over' },
      { type: 'lock-acquired', lock: late.granted[0] },
    ]);
  });

  test('expired locks that are not in the way are left alone', () => {
    const t = acquire(empty, 'r1', ['a/**'], 0, { leaseMs: 1 }).table;
    const r = acquire(t, 'r2', ['b/**'], DEFAULT_GRACE_MS + 10);
    assert.deepEqual(r.takenOver, []);
    assert.equal(r.table.locks.length, 2);
  });

  test('acquire events replay through the reducer into the same table', () => {
    let s = emptyState();
    let seq = 0;
    let table: LockTable = { locks: s.locks, generation: s.lockGeneration };
    const apply = (r: ReturnType<typeof acquire>, runId: string) => {
      for (const body of acquireEvents(r, runId)) s = reduce(s, { ...body, seq: ++seq, at: 0 } as never);
      table = r.table;
    };
    apply(acquire(table, 'r1', ['a/**'], 0, { leaseMs: 1 }), 'r1');
    apply(acquire(table, 'r2', ['b'], 0), 'r2');
    apply(acquire(table, 'r3', ['a/x'], DEFAULT_GRACE_MS + 1), 'r3');
    apply(acquire(table, 'r2', ['b', 'c'], DEFAULT_GRACE_MS + 2), 'r2');
    const key = (ls: readonly Lock[]) => ls.map((l) => JSON.stringify(l)).sort();
    assert.deepEqual(key(s.locks), key(table.locks));
    assert.equal(s.lockGeneration, table.generation);
  });
});

describe('renew, release, expiry', () => {
  test('renew extends only that run', () => {
    let t = acquire(empty, 'r1', ['a', 'b'], 0).table;
    t = acquire(t, 'r2', ['c'], 0).table;
    const r = renew(t, 'r1', 20 * MIN);
    assert.equal(r.renewed, 2);
    assert.deepEqual(
      r.table.locks.map((l) => [l.runId, l.expiresAt]),
      [
        ['r1', 50 * MIN],
        ['r1', 50 * MIN],
        ['r2', 30 * MIN],
      ],
    );
    assert.equal(renew(t, 'nobody', 0).renewed, 0);
  });

  test('release all or some', () => {
    let t = acquire(empty, 'r1', ['a', 'b'], 0).table;
    t = acquire(t, 'r2', ['c'], 0).table;
    const some = release(t, 'r1', ['./b']);
    assert.deepEqual(
      some.released.map((l) => l.pattern),
      ['b'],
    );
    assert.deepEqual(
      some.table.locks.map((l) => l.pattern),
      ['a', 'c'],
    );
    const all = release(t, 'r1');
    assert.deepEqual(
      all.table.locks.map((l) => l.pattern),
      ['c'],
    );
    assert.equal(all.table.generation, t.generation, 'release never lowers the counter');
  });

  test('expired / overdue / sweep', () => {
    const locks: Lock[] = [
      { pattern: 'a', runId: 'r1', ticketId: 'T', expiresAt: 100, generation: 1 },
      { pattern: 'b', runId: 'r2', ticketId: 'T', expiresAt: 200, generation: 2 },
    ];
    assert.deepEqual(
      expired(locks, 150, 50).map((l) => l.pattern),
      ['a'],
    );
    assert.deepEqual(
      overdue(locks, 220, 50).map((l) => l.pattern),
      ['b'],
    );
    assert.equal(isTakeoverable(locks[1]!, 249, 50), false);
    assert.equal(isTakeoverable(locks[1]!, 250, 50), true);
    const s = sweepExpired({ locks, generation: 2 }, 1000, 50);
    assert.equal(s.removed.length, 2);
    assert.equal(s.table.locks.length, 0);
  });
});

describe('checkGeneration', () => {
  test('ok while the run holds what it was granted', () => {
    const r = acquire(empty, 'r1', ['a', 'b'], 0);
    assert.deepEqual(checkGeneration(r.table.locks, 'r1', r.granted), { ok: true });
    assert.deepEqual(checkGeneration(r.table.locks, 'r1', { a: 1, b: 2 }), { ok: true });
  });

  test('refuses a run whose lock was taken over, even if it re-acquired it later', () => {
    const r1 = acquire(empty, 'r1', ['src/**'], 0, { leaseMs: 1 });
    const r2 = acquire(r1.table, 'r2', ['src/**'], DEFAULT_GRACE_MS + 1);
    const c = checkGeneration(r2.table.locks, 'r1', r1.granted);
    assert.equal(c.ok, false);
    if (!c.ok)
      assert.deepEqual(
        c.lost.map((l) => [l.pattern, l.why, l.now?.runId]),
        [['src/**', 'taken-over', 'r2']],
      );
    // r2 releases, r1 acquires again: new generation, the old grant is still lost
    const back = acquire(release(r2.table, 'r2').table, 'r1', ['src/**'], DEFAULT_GRACE_MS + 2);
    assert.equal(back.granted[0]!.generation, 3);
    assert.equal(checkGeneration(back.table.locks, 'r1', r1.granted).ok, false);
    assert.equal(checkGeneration(back.table.locks, 'r1', back.granted).ok, true);
  });

  test('released locks and locks past grace are lost', () => {
    const r = acquire(empty, 'r1', ['a'], 0, { leaseMs: 10 });
    const gone = checkGeneration(release(r.table, 'r1').table.locks, 'r1', r.granted);
    assert.ok(!gone.ok && gone.lost[0]!.why === 'released');
    const late = checkGeneration(r.table.locks, 'r1', r.granted, { now: 10 + DEFAULT_GRACE_MS });
    assert.ok(!late.ok && late.lost[0]!.why === 'expired');
    assert.equal(checkGeneration(r.table.locks, 'r1', r.granted, { now: 10 + DEFAULT_GRACE_MS - 1 }).ok, true);
  });
});

describe('queries', () => {
  test('locksOf, holdersOf, uncoveredPaths', () => {
    let t = acquire(empty, 'r1', ['src/auth/**', 'README.md'], 0).table;
    t = acquire(t, 'r2', ['src/api/*.ts'], 0).table;
    assert.deepEqual(
      locksOf(t.locks, 'r2').map((l) => l.pattern),
      ['src/api/*.ts'],
    );
    assert.deepEqual(
      holdersOf(t.locks, 'src/api/x.ts').map((l) => l.runId),
      ['r2'],
    );
    assert.deepEqual(holdersOf(t.locks, 'src/api/deep/x.ts'), []);
    assert.deepEqual(uncoveredPaths(t.locks, 'r1', ['src/auth/a/b.ts', 'README.md', 'package.json']), ['package.json']);
  });
});
