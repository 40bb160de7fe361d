// The retry desk owns what a failed attempt leads to — another attempt after a backoff, the
// human, or failure once its retries are used up — and which agent profile runs next: a
// rate-limited profile is paused (its circuit breaker) and the ticket goes to a fallback.
import { breakerOf, canStart, recordFailure, recordSuccess, withBreaker, type BreakerBoard } from './circuitBreaker';
import type { DeskContext } from './deskContext';
import type { Run, Ticket } from './model';
import type { Ports } from './ports';
import { retryDecision, type FailureKind } from './retry';
import { chooseProfile, failuresByProfile, type ProfileDecision } from './roles';
import { wasInterrupted } from './runExit';

/** What the desk needs beyond every desk's context. */
export interface RetryDeskContext extends DeskContext {
  ports: Pick<Ports, 'workspace' | 'clock' | 'random'>;
  /** Multiplies retry backoff (tests and the demo shrink it). */
  retryScale(): number;
}

export class RetryDesk {
  /** Circuit breakers per agent profile (rate limits); kept in memory. */
  private breakers: BreakerBoard = {};

  constructor(private readonly ctx: RetryDeskContext) {}

  private get random(): () => number {
    return this.ctx.ports.random ?? (() => 0.5);
  }

  /** A failed attempt: its locks go; the ticket is retried after a backoff, escalated, or failed once its retries are used up. */
  async afterFailure(ticketId: string, runId: string, kind: FailureKind, why: string, output?: string): Promise<void> {
    await this.ctx.commit([{ type: 'lock-released', runId, reason: why }]);
    const t = this.ctx.ticket(ticketId);
    if (t.status === 'cancelled') return;
    const maxRetries = this.ctx.settings().maxRetries;
    const used = this.countedAttempts(ticketId) - 1;
    const d = retryDecision({ kind, message: why, output }, used, { maxRetries, random: this.random });
    if (d.retry) {
      const notBefore = this.ctx.ports.clock.now() + d.delayMs * this.ctx.retryScale();
      await this.ctx.transition(ticketId, 'ready', `retry ${used + 1}/${maxRetries}: ${why}`, notBefore);
    } else if (d.escalate === 'conflict') {
      await this.ctx.transition(ticketId, 'escalated', d.reason);
    } else {
      await this.ctx.transition(ticketId, 'failed', `gave up after ${t.attempts} attempts: ${why}`);
    }
  }

  /**
   * Attempts that count against maxRetries: runs Orchard itself interrupted (its process died
   * while they ran; recovery ends them as "interrupted", or their runner was killed with it)
   * are not the ticket's failures; nor are attempts a person sent back from review.
   */
  private countedAttempts(ticketId: string): number {
    const state = this.ctx.state();
    const reviewed = new Set((state.tickets[ticketId]?.reviews ?? []).filter((d) => d.decision === 'request-changes').map((d) => d.runId));
    let n = 0;
    for (const r of Object.values(state.runs)) if (r.ticketId === ticketId && !wasInterrupted(r) && !reviewed.has(r.id)) n++;
    return Math.max(1, n);
  }

  /** The profile a run used (its ticket's, else the default). */
  profileOf(t: Ticket, run: Run): string {
    return run.profile ?? t.agent ?? this.ctx.settings().defaultAgent ?? 'default';
  }

  /** The profile for the next run of a ticket: its role's, or the next fallback (a paused or failing one is passed over). */
  chooseProfile(t: Ticket, now: number): ProfileDecision {
    return chooseProfile(t, this.ctx.settings(), {
      pausedUntil: (p) => {
        const b = breakerOf(this.breakers, p);
        return canStart(b, now) ? undefined : (b.openUntil ?? Infinity);
      },
      failures: failuresByProfile(Object.values(this.ctx.state().runs), t.id),
    });
  }

  /** A run of the profile succeeded: its breaker closes. */
  succeeded(profile: string): void {
    this.breakers = withBreaker(this.breakers, profile, recordSuccess(breakerOf(this.breakers, profile), this.ctx.ports.clock.now()));
  }

  /**
   * A rate limit is the profile's trouble, not the ticket's: the profile pauses, the ticket does
   * not use up a retry and goes again after the pause — or at once on a fallback profile that is free.
   */
  async afterRateLimit(t: Ticket, run: Run): Promise<void> {
    const clock = this.ctx.ports.clock;
    const profile = this.profileOf(t, run);
    const d = retryDecision({ kind: 'rate-limit', message: 'rate limited' }, t.attempts - 1, { random: this.random });
    const delayMs = d.retry ? d.delayMs * this.ctx.retryScale() : 60_000 * this.ctx.retryScale();
    this.breakers = withBreaker(
      this.breakers,
      profile,
      recordFailure(breakerOf(this.breakers, profile), clock.now(), { rateLimit: true, retryAfterMs: delayMs }),
    );
    await this.ctx.commit([{ type: 'lock-released', runId: run.id, reason: 'rate limited' }]);
    const fallback = this.chooseProfile(t, clock.now());
    const notBefore = fallback.ok && fallback.profile !== profile ? undefined : clock.now() + delayMs;
    const until = new Date(clock.now() + delayMs).toISOString().slice(11, 19);
    await this.ctx.transition(
      t.id,
      'ready',
      `${profile} is rate limited; paused until ${until}${notBefore === undefined && fallback.ok ? `; trying ${fallback.profile}` : ''}`,
      notBefore,
    );
  }
}
