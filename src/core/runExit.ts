// What a run's end means, decided from facts alone (no ports): who ended it, whether its work
// is kept on a WIP ref, its outcome, the words on the run and the reason a failure gives.
import type { Run, RunOutcome } from './model';
import { matchesPath } from './paths';
import type { AgentExit } from './ports';

export interface ExitReading {
  /** The exit, with a "done" agent's exit code read as 0 (Orchard ended its session). */
  exit: AgentExit;
  /** Orchard stopped it before it said done (Stop All, pause) or the user pressed Ctrl-C: never merged, never counted. */
  stopped: boolean;
  /** Its work goes to a WIP ref before anything else: it timed out, failed or was stopped. */
  failedRun: boolean;
}

/** Who ended the attempt (README "Failure classes"); `cancelled`: its ticket was cancelled meanwhile. */
export function readExit(exit: AgentExit, cancelled: boolean): ExitReading {
  const stopped = !exit.saidDone && !exit.timedOut && !cancelled && (exit.stoppedByOrchard !== undefined || exit.signal === 'SIGINT');
  if (exit.saidDone && exit.exitCode !== 0 && !exit.problem && !exit.timedOut) exit = { ...exit, exitCode: 0 };
  return { exit, stopped, failedRun: exit.timedOut || exit.problem !== undefined || exit.exitCode !== 0 || stopped };
}

/** The WIP commit's words for a failed or stopped attempt. */
export function wipMessage(ticketId: string, run: Run, exit: AgentExit): string {
  return `orchard: ${ticketId} attempt ${run.attempt} stopped (${exit.timedOut ? 'timeout' : (exit.problem ?? `exit ${exit.exitCode ?? exit.signal}`)})`;
}

/** Problems the exit itself tells of (the workspace's inspection adds its own). */
export function exitProblems(exit: AgentExit): string[] {
  if (exit.problem === 'output-loop') return ['the agent looped printing output'];
  if (exit.problem === 'outside-worktree') {
    return [
      `the agent worked in your checkout (${exit.outsideAt ?? '?'}), outside its worktree, and was stopped; Orchard changed nothing there: check "git status" in your checkout`,
    ];
  }
  return [];
}

export interface ExitFacts {
  reading: ExitReading;
  cancelled: boolean;
  problems: string[];
  /** What the run changed (collected from its worktree). */
  changes: { files: string[]; commits: number };
  /** A review loop's approving step with nothing to commit did its job. */
  approvalIsTheWork: boolean;
  /** The ticket's files and the patterns the run was granted besides. */
  ticketFiles: string[];
  granted: string[];
}

export interface ExitJudgement {
  outcome: RunOutcome;
  /** Why a stopped run stopped ("interrupted: …"): it starts again, not as a retry. */
  stoppedWhy?: string;
  /** Files changed outside its ticket's files and locks: merged, with this warning. */
  warning?: string;
  /** The run's end in words (undefined when there is nothing to say). */
  message?: string;
}

export function judgeExit(f: ExitFacts): ExitJudgement {
  const { exit, stopped } = f.reading;
  const outcome: RunOutcome = f.cancelled
    ? 'cancelled'
    : exit.timedOut
      ? 'timeout'
      : f.problems.length
        ? 'failed'
        : stopped || exit.rateLimited
          ? 'crashed'
          : exit.exitCode === 0
            ? f.changes.commits > 0 || f.approvalIsTheWork
              ? 'succeeded'
              : 'no-changes'
            : 'failed';
  const stoppedWhy = stopped
    ? exit.stoppedByOrchard !== undefined
      ? `interrupted: stopped by Orchard (${exit.stoppedByOrchard})`
      : 'interrupted by the user (Ctrl-C in its terminal)'
    : undefined;
  const outside = f.ticketFiles.length ? f.changes.files.filter((file) => ![...f.ticketFiles, ...f.granted].some((p) => matchesPath(p, file))) : [];
  const warning = outside.length
    ? `warning: changed files outside its ticket's files (${f.ticketFiles.join(', ')}): ${outside.slice(0, 10).join(', ')}${outside.length > 10 ? ` and ${outside.length - 10} more` : ''}`
    : undefined;
  const message =
    [
      stoppedWhy ?? (exit.rateLimited && outcome === 'crashed' ? `rate limited: ${exit.exitCode === 0 ? 'its CLI said so' : exitInWords(exit)}` : undefined),
      f.problems.length ? f.problems.join('; ') : exit.signal && !stoppedWhy ? `ended by ${exit.signal}` : undefined,
      warning,
    ]
      .filter(Boolean)
      .join('; ') || undefined;
  return { outcome, ...(stoppedWhy !== undefined && { stoppedWhy }), ...(warning !== undefined && { warning }), ...(message !== undefined && { message }) };
}

/** Why a run that failed (not stopped, not cancelled) failed, for its retry or the human. */
export function failureWhy(outcome: RunOutcome, exit: AgentExit, problems: readonly string[], timeoutMs: number, wipRef?: string): string {
  if (outcome === 'timeout') return `timed out after ${Math.round(timeoutMs / 60_000)} min${wipRef ? `; partial work on ${wipRef}` : ''}`;
  if (problems.length) return problems.join('; ');
  if (outcome === 'no-changes') return 'the agent exited without committing changes';
  return exit.explanation ?? exitInWords(exit);
}

/** How an agent process ended: "exited with code 1", "was killed by SIGKILL" (not "exited with code SIGKILL"). */
export function exitInWords(exit: AgentExit): string {
  if (exit.exitCode !== null && exit.exitCode !== undefined) return `the agent exited with code ${exit.exitCode}`;
  if (exit.signal && /^SIG[A-Z0-9]+$/.test(exit.signal)) return `the agent was killed by ${exit.signal}`;
  return `the agent ended without an exit code${exit.signal ? ` (${exit.signal})` : ''}`;
}

/**
 * Not the ticket's failure, so never counted against maxRetries: ended by Orchard's own stop
 * (recovery marks it "interrupted", Stop All, its runner killed with Orchard), by the user's
 * Ctrl-C, or by a rate limit or an overloaded service (the profile's trouble).
 */
export function wasInterrupted(r: Run): boolean {
  return (
    (r.outcome === 'crashed' && (!!r.message?.startsWith('interrupted') || !!r.message?.startsWith('rate limited'))) || !!r.message?.includes('runner vanished')
  );
}
