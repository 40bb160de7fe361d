// RunnerHost for VS Code: the terminal's own process is Orchard's runner (not a shell fed
// with sendText), so the agent gets the terminal's pty and interactive agent UIs work. The
// runner writes pid, heartbeat and exit code into the run folder and exits with the agent.
// Terminals are not transient: with persistent sessions they survive a window reload, and
// the launcher adopts their runner again by its heartbeat.
import * as vscode from 'vscode';
import type { Run, Ticket } from '../core/model';
import type { RunDisplayState, RunnerHost, TerminalInput } from '../infra/agents/launcher';
import { terminalName as nameWithMark } from '../shared/terminalName';

const STATE_LOOK: Record<RunDisplayState | 'starting', { mark: string; icon: string; color: string }> = {
  starting: { mark: '…', icon: 'loading~spin', color: 'terminal.ansiBlue' },
  running: { mark: '▶', icon: 'robot', color: 'terminal.ansiBlue' },
  'needs-input': { mark: '?', icon: 'question', color: 'terminal.ansiYellow' },
  done: { mark: '✓', icon: 'check', color: 'terminal.ansiGreen' },
  failed: { mark: '✗', icon: 'error', color: 'terminal.ansiRed' },
  stopping: { mark: '■', icon: 'debug-stop', color: 'terminal.ansiMagenta' },
};

/** Named keys (as tmux names them) to the bytes a terminal sends for them. */
const KEYS: Record<string, string> = {
  Enter: '\r',
  Escape: '\u001b',
  Tab: '\t',
  BTab: '\u001b[Z',
  Up: '\u001b[A',
  Down: '\u001b[B',
  Right: '\u001b[C',
  Left: '\u001b[D',
  Space: ' ',
  BSpace: '\u007f',
  'C-c': '\u0003',
  'C-d': '\u0004',
};

/** "Orchard ▶ T-12: Add login form" — the ticket and the state, in the terminal tab. */
export function terminalName(ticket: Pick<Ticket, 'id' | 'title'>, state: RunDisplayState | 'starting'): string {
  return nameWithMark(STATE_LOOK[state].mark, ticket);
}

interface Entry {
  terminal: vscode.Terminal;
  ticket: Pick<Ticket, 'id' | 'title'>;
  state: RunDisplayState | 'starting';
  /** A name waiting to be applied when the terminal becomes the active one. */
  pendingName?: string;
}

export class TerminalRunnerHost implements RunnerHost, vscode.Disposable {
  readonly interactive = true;
  /** VS Code closes a terminal whose process exits 0: the runner keeps it open for reading. */
  readonly keepOpen = true;
  private readonly byTicket = new Map<string, Entry>();
  private readonly byRun = new Map<string, Entry>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    // VS Code has no API to rename a background terminal; renameWithArg acts on the active one,
    // so a state change reaches a background terminal's name when the user switches to it.
    this.subscriptions.push(vscode.window.onDidChangeActiveTerminal((t) => t && this.applyPending(t)));
  }

  async launch(runDir: string, runnerArgv: string[], ticket: Ticket, run: Run): Promise<{ pid?: number }> {
    const [shellPath, ...shellArgs] = runnerArgv;
    const look = STATE_LOOK.running;
    const terminal = vscode.window.createTerminal({
      name: terminalName(ticket, 'running'),
      shellPath,
      shellArgs,
      cwd: run.worktree,
      // Inside Electron, process.execPath runs as Node only with this set.
      env: { ELECTRON_RUN_AS_NODE: '1', ORCHARD_RUN_DIR: runDir },
      iconPath: new vscode.ThemeIcon(look.icon),
      color: new vscode.ThemeColor(ticket.priority === 'P0' ? 'terminal.ansiRed' : look.color),
      isTransient: false,
    });
    const entry: Entry = { terminal, ticket, state: 'running' };
    this.byTicket.set(ticket.id, entry);
    this.byRun.set(run.id, entry);
    return { pid: await terminal.processId };
  }

  update(runId: string, state: RunDisplayState): void {
    const e = this.byRun.get(runId);
    if (!e || e.state === state) return;
    e.state = state;
    e.pendingName = terminalName(e.ticket, state);
    if (vscode.window.activeTerminal === e.terminal) this.applyPending(e.terminal);
  }

  private applyPending(t: vscode.Terminal): void {
    const e = [...this.byRun.values()].find((x) => x.terminal === t);
    if (!e?.pendingName || !vscode.window.terminals.includes(t)) return;
    const name = e.pendingName;
    e.pendingName = undefined;
    void vscode.commands.executeCommand('workbench.action.terminal.renameWithArg', { name });
  }

  /**
   * Types into the agent's terminal (an answer, the CLI's exit command): the text, a pause (a
   * key right after typed text is taken as part of it by some TUIs), then each key.
   */
  async sendKeys(runId: string, input: TerminalInput): Promise<void> {
    const e = this.byRun.get(runId);
    if (!e || !vscode.window.terminals.includes(e.terminal)) throw new Error(`the terminal of ${runId} is closed`);
    if (input.text) e.terminal.sendText(input.text.includes('\n') ? `\u001b[200~${input.text}\u001b[201~` : input.text, false);
    for (const [i, key] of (input.keys ?? []).entries()) {
      if (input.text || i > 0) await new Promise((r) => setTimeout(r, 300));
      e.terminal.sendText(KEYS[key] ?? key, false);
    }
  }

  stateOf(ticketId: string): RunDisplayState | 'starting' | undefined {
    return this.byTicket.get(ticketId)?.state;
  }

  terminalFor(ticketId: string): vscode.Terminal | undefined {
    const t = this.byTicket.get(ticketId)?.terminal;
    return t && vscode.window.terminals.includes(t) ? t : undefined;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.byTicket.clear();
    this.byRun.clear();
  }
}
