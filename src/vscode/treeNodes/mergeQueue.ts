// Nodes of the Merge queue view: the ticket being merged, the queue in order, and merges
// that stopped for the human (conflict, dirty target checkout).
import * as vscode from 'vscode';
import type { OrchardState, Ticket } from '../../core/model';
import { icon, lastRunOf } from './nodes';

export type MergeState = 'merging' | 'queued' | 'conflict' | 'target-dirty' | 'kept';

export interface MergeNode {
  kind: 'merge';
  id: string;
  state: MergeState;
}

/** How a ticket stands in the merge queue, if it is in it. */
export function mergeStateOf(t: Ticket): MergeState | undefined {
  const conflict = (t as Ticket & { conflict?: { kept?: boolean } }).conflict;
  if (t.status === 'merging') return 'merging';
  if (conflict?.kept && t.status !== 'done') return 'kept';
  if (conflict && t.status !== 'done' && t.status !== 'cancelled') return 'conflict';
  if (t.status === 'queued-for-merge') return 'queued';
  if (t.status === 'escalated' && /merge conflict/i.test(t.reason ?? '')) return 'conflict';
  if (t.status === 'escalated' && /uncommitted changes|dirty/i.test(t.reason ?? '')) return 'target-dirty';
  if (/kept for later/i.test(t.reason ?? '') && t.status !== 'done') return 'kept';
  return undefined;
}

const ORDER: Record<MergeState, number> = { merging: 0, conflict: 1, 'target-dirty': 2, queued: 3, kept: 4 };

export function mergeNodes(s: OrchardState): MergeNode[] {
  const out: MergeNode[] = [];
  for (const t of Object.values(s.tickets)) {
    const st = mergeStateOf(t);
    if (st) out.push({ kind: 'merge', id: t.id, state: st });
  }
  // Queue order: the order tickets finished their runs (first finished, first merged).
  const finished = (id: string) => lastRunOf(s, id)?.endedAt ?? 0;
  return out.sort((a, b) => ORDER[a.state] - ORDER[b.state] || finished(a.id) - finished(b.id));
}

const STATE_TEXT: Record<MergeState, string> = {
  merging: 'merging now',
  queued: 'queued',
  conflict: 'conflict: needs you',
  'target-dirty': 'target checkout has changes',
  kept: 'kept for later',
};

const STATE_ICON: Record<MergeState, [string, string?]> = {
  merging: ['sync~spin', 'charts.purple'],
  queued: ['git-pull-request', 'charts.purple'],
  conflict: ['git-merge', 'charts.red'],
  'target-dirty': ['warning', 'charts.yellow'],
  kept: ['archive'],
};

export function mergeItem(n: MergeNode, s: OrchardState, position: number): vscode.TreeItem {
  const t = s.tickets[n.id]!;
  const run = lastRunOf(s, t.id);
  const item = new vscode.TreeItem(`${t.id}  ${t.title}`);
  item.id = `merge:${t.id}`;
  item.description = [n.state === 'queued' ? `#${position}` : '', STATE_TEXT[n.state], run?.branch ?? ''].filter(Boolean).join(' · ');
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${t.id}** — `).appendText(`${t.title}\n\n${STATE_TEXT[n.state]}`);
  if (t.reason) md.appendMarkdown('\n\n').appendText(t.reason);
  if (run?.filesChanged?.length) md.appendMarkdown('\n\nChanged: ').appendText(run.filesChanged.join(', '));
  item.tooltip = md;
  item.iconPath = icon(STATE_ICON[n.state]);
  item.contextValue = `merge merge-${n.state}${run?.base ? ' has-diff' : ''}${run?.worktree ? ' has-worktree' : ''}`;
  return item;
}
