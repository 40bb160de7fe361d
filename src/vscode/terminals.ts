// Agent terminals: closing one of a live run asks whether to stop the ticket (the agent,
// Orchard's runner being the terminal's process, ends with it); its work so far is kept
// on the ticket's branch either way.
import * as vscode from 'vscode';
import type { OrchardController } from './controller';
import { Disposable } from './lifecycle';
import { ticketOfTerminalName } from '../shared/terminalName';

export function ticketOfTerminal(t: vscode.Terminal): string | undefined {
  return ticketOfTerminalName(t.name);
}

export class TerminalWatcher extends Disposable {
  constructor(private readonly controller: OrchardController) {
    super();
    this._register(vscode.window.onDidCloseTerminal((t) => void this.closed(t)));
  }

  private async closed(terminal: vscode.Terminal): Promise<void> {
    const id = ticketOfTerminal(terminal);
    const s = this.controller.current;
    if (!id || s?.role !== 'writer') return;
    const t = s.orchestrator.snapshot.tickets[id];
    // Only a close by the user while the agent works; the runner exiting on its own is normal.
    if (!t || (t.status !== 'running' && t.status !== 'escalated') || terminal.exitStatus?.reason !== vscode.TerminalExitReason.User) return;
    // An earlier attempt's terminal, kept open for reading, is not the live agent's.
    const live = Object.values(s.orchestrator.snapshot.runs).find((r) => r.ticketId === id && r.endedAt === undefined);
    const pid = await terminal.processId;
    if (!live || (live.pid !== undefined && pid !== undefined && pid !== live.pid)) return;
    const STOP = 'Stop the Ticket';
    const AGAIN = 'Run It Again';
    const pick = await vscode.window.showWarningMessage(
      `You closed the terminal of ${id}, which stops its agent. Its work so far is kept on orchard/${id}.`,
      STOP,
      AGAIN,
    );
    if (pick === STOP) await s.orchestrator.cancel(id, 'terminal closed by the user').catch(() => undefined);
  }
}
