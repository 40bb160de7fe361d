// Being told when you are needed: while something waits for the human (waits.ts), a badge on
// the Tickets view (so on the Orchard icon), a status-bar item "Orchard: N waiting for you"
// (click: the oldest wait, or a pick among them), and once per new wait VS Code's
// accessibility signal. `orchard.notify.badge|statusBar|sound` turn each off.
//
// The sound: VS Code has no API for an extension to play an accessibility signal (checked in
// @types/vscode and code-server 1.139: no command plays one). The documented way that does is
// the terminal bell: a BEL written to a terminal plays `accessibility.signals.terminalBell`,
// with the user's own settings for it. So the bell rings in a hidden terminal.
import { coalesced } from './coalesce';
import * as vscode from 'vscode';
import type { OrchardController } from './controller';
import { Disposable } from './lifecycle';
import { WaitTracker, waitingText, waitsOf, type Wait, type WaitSource } from './waits';

export interface NotifySettings {
  badge: boolean;
  statusBar: boolean;
  sound: boolean;
}

export function notifySettings(): NotifySettings {
  const c = vscode.workspace.getConfiguration('orchard.notify');
  return { badge: c.get<boolean>('badge', true), statusBar: c.get<boolean>('statusBar', true), sound: c.get<boolean>('sound', true) };
}

/** What the bell terminal runs: every key it gets back as a BEL (raw mode: nothing echoed). */
const BELL_SCRIPT = "process.stdin.setRawMode?.(true);process.stdin.on('data',(d)=>process.stdout.write('\\u0007'.repeat(d.length)));";

/**
 * Rings the terminal bell in a hidden terminal (made on first use). Its process is a few
 * lines of Node that answer every key with a BEL; a pseudoterminal cannot be hidden.
 */
export class TerminalBell extends Disposable {
  private ready: Promise<vscode.Terminal> | undefined;
  /** Bells sent to the terminal (tests and diagnostics). */
  rung = 0;

  ring(): void {
    this.ready ??= this.create();
    void this.ready.then((t) => {
      if (this.isDisposed) return;
      t.sendText('b', false);
      this.rung++;
    });
  }

  private async create(): Promise<vscode.Terminal> {
    const t = this._register(
      vscode.window.createTerminal({
        name: 'Orchard signals',
        shellPath: process.execPath,
        shellArgs: ['-e', BELL_SCRIPT],
        // Inside Electron, process.execPath runs as Node only with this set.
        env: { ELECTRON_RUN_AS_NODE: '1' },
        hideFromUser: true,
        isTransient: true,
      }),
    );
    await t.processId;
    // VS Code starts listening for the bell about a second after it creates the terminal.
    await new Promise((r) => setTimeout(r, 1500));
    return t;
  }
}

export class WaitSignals extends Disposable {
  readonly item = this._register(vscode.window.createStatusBarItem('orchard.waiting', vscode.StatusBarAlignment.Left, 49));
  readonly bell = this._register(new TerminalBell());
  private readonly tracker = new WaitTracker();
  private readonly repaint = coalesced(() => this.update(), 100);
  /** The waits shown now. */
  waits: Wait[] = [];
  /** Every wait announced so far, by key, in order (tests and diagnostics). */
  readonly announced: string[] = [];
  /** Sounds played (one per update that brought new waits). */
  sounds = 0;
  /** Whether the status-bar item is shown. */
  visible = false;

  constructor(
    private readonly controller: OrchardController,
    /** The view whose badge counts the waits (it shows on the Orchard icon too). */
    private readonly badgeView: vscode.TreeView<unknown>,
    private readonly sources?: readonly WaitSource[],
  ) {
    super();
    this.item.name = 'Orchard: waiting for you';
    this._register(controller.onDidChangeState(() => this.repaint.schedule()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('orchard.notify') && this.render()));
    this._register(vscode.commands.registerCommand('orchard.showWaiting', () => this.showWaiting()));
    this._register(this.repaint);
    this.update();
  }

  update(): void {
    const s = this.controller.state();
    if (!s) return this.render();
    this.waits = waitsOf(s, Date.now(), this.sources);
    const arrived = this.tracker.update(this.waits);
    if (arrived.length) {
      this.announced.push(...arrived.map((w) => w.key));
      if (notifySettings().sound) {
        this.sounds++;
        this.bell.ring();
      }
    }
    this.render();
  }

  private render(): void {
    const n = this.waits.length;
    const on = notifySettings();
    const tooltip = this.waits.map((w) => w.label).join('\n');
    this.badgeView.badge = on.badge && n ? { value: n, tooltip: `${waitingText(n)}\n${tooltip}` } : undefined;
    this.visible = on.statusBar && n > 0;
    if (!this.visible) {
      this.item.hide();
      return;
    }
    this.item.text = `$(bell-dot) ${waitingText(n)}`;
    this.item.tooltip = `${tooltip}\n\nClick to ${n === 1 ? 'answer' : 'choose one'}.`;
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    const only = n === 1 ? this.waits[0]! : undefined;
    this.item.command = only ? { title: 'Open', command: only.open.command, arguments: only.open.arguments } : 'orchard.showWaiting';
    this.item.show();
  }

  /** Opens the one wait, or lets the human pick among them. */
  private async showWaiting(): Promise<boolean> {
    const open = (w: Wait) => vscode.commands.executeCommand(w.open.command, ...w.open.arguments);
    if (this.waits.length === 0) {
      void vscode.window.showInformationMessage('Orchard: nothing is waiting for you.');
      return false;
    }
    if (this.waits.length === 1) {
      await open(this.waits[0]!);
      return true;
    }
    const pick = await vscode.window.showQuickPick(
      this.waits.map((w) => ({ label: w.label, w })),
      { title: waitingText(this.waits.length) },
    );
    if (pick) await open(pick.w);
    return !!pick;
  }
}
