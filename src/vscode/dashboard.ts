// The dashboard webview panel. For now it shows the batch summary; the full dashboard
// (agents, graph, timeline, metrics) arrives with its own issue.
import * as vscode from 'vscode';
import { summarize, formatDuration } from '../core/report';
import type { OrchardController } from './controller';

function nonce(): string {
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class DashboardPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: OrchardController,
  ) {
    this.subscription = controller.onDidChangeState(() => this.render());
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.panel = vscode.window.createWebviewPanel('orchard.dashboard', 'Orchard Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    this.panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'orchard.svg');
    this.panel.onDidDispose(() => (this.panel = undefined));
    this.render();
  }

  private render(): void {
    if (!this.panel) return;
    const webview = this.panel.webview;
    const n = nonce();
    const state = this.controller.state();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    let body = '<p>Open a git repository to use Orchard.</p>';
    if (state) {
      const s = summarize(state, Date.now());
      const counts = new Map<string, number>();
      for (const t of Object.values(state.tickets)) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
      body = `<h1>Orchard</h1>
<section class="tiles">
  <div class="tile"><span class="n">${s.tickets}</span> tickets</div>
  <div class="tile"><span class="n">${s.done}</span> done</div>
  <div class="tile"><span class="n">${counts.get('running') ?? 0}</span> running</div>
  <div class="tile"><span class="n">${s.failed}</span> failed</div>
  <div class="tile"><span class="n">${s.runs ? `${s.speedup.toFixed(2)}×` : '—'}</span> speedup</div>
</section>
<p>${s.runs ? `Wall time ${escapeHtml(formatDuration(s.wallMs))}, agent time ${escapeHtml(formatDuration(s.agentMs))}, ${s.runs} runs.` : 'Not started yet: press Start (▷) in the Tickets view.'}</p>
<table><thead><tr><th>Ticket</th><th>Title</th><th>Status</th></tr></thead><tbody>
${Object.values(state.tickets)
  .map((t) => `<tr><td>${escapeHtml(t.id)}</td><td>${escapeHtml(t.title)}</td><td>${escapeHtml(t.status)}</td></tr>`)
  .join('\n')}
</tbody></table>`;
    }
    webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${n}'; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>Orchard Dashboard</title>
<style nonce="${n}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; }
.tile { border: 1px solid var(--vscode-panel-border); border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.tile .n { display: block; font-size: 1.8em; font-weight: 600; }
table { border-collapse: collapse; margin-top: 12px; } td, th { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--vscode-panel-border); }
</style></head><body>${body}<script nonce="${n}" src="${script}"></script></body></html>`;
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}
