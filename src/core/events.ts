// The append-only history. State is a fold of these events (see reduce.ts).
import type { Escalation, EscalationAnswer } from './escalations';
import type { GateResult, Lock, MergeAttempt, Run, RunOutcome, TicketSpec, TicketStatus } from './model';

interface Base {
  /** Sequence number, strictly increasing from 1. */
  seq: number;
  /** Clock time (ms). */
  at: number;
}

export type OrchardEventBody =
  | { type: 'ticket-added'; ticket: TicketSpec }
  | { type: 'ticket-edited'; id: string; patch: Partial<Omit<TicketSpec, 'id'>> }
  | { type: 'ticket-status'; id: string; from: TicketStatus; to: TicketStatus; reason?: string; notBefore?: number }
  | { type: 'run-started'; run: Run }
  | {
      type: 'run-progress';
      runId: string;
      progress?: number;
      message?: string;
      pid?: number;
      worktree?: string;
      branch?: string;
      base?: string;
      startHead?: string;
    }
  | {
      type: 'run-ended';
      runId: string;
      outcome: RunOutcome;
      exitCode?: number;
      filesChanged?: string[];
      commits?: number;
      message?: string;
    }
  | { type: 'lock-acquired'; lock: Lock }
  | { type: 'lock-renewed'; runId: string; expiresAt: number }
  | { type: 'lock-released'; runId: string; patterns?: string[]; reason: string }
  | { type: 'ticket-merged'; id: string; commit: string }
  | { type: 'escalation-raised'; escalation: Escalation }
  | { type: 'escalation-answered'; id: string; answer: EscalationAnswer }
  /** Cost and tokens of a run so far (cumulative). */
  | { type: 'run-usage'; runId: string; usage: import('./model').Usage }
  /** New starts are paused (budget reached) with the reason, or resumed (no reason). */
  | { type: 'starts-paused'; reason?: string }
  | { type: 'batch-started' }
  | { type: 'batch-ended' }
  /** The user paused or stopped the batch: it stays paused across a restart until started again. */
  | { type: 'batch-paused' }
  // Gates and merging (core/gates.ts, core/mergeQueue.ts)
  | { type: 'gate-started'; runId: string; gate: string; kind: 'command' | 'reviewer' }
  | { type: 'gate-finished'; runId: string; result: GateResult }
  /** A reviewer rejected the work: the ticket goes back to its developer with the feedback. */
  | { type: 'review-rejected'; id: string; runId: string; gate: string; round: number; feedback: string }
  /** Text for the next run's prompt (feedback, conflict, failing output). */
  | { type: 'ticket-handoff'; id: string; context: string }
  | { type: 'merge-attempted'; id: string; runId: string; attempt: MergeAttempt }
  | { type: 'merge-conflict'; id: string; runId: string; files: string[]; predicted?: boolean }
  /** The human picked a way out of a conflict. */
  | { type: 'merge-conflict-handled'; id: string; how: 'resolving' | 'resolved' | 'sent-back' | 'kept' | 'discarded' | 'merge-now' }
  | { type: 'ticket-discarded'; id: string; ref?: string }
  /** A person reviewed a ticket waiting for review (core/review.ts). */
  | {
      type: 'review-decided';
      id: string;
      runId: string;
      decision: import('./review').ReviewDecision;
      by: string;
      summary?: string;
      comments?: import('./review').ReviewComment[];
    }
  /** The agent's verdict on what it reviewed (a review step of a workflow loop). */
  | { type: 'run-verdict'; runId: string; verdict: 'approve' | 'reject' }
  /** A running ticket delegated a subtask (`orchard-agent subtask`); with wait, its run waits until the subtask is merged. */
  | { type: 'subtask-requested'; runId: string; requestId: string; subtaskId: string; wait: boolean }
  /** The waiting run was answered: its subtask is merged (it continues on top of it) or can no longer be. */
  | { type: 'subtask-settled'; runId: string; subtaskId: string; merged: boolean };

export type OrchardEvent = Base & OrchardEventBody;
export type OrchardEventType = OrchardEvent['type'];
