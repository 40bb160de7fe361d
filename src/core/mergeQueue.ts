// The merge queue's decisions (pure): in which order queued branches are merged, which of
// them go into a batch, and the batch bisection state machine. Git work is infra's
// (src/infra/git/merger.ts); the orchestrator feeds results in and executes what comes out.
//
// Order: priority class first, then the time the ticket entered the queue, then id. A
// ticket that `git merge-tree` predicts to conflict with the current target tip goes after
// every ticket predicted clean, so the clean ones are merged (and tested) first, and the
// conflict is raised without spending a test run on it.
//
// Batch mode (bors-style): take up to maxBatch tickets from the front, merge them one after
// the other in the integration worktree (the same chain of merges one-at-a-time would make),
// test the top once. Pass: the target moves to the top, all are merged. Fail: split into
// halves and test the left half on the tip. Facts carry over exactly, without assuming
// anything about the tests: if the whole failed and its left half passes (and is merged),
// then the right half on the new tip is the very tree that failed, so it is known to fail
// and is split without testing it again; a known-failing single ticket is the culprit. After
// a culprit is found the rest of its batch goes back to the front of the queue and the next
// batch is planned afresh. Every ticket that is merged was tested (alone or as the top of a
// chain) on exactly the target it was merged onto, so with tests where a passing chain means
// passing prefixes, the final target equals the one-at-a-time result.
import { priorityRank, type Priority } from './model';

export interface QueueEntry {
  ticketId: string;
  priority: Priority;
  /** When it entered the queue (ms). */
  queuedAt: number;
  /** merge-tree predicts a conflict with the current target tip. */
  predictedConflict?: boolean;
}

/** The queue in merge order (see the file comment). */
export function orderQueue(entries: readonly QueueEntry[]): QueueEntry[] {
  return [...entries].sort(
    (a, b) =>
      Number(!!a.predictedConflict) - Number(!!b.predictedConflict) ||
      priorityRank(a.priority) - priorityRank(b.priority) ||
      a.queuedAt - b.queuedAt ||
      a.ticketId.localeCompare(b.ticketId),
  );
}

/** The next batch: up to maxBatch tickets from the front of the ordered queue, none predicted to conflict. */
export function planBatch(ordered: readonly QueueEntry[], maxBatch: number): string[] {
  const out: string[] = [];
  for (const e of ordered) {
    if (out.length >= Math.max(1, maxBatch)) break;
    if (e.predictedConflict) {
      // A predicted conflict is merged alone (it will stop at the conflict without a test run).
      if (out.length === 0) out.push(e.ticketId);
      break;
    }
    out.push(e.ticketId);
  }
  return out;
}

type SegmentState = 'untested' | 'fails-if-previous-passes' | 'known-fail';

interface Segment {
  ids: string[];
  state: SegmentState;
}

export type BisectStep =
  /** Merge these (in order) on the current tip and test the top once. */
  | { kind: 'test'; ids: string[] }
  /** This ticket is known to break the tests on the current tip: send it back, no test needed. */
  | { kind: 'culprit'; id: string }
  /** The batch is finished; `requeue` go back to the front of the queue, in this order. */
  | { kind: 'done'; requeue: string[] };

export interface BisectSnapshot {
  merged: string[];
  culprits: string[];
  tests: number;
}

/**
 * Bisection of one batch. Drive it with next() and, after each 'test', report(pass);
 * after a 'culprit', call culprit() (it records it). A conflict found while merging a
 * segment is taken out with drop(id): the segment is retested without it.
 */
export class BatchBisector {
  private segments: Segment[];
  readonly merged: string[] = [];
  readonly culprits: string[] = [];
  tests = 0;
  private pending: BisectStep | undefined;
  private finished = false;

  constructor(ids: readonly string[]) {
    if (ids.length === 0) throw new Error('a batch needs at least one ticket');
    this.segments = [{ ids: [...ids], state: 'untested' }];
  }

  get snapshot(): BisectSnapshot {
    return { merged: [...this.merged], culprits: [...this.culprits], tests: this.tests };
  }

  next(): BisectStep {
    if (this.pending) return this.pending;
    if (this.finished || this.segments.length === 0) {
      this.finished = true;
      return (this.pending = { kind: 'done', requeue: [] });
    }
    const head = this.segments[0]!;
    if (head.state === 'known-fail') {
      if (head.ids.length === 1) return (this.pending = { kind: 'culprit', id: head.ids[0]! });
      const mid = Math.ceil(head.ids.length / 2);
      this.segments.splice(0, 1, { ids: head.ids.slice(0, mid), state: 'untested' }, { ids: head.ids.slice(mid), state: 'fails-if-previous-passes' });
      return this.next();
    }
    return (this.pending = { kind: 'test', ids: [...head.ids] });
  }

  /** The result of the 'test' step. */
  report(pass: boolean): void {
    const step = this.pending;
    if (step?.kind !== 'test') throw new Error(`report() after a ${step?.kind ?? 'missing'} step`);
    this.pending = undefined;
    this.tests++;
    const head = this.segments.shift()!;
    if (pass) {
      this.merged.push(...head.ids);
      const following = this.segments[0];
      if (following?.state === 'fails-if-previous-passes') following.state = 'known-fail';
      return;
    }
    const following = this.segments[0];
    if (following?.state === 'fails-if-previous-passes') following.state = 'untested';
    // A failing single ticket comes back from next() as the culprit; a longer one is split.
    this.segments.unshift({ ids: head.ids, state: 'known-fail' });
  }

  /** Acknowledges the 'culprit' step. */
  culprit(): void {
    const step = this.pending;
    if (step?.kind !== 'culprit') throw new Error(`culprit() after a ${step?.kind ?? 'missing'} step`);
    this.pending = undefined;
    this.segments.shift();
    this.culpritFound(step.id);
  }

  /** Takes a ticket out of the batch (it conflicted while being merged into the chain). */
  drop(id: string): void {
    this.pending = undefined;
    for (const s of this.segments) {
      const i = s.ids.indexOf(id);
      if (i < 0) continue;
      s.ids.splice(i, 1);
      // What was known about the segment is no longer about the same tree.
      s.state = 'untested';
      for (const later of this.segments.slice(this.segments.indexOf(s) + 1)) if (later.state !== 'untested') later.state = 'untested';
    }
    this.segments = this.segments.filter((s) => s.ids.length > 0);
  }

  private culpritFound(id: string): void {
    this.culprits.push(id);
    // The rest of the batch goes back to the queue: the next batch is planned afresh.
    const rest = this.segments.flatMap((s) => s.ids);
    this.segments = [];
    this.finished = true;
    this.pending = { kind: 'done', requeue: rest };
  }
}

/**
 * Runs a whole queue through batches with a test oracle (for the simulator, benches and
 * tests): `test(ids)` merges ids onto the current tip and tests the top, resolving to
 * whether it passed (and, if it passed, moving the tip). Returns merged ids in merge order.
 */
export async function runBatches(
  queue: readonly string[],
  maxBatch: number,
  test: (ids: string[]) => Promise<boolean>,
  onCulprit: (id: string) => Promise<void> | void = () => undefined,
): Promise<{ merged: string[]; culprits: string[]; tests: number; batches: number }> {
  let rest = [...queue];
  const merged: string[] = [];
  const culprits: string[] = [];
  let tests = 0;
  let batches = 0;
  while (rest.length) {
    const batch = rest.slice(0, Math.max(1, maxBatch));
    rest = rest.slice(batch.length);
    batches++;
    const b = new BatchBisector(batch);
    for (;;) {
      const step = b.next();
      if (step.kind === 'test') b.report(await test(step.ids));
      else if (step.kind === 'culprit') {
        await onCulprit(step.id);
        b.culprit();
      } else {
        rest = [...step.requeue, ...rest];
        break;
      }
    }
    merged.push(...b.merged);
    culprits.push(...b.culprits);
    tests += b.tests;
  }
  return { merged, culprits, tests, batches };
}
