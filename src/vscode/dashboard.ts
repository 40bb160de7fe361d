// The dashboard host: a webview panel in the editor area (orchard.showDashboard) and a
// compact webview view in the Orchard side bar (orchard.dashboardView). Both run the same
// browser bundle (dist/webview.js) and speak src/shared/protocol.ts:
// - nothing is posted before the webview says `ready`; then one snapshot, then patches;
// - core events are coalesced: at most one patch per UPDATE_INTERVAL_MS (≤ 10/s);
// - every message from the webview is validated (parseWebviewMessage) before use;
// - actions run through VS Code commands; a command another part has not shipped yet is
//   answered with a message, and cancel/retry fall back to the orchestrator itself.
// The webview keeps its own state (setState), so no retainContextWhenHidden.
import { errorText } from '../core/errors';
import * as vscode from 'vscode';
import { buildDashboardView } from '../core/dashboardModel';
import { DASHBOARD_CSS } from '../shared/dashboardCss';
import { diffViews, type DashboardView } from '../shared/dashboardView';
import { parseWebviewMessage, PROTOCOL_VERSION, REQUEST_COMMANDS, type DashboardRequest, type HostToWebview } from '../shared/protocol';
import { dashboardSnapshotHtml } from '../shared/snapshot';
import type { OrchardController } from './controller';
import type { EtaService } from './eta';

export const UPDATE_INTERVAL_MS = 100;
/** Metrics such as speedup and utilization move with time: refresh this often while a batch runs. */
const CLOCK_REFRESH_MS = 5_000;

function nonce(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Figures of the last updates, for `orchard.dashboard.stats` (tests, the README's numbers). */
export interface DashboardStats {
  /** Core event → the webview painted it (ms), per update. */
  latencyMs: number[];
  /** Time spent in the webview applying and rendering (ms). */
  renderMs: number[];
  /** Host: build view + diff (ms). */
  buildMs: number[];
  /** Size of each posted message (JSON bytes). */
  messageBytes: number[];
  /** Webviews resolved (panel and side-bar view). */
  webviews: number;
  snapshots: number;
  /** Of those, the ones sent to the side-bar (compact) view. */
  compactSnapshots: number;
  patches: number;
  resyncs: number;
  rejected: number;
  /** Core changes seen, and how many found no ready webview (hidden). */
  changes: number;
  notReady: number;
  /** Last errors while building or posting (also in the Orchard log). */
  errors: string[];
}

const keep = (a: number[], v: number) => {
  a.push(v);
  if (a.length > 500) a.shift();
};

/** Builds the current view from the controller's session (and the host's latest prediction). */
export function currentView(controller: OrchardController, now = Date.now(), eta?: EtaService): DashboardView | undefined {
  const state = controller.state();
  if (!state) return undefined;
  const s = controller.current;
  const cfg = vscode.workspace.getConfiguration('orchard');
  const agents = s?.role === 'writer' ? s.orchestrator.settings.maxAgents : cfg.get<number>('maxAgents', 3);
  const mode = s?.role === 'writer' ? s.orchestrator.settings.mode : cfg.get<string>('mode', 'locking');
  const prediction = eta?.current();
  return buildDashboardView({ state, now, agents, mode, readOnly: s?.role === 'follower', ...(prediction && { prediction }) });
}

/** One webview (panel or side-bar view) bound to the controller. */
class DashboardConnection implements vscode.Disposable {
  private ready = false;
  private version = 0;
  private last: DashboardView | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private clock: ReturnType<typeof setInterval> | undefined;
  private pendingEventAt: number | undefined;
  private lastFlush = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly extensionUri: vscode.Uri,
    private readonly controller: OrchardController,
    private readonly compact: boolean,
    private readonly stats: DashboardStats,
    private readonly actions: DashboardActions,
    private readonly eta?: EtaService,
  ) {
    webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
    this.disposables.push(
      webview.onDidReceiveMessage((m) => this.receive(m)),
      controller.onDidChangeState(() => this.schedule(Date.now())),
    );
    // A new prediction (throttled by the EtaService) is a change of the view too.
    if (eta) this.disposables.push(eta.onDidChange(() => this.schedule(Date.now())));
    webview.html = this.html();
    stats.webviews += 1;
    this.clock = setInterval(() => {
      if (this.ready && this.last?.header.batch === 'running') this.schedule(Date.now());
    }, CLOCK_REFRESH_MS);
  }

  /** The webview's document was thrown away (hidden view): wait for the next ready. */
  reset(): void {
    this.ready = false;
  }

  private html(): string {
    const n = nonce();
    const w = this.webview;
    const script = w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const codicons = w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'media', 'codicon.css'));
    return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${w.cspSource} 'nonce-${n}'; font-src ${w.cspSource}; img-src ${w.cspSource} data:; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>Orchard Dashboard</title>
<link rel="stylesheet" nonce="${n}" href="${codicons}">
<style nonce="${n}">${DASHBOARD_CSS}</style></head>
<body class="${this.compact ? 'compact' : ''}"><main id="app" aria-label="Orchard dashboard"><p class="empty">Loading the dashboard…</p></main>
<script nonce="${n}" src="${script}"></script></body></html>`;
  }

  private post(m: HostToWebview): void {
    const json = JSON.stringify(m);
    keep(this.stats.messageBytes, json.length);
    void this.webview.postMessage(m);
  }

  private sendSnapshot(eventAt: number): void {
    const t0 = performance.now();
    const view = currentView(this.controller, Date.now(), this.eta);
    if (!view) return;
    keep(this.stats.buildMs, performance.now() - t0);
    this.version += 1;
    this.last = view;
    this.stats.snapshots += 1;
    if (this.compact) this.stats.compactSnapshots += 1;
    this.post({ type: 'snapshot', version: this.version, view, eventAt, compact: this.compact });
  }

  private schedule(eventAt: number): void {
    this.stats.changes += 1;
    if (!this.ready) {
      this.stats.notReady += 1;
      return;
    }
    this.pendingEventAt ??= eventAt;
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + UPDATE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    try {
      this.update();
    } catch (e) {
      this.stats.errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
      if (this.stats.errors.length > 20) this.stats.errors.shift();
    }
  }

  private update(): void {
    this.timer = undefined;
    const eventAt = this.pendingEventAt ?? Date.now();
    this.pendingEventAt = undefined;
    this.lastFlush = Date.now();
    if (!this.ready) return;
    if (!this.last) return this.sendSnapshot(eventAt);
    const t0 = performance.now();
    const next = currentView(this.controller, Date.now(), this.eta);
    if (!next) return;
    const patch = diffViews(this.last, next, this.version);
    keep(this.stats.buildMs, performance.now() - t0);
    if (!patch) return;
    this.last = next;
    this.version = patch.to;
    this.stats.patches += 1;
    this.post({ type: 'patch', patch, eventAt });
  }

  private receive(raw: unknown): void {
    const m = parseWebviewMessage(raw);
    if (!m) {
      this.stats.rejected += 1;
      return;
    }
    switch (m.type) {
      case 'ready':
        if (m.protocol !== PROTOCOL_VERSION) return;
        this.ready = true;
        this.sendSnapshot(Date.now());
        return;
      case 'resync':
        this.stats.resyncs += 1;
        this.sendSnapshot(Date.now());
        return;
      case 'rendered':
        keep(this.stats.latencyMs, Math.max(0, m.visibleAt - m.eventAt));
        keep(this.stats.renderMs, m.renderMs);
        return;
      case 'select':
        this.actions.selected = m.ticketId;
        return;
      case 'request':
        void this.actions.run(m.request).then(
          (message) => this.post({ type: 'response', id: m.id, ok: true, ...(message ? { message } : {}) }),
          (e: unknown) => this.post({ type: 'response', id: m.id, ok: false, message: errorText(e) }),
        );
        return;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.clock) clearInterval(this.clock);
    for (const d of this.disposables) d.dispose();
  }
}

/** Runs the webview's requests through VS Code commands (with fallbacks to the core). */
class DashboardActions {
  selected: string | undefined;
  constructor(
    private readonly controller: OrchardController,
    private readonly eta?: EtaService,
  ) {}

  async run(r: DashboardRequest): Promise<string | undefined> {
    if (r.kind === 'saveSnapshot') return this.saveSnapshot();
    const command = REQUEST_COMMANDS[r.kind];
    const args: unknown[] = r.kind === 'answerEscalation' ? [r.escalationId, { option: r.option, guidance: r.guidance }] : [r.ticketId];
    const known = new Set(await vscode.commands.getCommands(true));
    if (known.has(command)) {
      const result = await vscode.commands.executeCommand(command, ...args);
      if (r.kind === 'answerEscalation' && result === false) throw new Error('The escalation was not answered.');
      return undefined;
    }
    // Commands other parts of the extension add; until they exist, do what the core can.
    const s = await this.controller.writer();
    switch (r.kind) {
      case 'cancelTicket':
        await s.orchestrator.cancel(r.ticketId);
        return `Cancelled ${r.ticketId}.`;
      case 'retryTicket':
        await s.orchestrator.retry(r.ticketId);
        return `${r.ticketId} goes back to the queue.`;
      case 'openTerminal': {
        const t = vscode.window.terminals.find((x) => x.name.includes(r.ticketId));
        if (!t) throw new Error(`No terminal is open for ${r.ticketId}.`);
        t.show();
        return undefined;
      }
      default:
        throw new Error(`"${command}" is not available in this version of Orchard.`);
    }
  }

  private async saveSnapshot(): Promise<string | undefined> {
    const view = currentView(this.controller, Date.now(), this.eta);
    if (!view) throw new Error('Open a git repository to use Orchard.');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: 'Save dashboard snapshot',
      filters: { HTML: ['html'] },
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, 'orchard-dashboard.html') } : {}),
    });
    if (!target) return undefined;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(dashboardSnapshotHtml(view)));
    return `Saved ${target.fsPath}`;
  }
}

const emptyStats = (): DashboardStats => ({
  latencyMs: [],
  renderMs: [],
  buildMs: [],
  messageBytes: [],
  webviews: 0,
  changes: 0,
  notReady: 0,
  snapshots: 0,
  compactSnapshots: 0,
  patches: 0,
  resyncs: 0,
  rejected: 0,
  errors: [],
});

/** The dashboard: the editor panel, the side-bar view, and the stats of both. */
export class DashboardPanel implements vscode.Disposable {
  static readonly viewType = 'orchard.dashboard';
  static readonly sideViewId = 'orchard.dashboardView';
  private panel: vscode.WebviewPanel | undefined;
  private panelConnection: DashboardConnection | undefined;
  private sideConnection: DashboardConnection | undefined;
  readonly stats: DashboardStats = emptyStats();
  readonly actions: DashboardActions;
  private readonly registrations: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: OrchardController,
    private readonly eta?: EtaService,
  ) {
    this.actions = new DashboardActions(controller, eta);
    this.registrations.push(
      vscode.window.registerWebviewViewProvider(DashboardPanel.sideViewId, {
        resolveWebviewView: (view) => {
          this.sideConnection?.dispose();
          const c = new DashboardConnection(view.webview, this.extensionUri, this.controller, true, this.stats, this.actions, this.eta);
          this.sideConnection = c;
          view.onDidChangeVisibility(() => !view.visible && c.reset());
          view.onDidDispose(() => {
            c.dispose();
            if (this.sideConnection === c) this.sideConnection = undefined;
          });
        },
      }),
      // After a window reload VS Code restores the panel; the webview's saved state comes with it.
      vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
        deserializeWebviewPanel: async (panel) => {
          await controller.open();
          this.adopt(panel);
        },
      }),
      vscode.commands.registerCommand('orchard.dashboard.stats', () => this.stats),
      vscode.commands.registerCommand('orchard.dashboard.snapshotHtml', () => {
        const v = currentView(this.controller, Date.now(), this.eta);
        return v ? dashboardSnapshotHtml(v) : undefined;
      }),
    );
  }

  get isOpen(): boolean {
    return !!this.panel;
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DashboardPanel.viewType, 'Orchard Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    this.adopt(panel);
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panelConnection?.dispose();
    this.panel?.dispose();
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'orchard.svg');
    const c = new DashboardConnection(panel.webview, this.extensionUri, this.controller, false, this.stats, this.actions, this.eta);
    this.panelConnection = c;
    panel.onDidChangeViewState(() => !panel.visible && c.reset());
    panel.onDidDispose(() => {
      c.dispose();
      if (this.panel === panel) {
        this.panel = undefined;
        this.panelConnection = undefined;
      }
    });
  }

  dispose(): void {
    for (const d of this.registrations) d.dispose();
    this.panelConnection?.dispose();
    this.sideConnection?.dispose();
    this.panel?.dispose();
  }
}
