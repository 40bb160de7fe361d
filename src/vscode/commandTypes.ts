// The commands' contract: every Orchard command id with its arguments and result (the
// palette, tree items, the dashboard, tests and other extensions call them by these types).
import * as vscode from 'vscode';
import type { NewTicketInput } from '../core/newTicket';
import type { Priority, TicketSpec } from '../core/model';
import type { OverlapChoice } from './prompts';

/** A ticket as the Add Ticket command takes it when called with an argument (no prompts). */
export type AddTicketArgs = Omit<NewTicketInput, 'priority'> & { priority?: Priority };

/** What tree items pass to commands: a ticket id is found in any of them. */
export type TicketArg =
  | string
  | { kind: 'ticket' | 'dependency' | 'merge'; id: string }
  | { kind: 'run' | 'gate'; runId: string }
  | { kind: 'agent'; slot: number; ticketId?: string }
  | { kind: 'escalation'; id: string };

/** Kept for callers of the first version. */
export type TicketNodeArg = { kind: 'ticket'; id: string };

export type LockArg = string | { kind: 'lock'; pattern: string; runId: string };
export type Answer = { option?: string; guidance?: string };
export type Confirm = { confirmed?: boolean };

export interface CommandTypes {
  'orchard.addTicket': (args?: AddTicketArgs) => Promise<string | undefined>;
  'orchard.editTicket': (ticket?: TicketArg, patch?: Partial<Omit<TicketSpec, 'id'>>) => Promise<boolean>;
  'orchard.importTickets': (uris?: vscode.Uri | vscode.Uri[]) => Promise<number>;
  'orchard.start': (opts?: { overlap?: OverlapChoice }) => Promise<boolean>;
  'orchard.pause': () => Promise<void>;
  'orchard.resume': () => Promise<void>;
  'orchard.stopAll': (opts?: Confirm) => Promise<boolean>;
  /** From a tree: the clicked node and the selection; from code: opts answers the pre-flight. */
  'orchard.startTicket': (ticket?: TicketArg, selection?: TicketArg[], opts?: { overlap?: OverlapChoice }) => Promise<string[]>;
  'orchard.cancelTicket': (ticket?: TicketArg, opts?: Confirm) => Promise<boolean>;
  'orchard.retryTicket': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.openTerminal': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.openWorktree': (ticket?: TicketArg, opts?: { open?: boolean }) => Promise<string | undefined>;
  'orchard.showDiff': (ticket?: TicketArg) => Promise<number>;
  'orchard.answerEscalation': (escalation?: string | TicketArg, answer?: Answer) => Promise<boolean>;
  'orchard.releaseLock': (lock?: LockArg, opts?: Confirm) => Promise<number>;
  'orchard.mergeNow': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.continueMerge': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.openConflicts': (ticket?: TicketArg) => Promise<number>;
  'orchard.sendBack': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.keepForLater': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.discard': (ticket?: TicketArg, opts?: Confirm) => Promise<boolean>;
  'orchard.stashAndUpdate': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.showDashboard': () => Promise<void>;
  'orchard.generateReport': (opts?: { open?: boolean }) => Promise<string>;
  'orchard.cleanUpWorktrees': (opts?: { all?: boolean }) => Promise<number>;
  'orchard.showLog': () => Promise<void>;
  'orchard.refresh': () => Promise<void>;
}

export type CommandId = keyof CommandTypes;

/** Runs an Orchard command with its typed arguments. */
export function runCommand<K extends CommandId>(id: K, ...args: Parameters<CommandTypes[K]>): Thenable<Awaited<ReturnType<CommandTypes[K]>>> {
  return vscode.commands.executeCommand(id, ...args);
}
