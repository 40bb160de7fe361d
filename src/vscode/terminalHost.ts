// RunnerHost for VS Code: the terminal's own process is Orchard's runner (not a shell fed
// with sendText), so the agent gets the terminal's pty and interactive agent UIs work.
import * as vscode from 'vscode';
import type { Run, Ticket } from '../core/model';
import type { RunnerHost } from '../infra/agents/launcher';

export class TerminalRunnerHost implements RunnerHost, vscode.Disposable {
  readonly interactive = true;
  private readonly terminals = new Map<string, vscode.Terminal>();

  async launch(runDir: string, runnerArgv: string[], ticket: Ticket, run: Run): Promise<{ pid?: number }> {
    const [shellPath, ...shellArgs] = runnerArgv;
    const terminal = vscode.window.createTerminal({
      name: `Orchard: ${ticket.id} — ${ticket.title}`.slice(0, 80),
      shellPath,
      shellArgs,
      cwd: run.worktree,
      // Inside Electron, process.execPath runs as Node only with this set.
      env: { ELECTRON_RUN_AS_NODE: '1' },
      iconPath: new vscode.ThemeIcon('robot'),
      color: new vscode.ThemeColor(ticket.priority === 'P0' ? 'terminal.ansiRed' : 'terminal.ansiGreen'),
      isTransient: true,
    });
    this.terminals.set(ticket.id, terminal);
    void runDir;
    return { pid: await terminal.processId };
  }

  terminalFor(ticketId: string): vscode.Terminal | undefined {
    const t = this.terminals.get(ticketId);
    return t && vscode.window.terminals.includes(t) ? t : undefined;
  }

  dispose(): void {
    this.terminals.clear();
  }
}
