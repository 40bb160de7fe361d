// Retry policy (defaults: 3 retries, BACKOFF = [1, 5, 15] min, then the human queue as
// "agent-failed"). Pure: randomness for jitter is passed in.
//
// - attemptsSoFar counts the retries already made for the ticket (0 on its first failure),
//   so a ticket is tried at most 1 + maxRetries times.
// - A rate limit is not the ticket's fault: it does not count as an attempt, never escalates,
//   and asks the caller to pause the agent profile (see circuitBreaker.ts).
// - A merge conflict goes to the human at once (escalation trigger "conflict"): they choose
//   between sending it back to the agent with the conflict, keeping the branch, or discarding.
// - Every retry carries a plain-text context for the next prompt: what went wrong last time.
import type { RunOutcome } from './model';

export const FAILURE_KINDS = ['timeout', 'crash', 'rate-limit', 'gate-failed', 'merge-conflict', 'test-failed-after-merge', 'no-changes'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface RetryPolicy {
  maxRetries: number;
  /** Wait before retry n (0-based); the last value repeats if there are more retries. */
  backoffMinutes: readonly number[];
  /** 0..1: the delay is spread uniformly over delay × (1 ± jitter). */
  jitter: number;
  /** Returns a number in [0, 1). */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  backoffMinutes: [1, 5, 15],
  jitter: 0.2,
  random: () => 0.5, // no jitter unless the caller injects randomness
};

export interface FailureInfo {
  kind: FailureKind;
  /** One line: what happened (exit code, gate name, …). */
  message?: string;
  /** Tail of the relevant output (agent log, gate output, test output). */
  output?: string;
  /** Files involved (conflicted files, failing test files). */
  files?: readonly string[];
  /** For rate limits: how long the agent CLI said to wait. */
  retryAfterMs?: number;
  /** For timeouts: where the partial work was saved (WIP ref). */
  wipRef?: string;
}

export type RetryDecision =
  | {
      retry: true;
      /** How long to wait before the ticket may start again (Ticket.notBefore = now + delayMs). */
      delayMs: number;
      /** Whether this failure used up one of the ticket's retries. */
      countsAsAttempt: boolean;
      /** Rate limit: pause the agent profile rather than blame the ticket. */
      pauseProfile: boolean;
      /** Plain text to put in the next prompt. */
      context: string;
    }
  | {
      retry: false;
      escalate: 'agent-failed' | 'conflict';
      /** Why it is not retried (for the ticket's reason and the escalation). */
      reason: string;
      /** Everything known about the failure, for the escalation's context. */
      context: string;
    };

export const MAX_OUTPUT_IN_CONTEXT = 4000;

/** Base backoff (no jitter) before retry n (0-based). */
export function backoffMs(retryIndex: number, policy: Pick<RetryPolicy, 'backoffMinutes'> = DEFAULT_RETRY_POLICY): number {
  const list = policy.backoffMinutes;
  if (list.length === 0) return 0;
  const m = list[Math.min(Math.max(0, retryIndex), list.length - 1)]!;
  return Math.max(0, m) * 60_000;
}

/** delay × (1 ± jitter), deterministic given random(). */
export function withJitter(delayMs: number, jitter: number, random: () => number): number {
  const j = Math.min(1, Math.max(0, Number.isFinite(jitter) ? jitter : 0));
  const r = Math.min(1, Math.max(0, random()));
  return Math.max(0, Math.round(delayMs * (1 + j * (2 * r - 1))));
}

const WHAT: Record<FailureKind, string> = {
  timeout: 'timed out before finishing',
  crash: 'crashed (the agent process exited with an error)',
  'rate-limit': 'was stopped by a rate limit of the agent service',
  'gate-failed': 'did not pass the checks required before merging',
  'merge-conflict': 'conflicted with changes already merged into the target branch',
  'test-failed-after-merge': 'broke the tests once merged with the latest target branch',
  'no-changes': 'ended without changing any file',
};

const ADVICE: Record<FailureKind, string> = {
  timeout: 'Work in smaller steps and commit as you go; continue from the partial work already in the worktree.',
  crash: 'Check the output below for the cause and avoid repeating the step that failed.',
  'rate-limit': 'Continue where the previous attempt stopped.',
  'gate-failed': 'Fix the problems reported below, then make sure the checks pass.',
  'merge-conflict': 'Rebase your changes onto the latest target branch and resolve the conflicts.',
  'test-failed-after-merge': 'Your branch now starts from the latest target branch; make the failing tests below pass together with the changes merged since.',
  'no-changes': 'The ticket needs changes in the repository; make them (or explain with `orchard-agent escalate` why none are needed).',
};

function tail(s: string, n: number): string {
  return s.length <= n ? s : '…' + s.slice(s.length - n);
}

/** The text describing a failure, for the next prompt or an escalation. */
export function failureContext(f: FailureInfo, attemptNumber: number): string {
  const lines = [`Previous attempt ${attemptNumber} ${WHAT[f.kind]}${f.message ? `: ${f.message}` : '.'}`];
  if (f.wipRef) lines.push(`Its partial work was saved as ${f.wipRef} and is in the worktree.`);
  if (f.files?.length) lines.push(`Files involved: ${f.files.join(', ')}`);
  lines.push(ADVICE[f.kind]);
  if (f.output?.trim()) lines.push('', 'Output (last part):', tail(f.output.trimEnd(), MAX_OUTPUT_IN_CONTEXT));
  return lines.join('\n');
}

/**
 * What to do after a failure. attemptsSoFar: retries already made (0 on the first failure).
 */
export function retryDecision(failure: FailureKind | FailureInfo, attemptsSoFar: number, policy: Partial<RetryPolicy> = {}): RetryDecision {
  const p: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...policy };
  const f: FailureInfo = typeof failure === 'string' ? { kind: failure } : failure;
  const used = Math.max(0, Math.floor(attemptsSoFar));
  const context = failureContext(f, used + 1);

  if (f.kind === 'rate-limit') {
    const base = f.retryAfterMs !== undefined && f.retryAfterMs >= 0 ? f.retryAfterMs : backoffMs(0, p);
    // Jitter only lengthens a server-given wait (never retry before it said).
    const delayMs = f.retryAfterMs !== undefined ? base + Math.max(0, withJitter(base, p.jitter, p.random) - base) : withJitter(base, p.jitter, p.random);
    return { retry: true, delayMs, countsAsAttempt: false, pauseProfile: true, context };
  }
  if (f.kind === 'merge-conflict') {
    return {
      retry: false,
      escalate: 'conflict',
      reason: `merge conflict${f.files?.length ? ` in ${f.files.join(', ')}` : ''}`,
      context,
    };
  }
  if (used >= p.maxRetries) {
    return {
      retry: false,
      escalate: 'agent-failed',
      reason: `failed ${used + 1} time${used === 0 ? '' : 's'} (${p.maxRetries} retr${p.maxRetries === 1 ? 'y' : 'ies'} allowed); last: ${WHAT[f.kind]}`,
      context,
    };
  }
  return {
    retry: true,
    delayMs: withJitter(backoffMs(used, p), p.jitter, p.random),
    countsAsAttempt: true,
    pauseProfile: false,
    context,
  };
}

/** The failure kind of a run that ended, if it failed. */
export function failureKindOf(outcome: RunOutcome, opts: { rateLimited?: boolean } = {}): FailureKind | undefined {
  if (opts.rateLimited) return 'rate-limit';
  switch (outcome) {
    case 'timeout':
      return 'timeout';
    case 'crashed':
    case 'failed':
      return 'crash';
    case 'no-changes':
      return 'no-changes';
    default:
      return undefined;
  }
}
