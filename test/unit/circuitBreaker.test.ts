import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BREAKER_CONFIG,
  abandonProbe,
  breakerOf,
  breakerState,
  canStart,
  newBreaker,
  pausedProfiles,
  recordFailure,
  recordSuccess,
  tryStart,
  withBreaker,
  type Breaker,
} from '../../src/core/circuitBreaker';

const cfg = { failureThreshold: 3, windowMs: 1000, cooldownMs: 100, backoffFactor: 2, maxCooldownMs: 350, probeTimeoutMs: 10_000 };

function fail(b: Breaker, times: number[]): Breaker {
  for (const t of times) b = recordFailure(b, t, {}, cfg);
  return b;
}

describe('circuit breaker', () => {
  test('defaults: 5 failures, 60 s', () => {
    assert.equal(DEFAULT_BREAKER_CONFIG.failureThreshold, 5);
    assert.equal(DEFAULT_BREAKER_CONFIG.cooldownMs, 60_000);
  });

  test('closed until N failures inside the window', () => {
    let b = fail(newBreaker(), [0, 10]);
    assert.equal(breakerState(b, 20), 'closed');
    assert.ok(canStart(b, 20, cfg));
    b = recordFailure(b, 30, {}, cfg);
    assert.equal(breakerState(b, 30), 'open');
    assert.equal(b.openUntil, 130);
    assert.equal(canStart(b, 129, cfg), false);
    const d = tryStart(b, 50, cfg);
    assert.ok(!d.allowed && d.retryAt === 130);
  });

  test('failures outside the window do not add up', () => {
    const b = fail(newBreaker(), [0, 600, 1100, 1700]);
    assert.equal(breakerState(b, 1700), 'closed');
    assert.deepEqual(b.failures, [1100, 1700]);
  });

  test('an explicit rate limit with retry-after opens at once until then', () => {
    const b = recordFailure(newBreaker(), 1000, { rateLimit: true, retryAfterMs: 5000 }, cfg);
    assert.equal(breakerState(b, 1000), 'open');
    assert.equal(b.reason, 'rate limited');
    assert.equal(breakerState(b, 5999), 'open');
    assert.equal(breakerState(b, 6000), 'half-open');
  });

  test('half-open lets exactly one probe through; success closes', () => {
    const b = fail(newBreaker(), [0, 1, 2]);
    const first = tryStart(b, 200, cfg);
    assert.ok(first.allowed && first.probe);
    const second = tryStart(first.breaker, 201, cfg);
    assert.equal(second.allowed, false);
    const closed = recordSuccess(second.breaker, 300);
    assert.equal(breakerState(closed, 300), 'closed');
    assert.equal(closed.trips, 0);
    const again = tryStart(closed, 301, cfg);
    assert.ok(again.allowed && !again.probe);
  });

  test('a failed probe opens again with a longer cooldown (capped)', () => {
    let b = fail(newBreaker(), [0, 1, 2]); // open until 102, trips 1
    let t = 102;
    const cooldowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = tryStart(b, t, cfg);
      assert.ok(s.allowed && s.probe);
      b = recordFailure(s.breaker, t, {}, cfg);
      assert.equal(breakerState(b, t), 'open');
      cooldowns.push(b.openUntil! - t);
      t = b.openUntil!;
    }
    assert.deepEqual(cooldowns, [200, 350, 350, 350]);
  });

  test('late failures while open change nothing; a stale or abandoned probe frees the slot', () => {
    const b = fail(newBreaker(), [0, 1, 2]);
    assert.deepEqual(recordFailure(b, 50, {}, cfg), b);
    const p = tryStart(b, 200, cfg);
    assert.ok(p.allowed);
    assert.equal(tryStart(p.breaker, 300, cfg).allowed, false);
    assert.equal(tryStart(abandonProbe(p.breaker), 300, cfg).allowed, true);
    assert.equal(tryStart(p.breaker, 200 + cfg.probeTimeoutMs, cfg).allowed, true);
  });

  test('board per profile: one paused profile does not stop the others', () => {
    let board = {};
    board = withBreaker(board, 'claude', recordFailure(breakerOf(board, 'claude'), 0, { rateLimit: true, retryAfterMs: 1000 }, cfg));
    board = withBreaker(board, 'codex', recordFailure(breakerOf(board, 'codex'), 0, {}, cfg));
    assert.deepEqual(pausedProfiles(board, 10, cfg), [{ profile: 'claude', state: 'open', retryAt: 1000 }]);
    assert.ok(canStart(breakerOf(board, 'aider'), 10, cfg));
    assert.deepEqual(pausedProfiles(board, 1000, cfg), []);
  });
});
