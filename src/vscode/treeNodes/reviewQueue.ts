// The Review Queue view: tickets waiting for a person's review, oldest first, each with how
// long it waits, the agent's summary, its gate results and the files it changed (its
// children; a file opens its diff). Several rows can be selected and approved at once.
import * as vscode from 'vscode';
import type { ReviewItem } from '../../core/review';
import type { OrchardController } from '../controller';
import { Disposable } from '../lifecycle';
import { reviewGatesText } from '../../shared/render';
import { reviewQueueOf, reviewRowDescription } from '../reviewModel';
import { StateTreeProvider, type TreeModel } from '../stateTree';
import { icon } from './nodes';

export type ReviewNode = { kind: 'review'; id: string } | { kind: 'review-file'; id: string; file: string };

function reviewItem(r: ReviewItem, now: number): vscode.TreeItem {
  const item = new vscode.TreeItem(
    `${r.ticketId}  ${r.title}`,
    r.files.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `review:${r.ticketId}`;
  item.description = reviewRowDescription(r, now);
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${r.ticketId}** — `).appendText(r.title);
  md.appendMarkdown('\n\n$(eye) ').appendText(
    `Waiting for review since ${new Date(r.since).toLocaleTimeString()}: ${r.why.replace(/^waiting for review: /, '')}`,
  );
  if (r.summary) md.appendMarkdown('\n\n**Agent:** ').appendText(r.summary);
  md.appendMarkdown('\n\n**Gates:** ').appendText(reviewGatesText(r.gates));
  for (const g of r.gates) md.appendMarkdown(`\n- ${g.passed ? '$(pass)' : '$(error)'} `).appendText(g.name);
  md.appendMarkdown(`\n\n**${r.files.length} file${r.files.length === 1 ? '' : 's'} changed** on `).appendText(r.branch);
  for (const f of r.files.slice(0, 30)) md.appendMarkdown('\n- ').appendText(f);
  if (r.files.length > 30) md.appendMarkdown(`\n- … ${r.files.length - 30} more`);
  if (r.rounds) md.appendMarkdown(`\n\nChanges were asked ${r.rounds} time${r.rounds === 1 ? '' : 's'} before.`);
  item.tooltip = md;
  item.iconPath = icon(r.gates.every((g) => g.passed) ? ['eye', 'charts.yellow'] : ['warning', 'charts.orange']);
  item.contextValue = `review-item${r.base ? ' has-diff' : ''}${r.worktree ? ' has-worktree' : ''}`;
  item.command = { command: 'orchard.openReview', title: 'Open Review', arguments: [{ kind: 'review', id: r.ticketId }] };
  return item;
}

function fileItem(r: ReviewItem, file: string): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.Uri.file(`${r.worktree}/${file}`));
  item.id = `review:${r.ticketId}:${file}`;
  item.label = file.split('/').pop();
  item.description = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  item.tooltip = `${file} (${r.ticketId})`;
  item.contextValue = 'review-file';
  item.command = { command: 'orchard.openReview', title: 'Open Diff', arguments: [{ kind: 'review-file', id: r.ticketId, file }] };
  return item;
}

export const reviewQueueModel: TreeModel<ReviewNode> = {
  // "waiting 4 min" moves on its own.
  ticks: (s) => reviewQueueOf(s).length > 0,
  children: (s, node) => {
    if (!node) return reviewQueueOf(s).map((r) => ({ kind: 'review', id: r.ticketId }));
    if (node.kind !== 'review') return [];
    return (reviewQueueOf(s).find((r) => r.ticketId === node.id)?.files ?? []).map((file) => ({ kind: 'review-file', id: node.id, file }));
  },
  item: (s, node, now) => {
    const r = reviewQueueOf(s).find((x) => x.ticketId === node.id);
    if (!r) return new vscode.TreeItem(node.id);
    return node.kind === 'review' ? reviewItem(r, now) : fileItem(r, node.file);
  },
  parent: (_s, node) => (node.kind === 'review-file' ? { kind: 'review', id: node.id } : undefined),
};

/**
 * The view, with the number waiting in its header and two context keys: orchard.reviewDesk
 * (something waits: the view is shown; empty, it gives its room to the Tickets view) and
 * orchard.reviewsWaiting (the number waiting: review commands in the palette). The badge on
 * the Orchard icon is the waits' (waitSignals.ts), which count reviews: one number, not two.
 */
export class ReviewQueueView extends Disposable {
  readonly provider: StateTreeProvider<ReviewNode>;
  readonly view: vscode.TreeView<ReviewNode>;
  private keys = '';

  constructor(private readonly controller: OrchardController) {
    super();
    this.provider = this._register(new StateTreeProvider(() => controller.state(), reviewQueueModel));
    this.view = this._register(
      vscode.window.createTreeView('orchard.reviewQueue', { treeDataProvider: this.provider, canSelectMany: true, showCollapseAll: true }),
    );
    this._register(controller.onDidChangeState(() => this.refresh()));
    this.refresh();
  }

  refresh(): void {
    this.provider.refresh();
    const s = this.controller.state();
    const waiting = s ? reviewQueueOf(s).length : 0;
    this.view.description = waiting ? String(waiting) : undefined;
    const desk = waiting > 0;
    // Only when they change: this runs on every state change.
    if (this.keys === `${desk}:${waiting}`) return;
    this.keys = `${desk}:${waiting}`;
    void vscode.commands.executeCommand('setContext', 'orchard.reviewDesk', desk);
    void vscode.commands.executeCommand('setContext', 'orchard.reviewsWaiting', waiting);
  }

  /** Ticket ids selected in the view (Approve several at once). */
  selected(): string[] {
    return [...new Set(this.view.selection.map((n) => n.id))];
  }
}
