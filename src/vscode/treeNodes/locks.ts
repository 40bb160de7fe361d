// Nodes of the Locks view: path or glob → holding ticket and agent, time left on the lease.
import * as vscode from 'vscode';
import type { Lock, OrchardState } from '../../core/model';
import { formatDuration } from '../../core/report';
import { icon } from './nodes';

export interface LockNode {
  kind: 'lock';
  pattern: string;
  runId: string;
}

export function lockItem(l: Lock, s: OrchardState, now: number): vscode.TreeItem {
  const run = s.runs[l.runId];
  const t = s.tickets[l.ticketId];
  const item = new vscode.TreeItem(l.pattern);
  item.id = `lock:${l.runId}:${l.pattern}`;
  const left = l.expiresAt - now;
  item.description = [`${l.ticketId}${run ? ` · agent ${run.slot}` : ''}`, left > 0 ? `${formatDuration(left)} left` : 'expired'].join(' · ');
  const md = new vscode.MarkdownString();
  md.appendMarkdown('**').appendText(l.pattern).appendMarkdown('**');
  md.appendMarkdown('\n\nHeld by ').appendText(`${l.ticketId}${t ? ` ${t.title}` : ''} (run ${l.runId}${run ? `, agent ${run.slot}` : ''})`);
  md.appendMarkdown(`\n\nLease: ${left > 0 ? `${formatDuration(left)} left` : 'expired'} · generation ${l.generation}`);
  item.tooltip = md;
  item.iconPath = icon(left > 0 ? ['lock'] : ['unlock', 'charts.orange']);
  item.contextValue = 'lock';
  return item;
}
