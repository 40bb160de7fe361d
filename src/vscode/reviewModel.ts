// The review desk's decisions that need no editor (no vscode import, unit-tested): which
// ticket in review a file belongs to, how draft comment threads become the line comments the
// core takes, and how a review queue row reads.
import * as path from 'node:path';
import type { OrchardState } from '../core/model';
import { reviewQueue, type ReviewComment, type ReviewItem } from '../core/review';
import { formatElapsed, reviewGatesText } from '../shared/render';

const queues = new WeakMap<OrchardState, { seq: number; items: ReviewItem[] }>();

/** The review queue of a state, computed once per state change (tree rows ask per row). */
export function reviewQueueOf(state: OrchardState): ReviewItem[] {
  const hit = queues.get(state);
  if (hit && hit.seq === state.seq) return hit.items;
  const items = reviewQueue(state);
  queues.set(state, { seq: state.seq, items });
  return items;
}

/** A file of a ticket in review: the item and the path relative to its worktree ('/'-separated). */
export interface ReviewFile {
  item: ReviewItem;
  file: string;
}

/** The ticket in review whose worktree holds this file, if any. */
export function reviewFileOf(fsPath: string, items: readonly ReviewItem[]): ReviewFile | undefined {
  for (const item of items) {
    if (!item.worktree) continue;
    const rel = path.relative(item.worktree, fsPath);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    return { item, file: rel.split(path.sep).join('/') };
  }
  return undefined;
}

/** A draft comment thread as the editor holds it: a file, a 0-based line, the comments' texts. */
export interface DraftThread {
  fsPath: string;
  /** 0-based, as editor ranges count. */
  line: number;
  bodies: readonly string[];
}

/**
 * The comments a reviewer drafted on one ticket, as requestChanges takes them: the file
 * relative to the ticket's worktree, the line 1-based, one comment per text; ordered by file
 * and line. Threads on other tickets' files, and empty texts, are left out.
 */
export function commentsFromDrafts(ticketId: string, items: readonly ReviewItem[], drafts: readonly DraftThread[]): ReviewComment[] {
  const out: ReviewComment[] = [];
  for (const d of drafts) {
    const f = reviewFileOf(d.fsPath, items);
    if (!f || f.item.ticketId !== ticketId) continue;
    for (const body of d.bodies) if (body.trim()) out.push({ file: f.file, line: d.line + 1, body: body.trim() });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

/** The row's description: "waiting 4m 05s · 3 files · 2 gates passed · review 2". */
export function reviewRowDescription(item: ReviewItem, now: number): string {
  const parts = [`waiting ${formatElapsed(now - item.since)}`, `${item.files.length} file${item.files.length === 1 ? '' : 's'}`, reviewGatesText(item.gates)];
  if (item.rounds) parts.push(`review ${item.rounds + 1}`);
  return parts.join(' · ');
}
