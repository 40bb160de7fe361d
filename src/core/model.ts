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
  /** Cost and tokens, where the agent CLI reports them (cumulative for the run). */
  usage?: Usage;
}

/** What an agent CLI reports of its usage. */
export interface Usage {
  usd?: number;
  inputTokens?: number;
  outputTokens?: number;
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
  batch?: { startedAt: number; endedAt?: number };
}

export const SCHEMA_VERSION = 1;

export function emptyState(): OrchardState {
  return { schema: SCHEMA_VERSION, seq: 0, tickets: {}, runs: {}, locks: [], lockGeneration: 0, escalations: {} };
}

export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}
