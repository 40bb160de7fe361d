// Everything the core needs from the world, in one place. Infra implements these with
// Node (git, processes, files); tests and the simulator implement them with plain objects.
import type { OrchardEvent } from './events';
import type { GateResult, GateSpec, MergeStrategy, OrchardState, Run, Ticket } from './model';
import type { Disposable, Event } from './emitter';

export interface Clock {
  /** Milliseconds since the epoch (or since the start of a simulation). */
  now(): number;
  /** Calls fn after ms; returns a handle to cancel. */
  setTimer(ms: number, fn: () => void): Disposable;
}

export interface IdSource {
  /** A new unique id starting with prefix, e.g. run-3. */
  next(prefix: string): string;
}

export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** Where events and snapshots are kept (lowdb + events.jsonl in infra). */
export interface StatePort {
  /** The current state, recovered from snapshot and event log. */
  load(): Promise<OrchardState>;
  /** Appends events durably (before they are acted on). */
  append(events: readonly OrchardEvent[]): Promise<void>;
  /** Asks for the snapshot to be written soon (debounced). */
  snapshot(state: OrchardState): void;
  /** Writes pending snapshot data now. */
  flush(): Promise<void>;
}

export interface WorktreeInfo {
  path: string;
  branch: string;
  /** Commit the branch was created from. */
  base: string;
  /** The branch's tip now (earlier attempts' work included). */
  head?: string;
}

export interface ChangeSummary {
  files: string[];
  commits: number;
}

export type MergeResult =
  | { kind: 'merged'; commit: string; note?: string }
  | { kind: 'conflict'; files: string[] }
  | { kind: 'test-failed'; output: string }
  /** The target already holds the branch (e.g. merged just before a crash); containedIn: the target tip. */
  | { kind: 'nothing-to-merge'; containedIn?: string }
  /** The target branch is checked out with uncommitted changes: it was not moved. */
  | { kind: 'target-dirty'; checkout: string };

/** A ticket's worktree and branch: made ready for a run, its work collected, brought onto the target. */
export interface WorktreePort {
  /** Creates (or reuses, if it exists with no run) the ticket's worktree from the target tip. */
  prepareWorktree(ticket: Ticket, attempt: number): Promise<WorktreeInfo>;
  /** Commits anything left uncommitted (agent's partial work) and summarises the branch. */
  collectChanges(run: Run, message: string): Promise<ChangeSummary>;
  /** Brings the ticket's branch onto the target tip in its worktree (rebase; a conflicting rebase becomes a merge left for the agent). */
  bringUpToDate(run: Run): Promise<{ kind: 'rebased' | 'up-to-date' } | { kind: 'conflict'; files: string[] }>;
}

/** Nothing of an agent's is lost: work kept on refs/orchard/ before anything is reset or removed, and runs checked for harm. */
export interface SafekeepingPort {
  /** Saves the worktree's state (committed or not) as a commit on refs/orchard/wip/<ticket>/<attempt>; the worktree is kept. */
  saveWip(run: Run, message: string): Promise<string | undefined>;
  /**
   * An interrupted attempt starts again: its state (committed or not) is kept on the WIP ref
   * first; only when that ref holds it are the branch and worktree put back at `to`. Returns the
   * ref, or undefined when nothing was changed.
   */
  restartAttempt(run: Run, to: string): Promise<string | undefined>;
  /** Keeps the branch under refs/orchard/discarded/ and removes the branch (and its clean worktree); returns the ref. */
  discard(run: Run): Promise<string | undefined>;
  /** Checks the run did not harm the user's branches: target moved by the agent, branch history rewritten, worktree gone. */
  inspectRun(run: Run): Promise<RunInspection>;
}

/** Merging finished branches into the target, one at a time or as a batch, in the integration worktree. */
export interface MergePort {
  /** Merges the branch into the target branch (one at a time; the caller serialises). */
  merge(ticket: Ticket, run: Run, options?: MergeOptions): Promise<MergeResult>;
  /** Batch mode: merges the branches in order onto the target tip, tests the top once, moves the target there. */
  mergeBatch(items: readonly { ticket: Ticket; run: Run }[], options?: MergeOptions): Promise<BatchMergeResult>;
  /** `git merge-tree` prediction against the target tip: conflicted files, or undefined when clean. */
  predictConflict(branch: string): Promise<string[] | undefined>;
}

/** A merge conflict left open for the human in the integration worktree. */
export interface ConflictPort {
  /** Leaves the ticket's conflict open in the integration worktree for the human; returns its folder and the files. */
  openConflict(ticket: Ticket, run: Run, options?: MergeOptions): Promise<{ dir: string; files: string[] }>;
  /** Finishes a conflict the human resolved in the integration worktree (tests, then compare-and-swap). */
  continueMerge(ticket: Ticket, run: Run, options?: MergeOptions): Promise<MergeResult>;
  /** Drops the open conflict of the ticket (if it is the one open) and cleans the integration worktree. */
  abandonConflict(ticketId: string): Promise<void>;
}

/** Git as the orchestrator needs it: every part required, so the core never asks whether one is there. */
export interface WorkspacePort extends WorktreePort, SafekeepingPort, MergePort, ConflictPort {}

export interface MergeOptions {
  /** merge (--no-ff, default), rebase (+ fast-forward) or squash. */
  strategy?: MergeStrategy;
  /** The target is checked out with uncommitted changes: stash them, fast-forward, put them back. */
  stashDirty?: boolean;
}

export type BatchMergeResult =
  /** Every item is on the target now; commits[id] is the commit that brought it ('' when there was nothing to merge). */
  | { kind: 'merged'; commits: Record<string, string>; top: string; note?: string }
  /** The chain stopped at a conflict with this item (nothing was tested, the target did not move). */
  | { kind: 'conflict'; ticketId: string; files: string[] }
  | { kind: 'test-failed'; output: string }
  | { kind: 'target-dirty'; checkout: string };

/** Runs one gate (a command in the worktree, or a reviewer agent) and keeps its output. */
export interface GatePort {
  run(gate: GateSpec & { required?: boolean }, ticket: Ticket, run: Run, round: number): Promise<GateResult>;
}

export interface RunInspection {
  /** Problems found, as sentences for the ticket's reason; empty when all is well. */
  problems: string[];
  /** What Orchard did about them (restored the target, kept the rewritten commits on a ref). */
  repaired: string[];
}

export interface AgentExit {
  exitCode: number | null;
  signal?: string;
  timedOut?: boolean;
  /** The agent's output said it hit a rate limit or a usage quota. */
  rateLimited?: boolean;
  /** Something Orchard noticed about the run beyond its exit code. */
  problem?: 'worktree-deleted' | 'output-loop' | 'runner-vanished' | 'outside-worktree';
  /** Where the agent was caught working outside its worktree (problem outside-worktree). */
  outsideAt?: string;
  /** Cost and tokens, where the agent CLI prints them. */
  usage?: { costUsd?: number; tokens?: number; inputTokens?: number; outputTokens?: number };
  /** The exit in the CLI's own words, where its definition knows its codes. */
  explanation?: string;
  /** The agent said it was done (orchard-agent done, or its CLI ended a turn with work): its exit code does not matter. */
  saidDone?: boolean;
  /** Orchard stopped the agent before it said done (Stop All, cancel, timeout): its work is never merged. */
  stoppedByOrchard?: string;
}

export interface AgentReport {
  progress?: number;
  message?: string;
  /** The agent said it is done (orchard-agent done, a Stop hook, agent-status.json). */
  done?: boolean;
}

/** More files an agent asks for through `orchard-agent lock` (checked against its run's token). */
export interface AgentLockRequest {
  id: string;
  patterns: string[];
}

export type LockAnswer = { granted: true } | { granted: false; holder?: { ticketId: string; pattern: string }; error?: string };

/** A question an agent asked through `orchard-agent escalate` (checked against its run's token). */
export interface AgentQuestion {
  id: string;
  question: string;
  options: string[];
  trigger: string;
  context?: string;
}

/** A ticket an agent asks for: `orchard-agent subtask` (a running ticket) or `add-ticket` (a planner). */
export interface AgentTicketRequestMessage {
  id: string;
  kind: 'subtask' | 'add-ticket';
  ticket: import('./workflows/agentTickets').AgentTicketRequest;
  /** subtask: wait until it is merged (default) or go on at once. */
  wait?: boolean;
}

export type TicketRequestAnswer = { ok: true; ticketId: string; commit?: string } | { ok: false; ticketId?: string; problems: string[] };

export interface AgentHandle {
  pid?: number;
  /** What the agent reports through orchard-agent (progress, messages). */
  readonly onReport?: Event<AgentReport>;
  /** Questions the agent asks; it waits until answer() is called. */
  readonly onQuestion?: Event<AgentQuestion>;
  /** Hands the human's answer to the waiting agent. */
  answer?(questionId: string, answer: { option?: string; guidance?: string }): void;
  /** Lock requests of the agent; it waits until answerLock() is called. */
  readonly onLockRequest?: Event<AgentLockRequest>;
  answerLock?(requestId: string, answer: LockAnswer): void;
  /** Tickets the agent asks for; it waits until answerTicketRequest() is called. */
  readonly onTicketRequest?: Event<AgentTicketRequestMessage>;
  answerTicketRequest?(requestId: string, answer: TicketRequestAnswer): void;
  /** Usage the agent reports (`orchard-agent usage` or its output), cumulative for the run. */
  readonly onUsage?: Event<import('./model').Usage>;
  readonly exited: Promise<AgentExit>;
  /** Stops the agent (SIGTERM, then SIGKILL). */
  stop(reason: string): Promise<void>;
}

export interface AgentPort {
  start(ticket: Ticket, run: Run): Promise<AgentHandle>;
  /** After a restart: a handle on the run's runner if it is still alive (fresh heartbeat) or has exited since. */
  adopt?(run: Run): AgentHandle | undefined;
}

export interface Ports {
  clock: Clock;
  ids: IdSource;
  log: Logger;
  state: StatePort;
  workspace: WorkspacePort;
  agents: AgentPort;
  /** Gates before merging; without it, configured gates cannot run (the ticket escalates). */
  gates?: GatePort;
  /** Numbers in [0, 1) for retry jitter; default: no jitter. */
  random?: () => number;
}
