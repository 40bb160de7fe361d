// Nodes of the Tickets tree: status groups, tickets, and a ticket's dependencies, runs and
// gate results. Shared helpers (icons, labels, run index) are used by the other views.
import * as vscode from 'vscode';
import { batchEtaDetail, batchEtaLabel, ticketEtaDetail, ticketEtaShort, type LivePrediction } from '../../core/etaView';
import type { OrchardState, Run, Ticket, TicketStatus } from '../../core/model';
import { formatDuration } from '../../core/report';
import type { BatchEtaView } from '../../shared/eta';

export const STATUS_ORDER: readonly TicketStatus[] = [
  'escalated',
  'running',
  'gating',
  'in-review',
  'merging',
  'queued-for-merge',
  'ready',
  'backlog',
  'blocked',
  'failed',
  'done',
  'cancelled',
];

export const STATUS_LABEL: Record<TicketStatus, string> = {
  escalated: 'Waiting on you',
  running: 'Running',
  gating: 'Gating',
  'in-review': 'Waiting for review',
  merging: 'Merging',
  'queued-for-merge': 'Queued for merge',
  ready: 'Ready',
  backlog: 'Backlog',
  blocked: 'Blocked',
  failed: 'Failed',
  done: 'Done',
  cancelled: 'Cancelled',
};

export const STATUS_ICON: Record<TicketStatus, [string, string?]> = {
  escalated: ['question', 'charts.yellow'],
  running: ['sync~spin', 'charts.blue'],
  gating: ['beaker', 'charts.blue'],
  'in-review': ['eye', 'charts.yellow'],
  merging: ['git-merge', 'charts.purple'],
  'queued-for-merge': ['git-pull-request', 'charts.purple'],
  ready: ['circle-large-outline'],
  backlog: ['circle-outline'],
  blocked: ['debug-pause', 'charts.orange'],
  failed: ['error', 'charts.red'],
  done: ['pass-filled', 'charts.green'],
  cancelled: ['circle-slash'],
};

export const PRIORITY_ICON: Record<string, [string, string?]> = {
  P0: ['flame', 'charts.red'],
  P1: ['arrow-up', 'charts.orange'],
  P2: ['dash'],
  P3: ['arrow-down'],
};

export type Node =
  | { kind: 'eta' }
  | { kind: 'group'; status: TicketStatus; ids: string[] }
  | { kind: 'ticket'; id: string }
  | { kind: 'dependency'; id: string; of: string }
  | { kind: 'run'; runId: string }
  | { kind: 'gate'; runId: string; index: number };

/** A gate's result as runs carry it (added by the merge queue work; optional). */
export interface GateResult {
  name: string;
  passed: boolean;
  output?: string;
  durationMs?: number;
}

export function gatesOf(r: Run | undefined): GateResult[] {
  const g = (r as (Run & { gates?: unknown }) | undefined)?.gates;
  return Array.isArray(g) ? (g as GateResult[]) : [];
}

export function icon([id, color]: [string, string?]): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

const runIndex = new WeakMap<OrchardState, { seq: number; runs: number; byTicket: Map<string, Run[]> }>();

/** A ticket's runs, oldest first (indexed once per state change, not scanned per ticket). */
export function runsOf(state: OrchardState, ticketId: string): Run[] {
  const count = Object.keys(state.runs).length;
  let idx = runIndex.get(state);
  if (!idx || idx.seq !== state.seq || idx.runs !== count) {
    const byTicket = new Map<string, Run[]>();
    for (const r of Object.values(state.runs)) {
      const list = byTicket.get(r.ticketId);
      if (list) list.push(r);
      else byTicket.set(r.ticketId, [r]);
    }
    for (const list of byTicket.values()) list.sort((a, b) => a.attempt - b.attempt);
    idx = { seq: state.seq, runs: count, byTicket };
    runIndex.set(state, idx);
  }
  return idx.byTicket.get(ticketId) ?? [];
}

export function lastRunOf(state: OrchardState, ticketId: string): Run | undefined {
  const runs = runsOf(state, ticketId);
  return runs[runs.length - 1];
}

export function groupItem(node: Extract<Node, { kind: 'group' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(STATUS_LABEL[node.status], vscode.TreeItemCollapsibleState.Expanded);
  item.id = `group:${node.status}`;
  item.description = String(node.ids.length);
  item.iconPath = icon(STATUS_ICON[node.status]);
  item.contextValue = `group-${node.status}`;
  return item;
}

/** The first row of the Tickets view: the batch's predicted end. */
export function etaItem(b: BatchEtaView, lp: LivePrediction, now: number, agents: number): vscode.TreeItem {
  const item = new vscode.TreeItem(batchEtaLabel(b, now));
  item.id = 'eta';
  item.iconPath = icon(b.cannotFinish && b.end === undefined && b.after === undefined ? ['warning', 'charts.orange'] : ['watch']);
  item.description = lp.prediction.samples ? `corrected by ${lp.prediction.samples} done` : 'from estimates';
  item.tooltip = batchEtaDetail(lp, b, now, agents).join('\n\n');
  item.contextValue = 'eta';
  return item;
}

export function ticketItem(t: Ticket, state: OrchardState, now: number, eta?: LivePrediction): vscode.TreeItem {
  const runs = runsOf(state, t.id);
  const last = runs[runs.length - 1];
  const hasChildren = t.dependsOn.length > 0 || runs.length > 0 || gatesOf(last).length > 0;
  const item = new vscode.TreeItem(`${t.id}  ${t.title}`, hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = `ticket:${t.id}`;
  item.iconPath = icon(t.status === 'running' || t.status === 'escalated' ? STATUS_ICON[t.status] : (PRIORITY_ICON[t.priority] ?? ['dash']));
  const parts: string[] = [t.priority];
  if (t.status === 'running' && last) {
    parts.push(formatDuration(now - last.startedAt));
    if (last.progress !== undefined) parts.push(`${last.progress}%`);
  }
  const predicted = eta && ticketEtaShort(eta, state, t.id, now);
  if (predicted) parts.push(predicted);
  const waitingOn = t.dependsOn.filter((d) => state.tickets[d]?.status !== 'done');
  if ((t.status === 'backlog' || t.status === 'blocked') && waitingOn.length) parts.push(`after ${waitingOn.join(', ')}`);
  if (t.reason && t.status !== 'running' && t.status !== 'done') parts.push(t.reason);
  if (t.status === 'done' && t.mergedAs) parts.push(`merged ${t.mergedAs.slice(0, 8)}`);
  item.description = parts.join(' · ');
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${t.id}** — `).appendText(t.title);
  md.appendMarkdown(`\n\n$(tag) ${t.priority} · ${STATUS_LABEL[t.status]}`);
  if (t.reason) md.appendMarkdown('\n\n').appendText(t.reason);
  if (t.dependsOn.length) md.appendMarkdown(`\n\nDepends on: `).appendText(t.dependsOn.join(', '));
  if (t.files.length) md.appendMarkdown(`\n\nFiles: `).appendText(t.files.join(', '));
  if (last?.message) md.appendMarkdown('\n\nAgent: ').appendText(last.message);
  md.supportThemeIcons = true;
  item.tooltip = md;
  if (waitingOn.length) md.appendMarkdown('\n\nWaiting on: ').appendText(waitingOn.map((d) => `${d} (${state.tickets[d]?.status ?? 'unknown'})`).join(', '));
  if (t.status === 'running' && last?.progress !== undefined) md.appendMarkdown(`\n\nProgress: ${last.progress}%`);
  for (const line of eta ? ticketEtaDetail(eta, state, t.id, now) : []) md.appendMarkdown('\n\n').appendText(line);
  item.contextValue = `ticket-${t.status}${last?.worktree ? ' has-worktree' : ''}${last?.base ? ' has-diff' : ''}`;
  return item;
}

export function dependencyItem(dep: Ticket | undefined, id: string, parent: string): vscode.TreeItem {
  const item = new vscode.TreeItem(dep ? `${dep.id}  ${dep.title}` : id);
  item.id = `dep:${parent}:${id}`;
  item.description = dep ? `dependency · ${STATUS_LABEL[dep.status]}` : 'unknown dependency';
  item.iconPath = icon(dep ? STATUS_ICON[dep.status] : ['warning', 'charts.yellow']);
  item.contextValue = 'dependency';
  return item;
}

export function runItem(r: Run, now: number): vscode.TreeItem {
  const item = new vscode.TreeItem(`Run ${r.attempt} · slot ${r.slot}`);
  item.id = `run:${r.id}`;
  const dur = formatDuration((r.endedAt ?? now) - r.startedAt);
  item.description = [r.outcome ?? 'running', dur, r.commits !== undefined ? `${r.commits} commits` : ''].filter(Boolean).join(' · ');
  item.tooltip = [`branch ${r.branch}`, `worktree ${r.worktree}`, r.filesChanged?.length ? `changed: ${r.filesChanged.join(', ')}` : '', r.message ?? '']
    .filter(Boolean)
    .join('\n');
  item.iconPath = icon(r.outcome === 'succeeded' ? ['check'] : r.outcome ? ['close'] : ['loading~spin']);
  item.contextValue = `run${r.endedAt ? '' : ' run-live'}${r.worktree ? ' has-worktree' : ''}${r.base ? ' has-diff' : ''}`;
  return item;
}

export function gateItem(g: GateResult, runId: string, index: number): vscode.TreeItem {
  const item = new vscode.TreeItem(`Gate: ${g.name}`);
  item.id = `gate:${runId}:${index}`;
  item.description = [g.passed ? 'passed' : 'failed', g.durationMs !== undefined ? formatDuration(g.durationMs) : ''].filter(Boolean).join(' · ');
  item.tooltip = g.output ? g.output.slice(-2000) : undefined;
  item.iconPath = icon(g.passed ? ['pass', 'charts.green'] : ['error', 'charts.red']);
  item.contextValue = 'gate';
  return item;
}
