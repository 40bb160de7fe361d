// Everything the core needs from the world, in one place. Infra implements these with
// Node (git, processes, files); tests and the simulator implement them with plain objects.
import type { OrchardEvent } from './events';
import type { OrchardState, Run, Ticket } from './model';
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
}

export interface ChangeSummary {
  files: string[];
  commits: number;
}

export type MergeResult =
  | { kind: 'merged'; commit: string }
  | { kind: 'conflict'; files: string[] }
  | { kind: 'test-failed'; output: string }
  | { kind: 'nothing-to-merge' }
  /** The target branch is checked out with uncommitted changes: it was not moved. */
  | { kind: 'target-dirty'; checkout: string };

/** Git as the orchestrator needs it. */
export interface WorkspacePort {
  /** Creates (or reuses, if it exists with no run) the ticket's worktree from the target tip. */
  prepareWorktree(ticket: Ticket, attempt: number): Promise<WorktreeInfo>;
  /** Commits anything left uncommitted (agent's partial work) and summarises the branch. */
  collectChanges(run: Run, message: string): Promise<ChangeSummary>;
  /** Merges the branch into the target branch (one at a time; the caller serialises). */
  merge(ticket: Ticket, run: Run): Promise<MergeResult>;
}

export interface AgentExit {
  exitCode: number | null;
  signal?: string;
  timedOut?: boolean;
  /** The agent's output said it hit a rate limit or a usage quota. */
  rateLimited?: boolean;
}

export interface AgentReport {
  progress?: number;
  message?: string;
}

/** A question an agent asked through `orchard-agent escalate` (checked against its run's token). */
export interface AgentQuestion {
  id: string;
  question: string;
  options: string[];
  trigger: string;
  context?: string;
}

export interface AgentHandle {
  pid?: number;
  /** What the agent reports through orchard-agent (progress, messages). */
  readonly onReport?: Event<AgentReport>;
  /** Questions the agent asks; it waits until answer() is called. */
  readonly onQuestion?: Event<AgentQuestion>;
  /** Hands the human's answer to the waiting agent. */
  answer?(questionId: string, answer: { option?: string; guidance?: string }): void;
  readonly exited: Promise<AgentExit>;
  /** Stops the agent (SIGTERM, then SIGKILL). */
  stop(reason: string): Promise<void>;
}

export interface AgentPort {
  start(ticket: Ticket, run: Run): Promise<AgentHandle>;
}

export interface Ports {
  clock: Clock;
  ids: IdSource;
  log: Logger;
  state: StatePort;
  workspace: WorkspacePort;
  agents: AgentPort;
  /** Numbers in [0, 1) for retry jitter; default: no jitter. */
  random?: () => number;
}
