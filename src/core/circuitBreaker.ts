// A circuit breaker per agent profile (the classic pattern: CLOSED → OPEN after a failure threshold →
// HALF_OPEN after a timeout). Used to pause a profile that is rate limited or keeps crashing
// while the other profiles keep going. Pure: breakers are plain data, time is passed in.
//
// closed     every start allowed; failures are counted in a sliding window; reaching
//            failureThreshold inside windowMs opens the breaker. An explicit rate limit
//            with a retry-after opens it at once until then.
// open       no start allowed until openUntil.
// half-open  after the cooldown: exactly one probe run may start. Its success closes the
//            breaker; its failure opens it again with a longer cooldown (doubling, capped).
//
// Only count failures that are the profile's fault (rate limits, crashes at start, auth
// errors); a failing test gate is the ticket's business, not the profile's.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerConfig {
  failureThreshold: number;
  windowMs: number;
  cooldownMs: number;
  /** Cooldown grows by this factor each time a probe fails (consecutive trips). */
  backoffFactor: number;
  maxCooldownMs: number;
  /** A probe that has not reported after this long no longer blocks another probe. */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  failureThreshold: 5,
  windowMs: 10 * 60_000,
  cooldownMs: 60_000,
  backoffFactor: 2,
  maxCooldownMs: 30 * 60_000,
  probeTimeoutMs: 30 * 60_000,
};

export interface Breaker {
  /** Stored state; 'open' turns into 'half-open' by time (see breakerState). */
  state: BreakerState;
  /** Times of recent failures (closed state), oldest first. */
  failures: number[];
  openedAt?: number;
  openUntil?: number;
  /** Consecutive openings without a success in between (drives the cooldown growth). */
  trips: number;
  /** When the half-open probe started, if one is running. */
  probeStartedAt?: number;
  /** Why it opened last (for the UI). */
  reason?: string;
}

export function newBreaker(): Breaker {
  return { state: 'closed', failures: [], trips: 0 };
}

function cfgOf(c: Partial<BreakerConfig> | undefined): BreakerConfig {
  return { ...DEFAULT_BREAKER_CONFIG, ...c };
}

/** The state at time now (an open breaker whose cooldown is over is half-open). */
export function breakerState(b: Breaker, now: number): BreakerState {
  if (b.state === 'open' && b.openUntil !== undefined && now >= b.openUntil) return 'half-open';
  return b.state;
}

function open(b: Breaker, now: number, until: number, reason: string): Breaker {
  return { state: 'open', failures: [], openedAt: now, openUntil: until, trips: b.trips + 1, reason };
}

function cooldown(trips: number, c: BreakerConfig): number {
  return Math.min(c.maxCooldownMs, c.cooldownMs * Math.pow(c.backoffFactor, Math.max(0, trips)));
}

export type StartDecision = { allowed: true; breaker: Breaker; probe: boolean } | { allowed: false; breaker: Breaker; retryAt?: number; reason: string };

/**
 * Whether a run of this profile may start now. In half-open state the first caller gets the
 * probe (probe: true) and the breaker records it; others are refused until it reports.
 */
export function tryStart(b: Breaker, now: number, config?: Partial<BreakerConfig>): StartDecision {
  const c = cfgOf(config);
  const s = breakerState(b, now);
  if (s === 'closed') return { allowed: true, breaker: b, probe: false };
  if (s === 'open') return { allowed: false, breaker: b, retryAt: b.openUntil, reason: `paused until cooldown ends${b.reason ? ` (${b.reason})` : ''}` };
  if (b.probeStartedAt !== undefined && now - b.probeStartedAt < c.probeTimeoutMs)
    return { allowed: false, breaker: b, reason: 'a probe run is checking whether the agent works again' };
  return { allowed: true, breaker: { ...b, state: 'half-open', probeStartedAt: now }, probe: true };
}

/** Without changing anything: may a run start now? */
export function canStart(b: Breaker, now: number, config?: Partial<BreakerConfig>): boolean {
  return tryStart(b, now, config).allowed;
}

export function recordSuccess(b: Breaker, _now: number): Breaker {
  return { state: 'closed', failures: [], trips: 0 };
}

export interface FailureNote {
  /** The agent reported a rate limit. */
  rateLimit?: boolean;
  /** How long the service asked to wait; opens the breaker at once until now + this. */
  retryAfterMs?: number;
  reason?: string;
}

export function recordFailure(b: Breaker, now: number, note: FailureNote = {}, config?: Partial<BreakerConfig>): Breaker {
  const c = cfgOf(config);
  const s = breakerState(b, now);
  const reason = note.reason ?? (note.rateLimit ? 'rate limited' : 'failures');
  if (note.retryAfterMs !== undefined && note.retryAfterMs >= 0) {
    const until = Math.max(now + note.retryAfterMs, s === 'open' ? (b.openUntil ?? 0) : 0);
    return open(b, now, until, reason);
  }
  if (s === 'half-open') return open(b, now, now + cooldown(b.trips, c), `probe failed: ${reason}`);
  if (s === 'open') return b; // late report from a run started before it opened
  const failures = [...b.failures.filter((t) => now - t < c.windowMs), now];
  if (failures.length >= c.failureThreshold)
    return open(b, now, now + cooldown(b.trips, c), `${failures.length} ${reason} within ${Math.round(c.windowMs / 60_000)} min`);
  return { ...b, failures };
}

/** A probe that will not report (its run was cancelled): let another probe start. */
export function abandonProbe(b: Breaker): Breaker {
  const { probeStartedAt: _drop, ...rest } = b;
  return rest;
}

/** Breakers of all profiles, keyed by profile name. */
export type BreakerBoard = Readonly<Record<string, Breaker>>;

export function breakerOf(board: BreakerBoard, profile: string): Breaker {
  return board[profile] ?? newBreaker();
}

export function withBreaker(board: BreakerBoard, profile: string, b: Breaker): BreakerBoard {
  return { ...board, [profile]: b };
}

/** Profiles that cannot start a run now, with when they may try again. */
export function pausedProfiles(
  board: BreakerBoard,
  now: number,
  config?: Partial<BreakerConfig>,
): { profile: string; state: BreakerState; retryAt?: number }[] {
  return Object.entries(board)
    .filter(([, b]) => !canStart(b, now, config))
    .map(([profile, b]) => ({
      profile,
      state: breakerState(b, now),
      ...(b.openUntil !== undefined && breakerState(b, now) === 'open' ? { retryAt: b.openUntil } : {}),
    }))
    .sort((a, b) => (a.profile < b.profile ? -1 : 1));
}
