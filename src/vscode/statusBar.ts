// Status bar: running agents / slots and questions waiting; click opens the dashboard;
// warning colour when a metric is past its alert threshold.
import { coalesced } from './coalesce';
import * as vscode from 'vscode';
import { computeMetrics } from '../core/metrics';
import type { OrchardController } from './controller';
import { Disposable } from './lifecycle';
import { metricThresholds } from './settings';
import { notifySettings } from './waitSignals';

export class OrchardStatusBar extends Disposable {
  readonly item = this._register(vscode.window.createStatusBarItem('orchard.status', vscode.StatusBarAlignment.Left, 50));
  private readonly repaint = coalesced(() => this.update(), 250);
  alerts: string[] = [];

  constructor(private readonly controller: OrchardController) {
    super();
    this.item.name = 'Orchard';
    this.item.command = 'orchard.showDashboard';
    this._register(controller.onDidChangeState(() => this.repaint.schedule()));
    this._register(this.repaint);
    this.update();
  }

  update(): void {
    const s = this.controller.state();
    if (!s) {
      this.item.hide();
      return;
    }
    const slots = this.controller.maxAgents();
    const running = Object.values(s.runs).filter((r) => r.endedAt === undefined).length;
    const waiting = this.controller.openEscalations().length;
    this.alerts = this.computeAlerts(slots);
    // The waiting count has its own item (waitSignals.ts) unless that is turned off.
    const bell = waiting && !notifySettings().statusBar ? ` $(bell-dot) ${waiting}` : '';
    this.item.text = `$(organization) ${running}/${slots}${bell}${this.alerts.length ? ' $(warning)' : ''}`;
    const md = new vscode.MarkdownString(`**Orchard** — ${running} of ${slots} agents working${this.controller.isActive() ? '' : ' (not scheduling)'}`, true);
    if (waiting) md.appendMarkdown(`\n\n$(bell-dot) ${waiting} question${waiting === 1 ? '' : 's'} waiting for you`);
    for (const a of this.alerts) md.appendMarkdown('\n\n$(warning) ').appendText(a);
    md.appendMarkdown('\n\nClick to open the dashboard.');
    this.item.tooltip = md;
    this.item.backgroundColor = this.alerts.length ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  private computeAlerts(agents: number): string[] {
    const s = this.controller.state()!;
    if (!s.batch) return [];
    const m = computeMetrics(s, Object.values(s.escalations ?? {}), Date.now(), agents).metrics;
    const th = metricThresholds();
    const out: string[] = [];
    const v = (k: keyof typeof m) => m[k].value;
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    const inProgress = v('ticketsInProgress');
    if (inProgress !== null && inProgress > th.ticketsInProgressPerAgent * agents) out.push(`${inProgress} tickets in progress for ${agents} agents`);
    const avg = v('averageCompletionMinutes');
    if (avg !== null && avg > th.averageCompletionMinutes) out.push(`average completion ${Math.round(avg)} min`);
    const esc = v('escalationRate');
    if (esc !== null && esc > th.escalationRate) out.push(`escalation rate ${pct(esc)}`);
    const conf = v('conflictRate');
    if (conf !== null && conf > th.conflictRate) out.push(`conflict rate ${pct(conf)}`);
    const util = v('agentUtilization');
    // Utilisation only means something while work is going on.
    if (util !== null && util < th.agentUtilization && this.controller.isActive() && Object.values(s.runs).some((r) => r.endedAt === undefined))
      out.push(`agent utilization ${pct(util)}`);
    return out;
  }
}
