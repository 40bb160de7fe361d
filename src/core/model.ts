// Orchard's vocabulary as plain data. Everything here is serialisable: the persisted shape
// of state is exactly these interfaces (live objects such as processes live in infra).
import type { Escalation } from './escalations';

export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const TICKET_STATUSES = [
  'backlog',
  'ready',
  'running',
  'gating',
  'in-review',
  'queued-for-merge',
  'merging',
  'done',
  'blocked',
  'escalated',
  'failed',
  'cancelled',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Statuses a ticket never leaves on its own (retry or reopen are explicit commands). */
export const FINAL_STATUSES: ReadonlySet<TicketStatus> = new Set(['done', 'failed', 'cancelled']);
/** Statuses in which a run holds a slot. */
export const ACTIVE_STATUSES: ReadonlySet<TicketStatus> = new Set(['running', 'gating', 'merging']);

export type Mode = 'queue' | 'locking' | 'isolation';
export const MODES: readonly Mode[] = ['queue', 'locking', 'isolation'];

/** What a user (or an importer) describes. */
export interface TicketSpec {
  id: string;
  title: string;
  prompt: string;
  priority: Priority;
  dependsOn: string[];
  /** Estimated scope: paths or globs relative to the repository root. */
  files: string[];
  labels: string[];
  /** Agent profile name (claude, codex, aider, gemini, copilot, opencode, fake, or custom). */
  agent?: string;
  /** Estimate in minutes. */
  estimate?: number;
  /** Run timeout of this ticket in minutes (default: settings.runTimeoutMinutes). */
  timeoutMinutes?: number;
  /** Role (architect, developer, tester, reviewer, security, planner or the user's own): picks the agent profile through Settings.roles. */
  role?: string;
}

export interface Ticket extends TicketSpec {
  status: TicketStatus;
  /** Why the ticket is blocked, failed, escalated or cancelled. */
  reason?: string;
  createdAt: number;
  /** When it last became ready (for aging). */
  readyAt?: number;
  /** Number of runs started. */
  attempts: number;
  /** Earliest time a retry may start (backoff). */
  notBefore?: number;
  /** Commit the ticket was merged as. */
  mergedAs?: string;
  /** Reviewer rejections so far (each sends the ticket back to its developer agent). */
  reviewRounds?: number;
  /** When it last started waiting for a person's review (status in-review). */
  reviewSince?: number;
  /** How many times a person's review sent it back with changes asked for. */
  humanReviewRounds?: number;
  /** A person's review decisions on it, oldest first (for the report). */
  reviews?: { runId: string; decision: import('./review').ReviewDecision; by: string; at: number; comments: number; summary?: string }[];
  /** Text handed to the next run's prompt (reviewer feedback, conflict, failing output); cleared when a run starts. */
  handoff?: string;
  /** The last merge conflict, until one of the ways out is taken. */
  conflict?: MergeConflict;
  /** Set when the ticket was discarded: where its branch is kept. */
  discardedRef?: string;
}

/** A merge conflict waiting for the human (open the files, send back, keep for later, discard). */
export interface MergeConflict {
  files: string[];
  at: number;
  /** Found by `git merge-tree` before any merge or test. */
  predicted?: boolean;
  /** The human chose to resolve it in the integration worktree (Continue Merge finishes). */
  resolving?: boolean;
  /** The human chose to keep the branch for later. */
  kept?: boolean;
}

/** One gate's outcome on one run (see core/gates.ts). */
export interface GateResult {
  /** The gate's name. */
  name: string;
  kind: 'command' | 'reviewer';
  /** passed or approved. */
  passed: boolean;
  status: 'passed' | 'failed' | 'timeout' | 'error' | 'approved' | 'rejected';
  required?: boolean;
  startedAt: number;
  durationMs: number;
  exitCode?: number;
  /** Where the full output is kept (<stateDir>/runs/<run>/gates/<gate>.log). */
  outputFile?: string;
  /** Last lines of the output (the full output is in outputFile). */
  output?: string;
  /** Reviewer feedback (rejections). */
  feedback?: string;
  /** Reviewer round (1-based). */
  round?: number;
}

/** One attempt to merge a run's branch (kept for the report). */
export interface MergeAttempt {
  at: number;
  durationMs: number;
  strategy: string;
  result: 'merged' | 'conflict' | 'test-failed' | 'nothing-to-merge' | 'target-dirty' | 'error';
  commit?: string;
  files?: string[];
  /** Post-merge test runs spent on it (shared runs in batch mode count for each ticket of the batch). */
  testRuns?: number;
  batch?: string[];
  output?: string;
}

export type RunOutcome = 'succeeded' | 'failed' | 'timeout' | 'crashed' | 'cancelled' | 'no-changes';

export interface Run {
  id: string;
  ticketId: string;
  slot: number;
  attempt: number;
  branch: string;
  worktree: string;
  /** Commit the worktree was created from. */
  base?: string;
  /** The branch's tip when this attempt's worktree was ready (where a restarted attempt starts again). */
  startHead?: string;
  /** Why the previous attempt ended, handed to the agent in its prompt (retries only). */
  context?: string;
  /** Generation of each lock granted at start: a run whose lock was taken over cannot merge. */
  lockGenerations?: Record<string, number>;
  startedAt: number;
  endedAt?: number;
  exitCode?: number;
  outcome?: RunOutcome;
  pid?: number;
  progress?: number;
  message?: string;
  filesChanged?: string[];
  commits?: number;
  /** Agent profile and model the run was started with (role mapping and fallbacks). */
  profile?: string;
  model?: string;
  /** What the agent said of the work it looked at (`orchard-agent done "VERDICT: APPROVE"`), where it says it. */
  verdict?: 'approve' | 'reject';
  /** Subtasks this run asked for: request id → subtask ticket id (a request seen again is answered, not redone). */
  subtasks?: Record<string, string>;
  /** The subtask this run waits for (until it is merged); kept across restarts. */
  waitingFor?: string;
  /** Cost and tokens, where the agent CLI reports them (cumulative for the run). */
  usage?: Usage;
  /** Gate results of this run, in order. */
  gates?: GateResult[];
  merges?: MergeAttempt[];
}

/** What an agent CLI reports of its usage. */
export interface Usage {
  usd?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Total tokens, when the CLI does not split them. */
  tokens?: number;
}

export interface Lock {
  /** Path or glob, repository-relative. */
  pattern: string;
  runId: string;
  ticketId: string;
  expiresAt: number;
  generation: number;
}

export interface Settings {
  maxAgents: number;
  mode: Mode;
  /** 0..1: the share of a ticket's files that may overlap running work (locking mode). */
  overlapThreshold: number;
  targetBranch: string;
  /** Minutes. */
  lockLeaseMinutes: number;
  /** Minutes. */
  runTimeoutMinutes: number;
  maxRetries: number;
  /** Profile of tickets that name none (used to pause a rate-limited profile). */
  defaultAgent?: string;
  /** Role → agent profile and model, with fallbacks tried in order (see core/roles.ts). */
  roles?: Record<string, import('./roles').RoleBinding>;
  /** Budget per batch in US dollars: no new run starts once the batch has cost this much. */
  budgetUsd?: number;
  /** Limits on agent-made subtasks (see core/workflows/agentTickets.ts). */
  subtasks?: { maxDepth?: number; maxPerTicket?: number; maxTotal?: number };
  /** Gates run in the worktree after a run succeeds (see core/gates.ts). */
  gates?: GateSpec[];
  /** Gates that tickets with a label must pass (label → gate names). */
  requiredGatesByLabel?: Record<string, string[]>;
  /** How many times reviewer rejections send a ticket back before the human is asked (default 2). */
  reviewerRounds?: number;
  /** merge (--no-ff, default), rebase (+ fast-forward) or squash. */
  mergeStrategy?: MergeStrategy;
  /** Test several queued branches together, bisecting on failure (default off). */
  batchMerge?: boolean;
  /** Largest batch in batch mode (default 8). */
  maxBatch?: number;
  /** Predict conflicts with `git merge-tree` before merging (default on). */
  predictConflicts?: boolean;
  /**
   * An attempt interrupted by Orchard's own stop (crash, kill, window reload) is retried from
   * where it began, its partial work kept on refs/orchard/wip/ ('restart', default), or on top
   * of that partial work ('continue').
   */
  afterInterruption?: 'restart' | 'continue';
  /** Which tickets wait for a person after their gates (see core/review.ts; default auto). */
  review?: import('./review').ReviewPolicy;
}

export const MERGE_STRATEGIES = ['merge', 'rebase', 'squash'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** A check before merging: a command (argv, run in the worktree) or a reviewer agent. */
export interface GateSpec {
  name: string;
  kind: 'command' | 'reviewer';
  /** command gates: argv, never a shell string. */
  argv?: string[];
  /** reviewer gates: agent profile (default: the ticket's). */
  agent?: string;
  /** reviewer gates: extra instructions for the review prompt. */
  prompt?: string;
  /** Seconds (default 600). */
  timeoutSeconds?: number;
  /** Applies only to tickets with one of these labels. */
  labels?: string[];
  /** Applies only when the ticket's files or changed files match one of these globs. */
  files?: string[];
}

export const DEFAULT_SETTINGS: Settings = {
  maxAgents: 3,
  mode: 'locking',
  overlapThreshold: 0,
  targetBranch: 'main',
  lockLeaseMinutes: 30,
  runTimeoutMinutes: 30,
  maxRetries: 3,
};

/** The persisted snapshot. Rebuildable by folding the event log. */
export interface OrchardState {
  schema: number;
  /** Sequence number of the last event folded into this snapshot. */
  seq: number;
  tickets: Record<string, Ticket>;
  runs: Record<string, Run>;
  locks: Lock[];
  /** Monotonic lock generation counter. */
  lockGeneration: number;
  /** Questions for the human, open and answered. */
  escalations: Record<string, Escalation>;
  /** pausedAt: the user paused or stopped it (a window reload must not start it again). */
  batch?: { startedAt: number; endedAt?: number; pausedAt?: number };
  /** Why new runs do not start (budget reached); absent when they may. */
  startsPaused?: string;
}

export const SCHEMA_VERSION = 1;

export function emptyState(): OrchardState {
  return { schema: SCHEMA_VERSION, seq: 0, tickets: {}, runs: {}, locks: [], lockGeneration: 0, escalations: {} };
}

export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}
