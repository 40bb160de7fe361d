import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_POLICY, FAILURE_KINDS, backoffMs, failureContext, failureKindOf, retryDecision, withJitter } from '../../src/core/retry';

const MIN = 60_000;
const noJitter = { jitter: 0 };

describe('retryDecision', () => {
  test('the default policy: 3 retries with 1, 5, 15 minutes, then agent-failed', () => {
    assert.equal(DEFAULT_RETRY_POLICY.maxRetries, 3);
    const delays = [0, 1, 2].map((n) => {
      const d = retryDecision('crash', n, noJitter);
      assert.ok(d.retry);
      assert.equal(d.countsAsAttempt, true);
      assert.equal(d.pauseProfile, false);
      return d.delayMs;
    });
    assert.deepEqual(delays, [1 * MIN, 5 * MIN, 15 * MIN]);
    const last = retryDecision('crash', 3, noJitter);
    assert.equal(last.retry, false);
    if (!last.retry) {
      assert.equal(last.escalate, 'agent-failed');
      assert.match(last.reason, /failed 4 times \(3 retries allowed\)/);
    }
  });

  test('every retryable kind retries and then escalates as agent-failed', () => {
    for (const k of ['timeout', 'crash', 'gate-failed', 'test-failed-after-merge', 'no-changes'] as const) {
      assert.equal(retryDecision(k, 0).retry, true, k);
      const d = retryDecision(k, 3);
      assert.ok(!d.retry && d.escalate === 'agent-failed', k);
    }
    assert.equal(FAILURE_KINDS.length, 7);
  });

  test('merge conflict goes to the human at once as a conflict', () => {
    const d = retryDecision({ kind: 'merge-conflict', files: ['src/a.ts', 'src/b.ts'] }, 0);
    assert.ok(!d.retry);
    if (!d.retry) {
      assert.equal(d.escalate, 'conflict');
      assert.equal(d.reason, 'merge conflict in src/a.ts, src/b.ts');
      assert.match(d.context, /Files involved: src\/a\.ts, src\/b\.ts/);
    }
  });

  test('rate limit does not count as an attempt, pauses the profile and never escalates', () => {
    const d = retryDecision({ kind: 'rate-limit', retryAfterMs: 90_000 }, 3, noJitter);
    assert.ok(d.retry);
    if (d.retry) {
      assert.equal(d.countsAsAttempt, false);
      assert.equal(d.pauseProfile, true);
      assert.equal(d.delayMs, 90_000);
    }
    const noHint = retryDecision('rate-limit', 10, noJitter);
    assert.ok(noHint.retry && noHint.delayMs === MIN);
  });

  test('jitter spreads delays within ±fraction and never shortens a retry-after', () => {
    const lo = retryDecision('timeout', 1, { jitter: 0.2, random: () => 0 });
    const hi = retryDecision('timeout', 1, { jitter: 0.2, random: () => 0.999999 });
    assert.ok(lo.retry && hi.retry);
    if (lo.retry && hi.retry) {
      assert.equal(lo.delayMs, 4 * MIN);
      assert.ok(hi.delayMs > 5.99 * MIN && hi.delayMs <= 6 * MIN);
    }
    const ra = retryDecision({ kind: 'rate-limit', retryAfterMs: 10_000 }, 0, { jitter: 0.5, random: () => 0 });
    assert.ok(ra.retry && ra.delayMs === 10_000);
    const ra2 = retryDecision({ kind: 'rate-limit', retryAfterMs: 10_000 }, 0, { jitter: 0.5, random: () => 1 });
    assert.ok(ra2.retry && ra2.delayMs === 15_000);
  });

  test('custom policy; the last backoff repeats', () => {
    const p = { maxRetries: 5, backoffMinutes: [2, 3], jitter: 0 };
    const ds = [0, 1, 2, 3, 4].map((n) => retryDecision('crash', n, p)).map((d) => (d.retry ? d.delayMs : -1));
    assert.deepEqual(ds, [2 * MIN, 3 * MIN, 3 * MIN, 3 * MIN, 3 * MIN]);
    assert.equal(retryDecision('crash', 5, p).retry, false);
    assert.equal(retryDecision('crash', 0, { maxRetries: 0 }).retry, false);
  });

  test('context for the next prompt describes the failure and keeps the output tail', () => {
    const out = 'x'.repeat(5000) + '\nAssertionError: expected 1 to equal 2';
    const d = retryDecision({ kind: 'gate-failed', message: 'npm test exited with 1', output: out }, 1);
    assert.ok(d.retry);
    if (d.retry) {
      assert.match(d.context, /^Previous attempt 2 did not pass the checks required before merging: npm test exited with 1/);
      assert.match(d.context, /AssertionError: expected 1 to equal 2$/);
      assert.ok(d.context.length < 4500);
    }
    assert.match(failureContext({ kind: 'timeout', wipRef: 'refs/orchard/wip/T1-1' }, 1), /saved as refs\/orchard\/wip\/T1-1/);
  });
});

describe('helpers', () => {
  test('backoffMs and withJitter', () => {
    assert.equal(backoffMs(0), MIN);
    assert.equal(backoffMs(99), 15 * MIN);
    assert.equal(backoffMs(0, { backoffMinutes: [] }), 0);
    assert.equal(
      withJitter(1000, 0.5, () => 0.5),
      1000,
    );
    assert.equal(
      withJitter(1000, 5, () => 0),
      0,
      'jitter is clamped to 1',
    );
    assert.equal(
      withJitter(1000, 0.1, () => 7),
      1100,
      'random is clamped to 1',
    );
  });

  test('failureKindOf', () => {
    assert.equal(failureKindOf('timeout'), 'timeout');
    assert.equal(failureKindOf('crashed'), 'crash');
    assert.equal(failureKindOf('failed'), 'crash');
    assert.equal(failureKindOf('no-changes'), 'no-changes');
    assert.equal(failureKindOf('succeeded'), undefined);
    assert.equal(failureKindOf('cancelled'), undefined);
    assert.equal(failureKindOf('failed', { rateLimited: true }), 'rate-limit');
  });
});
