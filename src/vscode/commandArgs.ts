// What every command unit shares: the ticket a tree item or id names (else one picked from a
// list), confirmations that a caller from code answers up front, and the writer session.
import * as vscode from 'vscode';
import type { Ticket, TicketStatus } from '../core/model';
import type { OrchardController, WriterSession } from './controller';
import type { DashboardPanel } from './dashboard';
import type { Confirm, TicketArg } from './commandTypes';
import type { TerminalRunnerHost } from './terminalHost';
import type { TicketIntake } from '../infra/ticketIntake';

export interface CommandDeps {
  controller: OrchardController;
  terminals: TerminalRunnerHost;
  dashboard: () => DashboardPanel;
  log: vscode.LogOutputChannel;
  selectedTickets: () => string[];
}

/** What a command unit is given: the dependencies and the writer session of this window. */
export interface CommandContext extends CommandDeps {
  writer: () => Promise<WriterSession>;
}

export function ticketIdOf(arg: TicketArg | undefined, s: WriterSession | undefined): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  switch (arg.kind) {
    case 'ticket':
    case 'dependency':
    case 'merge':
      return arg.id;
    case 'run':
    case 'gate':
      return s?.orchestrator.snapshot.runs[arg.runId]?.ticketId;
    case 'agent':
      return arg.ticketId;
    case 'escalation':
      return s?.orchestrator.snapshot.escalations[arg.id]?.ticketId;
  }
}

/** The ticket an argument names, or one picked from those `which` accepts. */
export async function pickTicket(s: WriterSession, arg: TicketArg | undefined, title: string, which: (t: Ticket) => boolean): Promise<Ticket | undefined> {
  const id = ticketIdOf(arg, s);
  if (id) return s.orchestrator.ticket(id);
  const list = Object.values(s.orchestrator.snapshot.tickets).filter(which);
  if (list.length === 0) {
    void vscode.window.showInformationMessage(`Orchard: no ticket to ${title.toLowerCase()}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    list.map((t) => ({ label: `${t.id}  ${t.title}`, description: `${t.priority} · ${t.status}`, t })),
    { title, matchOnDescription: true },
  );
  return pick?.t;
}

export const is =
  (...statuses: TicketStatus[]) =>
  (t: Ticket): boolean =>
    statuses.includes(t.status);

export async function confirm(message: string, action: string, opts: Confirm | undefined): Promise<boolean> {
  if (opts?.confirmed !== undefined) return opts.confirmed;
  return (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action;
}

/** The ticket intake of the writer session (ids, checks and scopes as in the CLI). */
export const intakeOf = (s: WriterSession): TicketIntake => ({ orchestrator: s.orchestrator, repo: s.paths.repo });
