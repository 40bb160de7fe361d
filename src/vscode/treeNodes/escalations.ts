// Nodes of the Escalations view: open questions for the human, most urgent first.
import * as vscode from 'vscode';
import type { Escalation } from '../../core/escalations';
import type { OrchardState } from '../../core/model';
import { formatDuration } from '../../core/report';
import { icon } from './nodes';

export interface EscalationNode {
  kind: 'escalation';
  id: string;
}

const TRIGGER_ICON: Record<string, [string, string?]> = {
  security: ['shield', 'charts.red'],
  data: ['database', 'charts.red'],
  architecture: ['symbol-structure', 'charts.yellow'],
  conflict: ['git-merge', 'charts.orange'],
  'agent-failed': ['error', 'charts.red'],
  'repeated-escalation': ['flame', 'charts.orange'],
  'lock-wait': ['lock', 'charts.yellow'],
};

export function escalationItem(e: Escalation, s: OrchardState, now: number): vscode.TreeItem {
  const t = s.tickets[e.ticketId];
  const item = new vscode.TreeItem(e.question);
  item.id = `escalation:${e.id}`;
  item.description = [e.ticketId, t?.priority, e.trigger, `${formatDuration(now - e.createdAt)} ago`].filter(Boolean).join(' · ');
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${e.ticketId}** asks (${e.trigger}):\n\n`).appendText(e.question);
  if (e.context) md.appendMarkdown('\n\n').appendText(e.context);
  if (e.options.length) md.appendMarkdown('\n\nOptions: ').appendText(e.options.join(' · '));
  if (e.requiresHuman) md.appendMarkdown('\n\n_Only a human may answer._');
  item.tooltip = md;
  item.iconPath = icon(TRIGGER_ICON[e.trigger] ?? ['question', 'charts.yellow']);
  item.contextValue = 'escalation';
  item.command = { command: 'orchard.answerEscalation', title: 'Answer Escalation', arguments: [e.id] };
  return item;
}
