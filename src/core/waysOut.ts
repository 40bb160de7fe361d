// The ways out of a question Orchard itself asks (a stopped merge, failed gates, a dirty
// checkout of the target): typed ids carried from the core to every UI. Labels are only what a
// person reads; what an answer does is decided by the id, wherever it was chosen.
import type { Escalation } from './escalations';

export const WAYS_OUT = ['open-conflicts', 'send-back', 'keep-for-later', 'discard', 'merge-now', 'stash-and-update', 'later'] as const;
export type WayOut = (typeof WAYS_OUT)[number];

export const WAY_OUT_LABELS: Readonly<Record<WayOut, string>> = {
  'open-conflicts': 'Open the conflicted files',
  'send-back': 'Send back to the agent',
  'keep-for-later': 'Keep the branch for later',
  discard: 'Discard',
  'merge-now': 'Merge now',
  'stash-and-update': 'Stash and update',
  later: 'Later',
};

/** A merge conflict. */
export const CONFLICT_WAYS: readonly WayOut[] = ['open-conflicts', 'send-back', 'keep-for-later', 'discard'];
/** The target is checked out with uncommitted changes. */
export const DIRTY_WAYS: readonly WayOut[] = ['stash-and-update', 'later'];
/** Gates failed (or a reviewer stopped it). */
export const GATE_WAYS: readonly WayOut[] = ['merge-now', 'send-back', 'discard'];
/** The merge itself failed (an error, not a conflict). */
export const MERGE_ERROR_WAYS: readonly WayOut[] = ['merge-now', 'keep-for-later', 'discard'];

export const labelsOf = (ways: readonly WayOut[]): string[] => ways.map((w) => WAY_OUT_LABELS[w]);

/**
 * The way out an option of Orchard's own question stands for; undefined for an agent's question
 * or an option that is no way out. Questions recorded before ways had ids go by their label.
 */
export function wayOutOf(e: Pick<Escalation, 'askedBy' | 'options' | 'ways'>, option: string | undefined): WayOut | undefined {
  if (e.askedBy || option === undefined) return undefined;
  const i = e.options.indexOf(option);
  if (i < 0) return undefined;
  if (e.ways) return e.ways[i];
  // Recorded before ways had ids: only a question whose every option is a way out's label is
  // Orchard's merge question (a first-run screen's "Later" is not).
  const byLabel = (o: string) => WAYS_OUT.find((w) => WAY_OUT_LABELS[w] === o);
  return e.options.every((o) => byLabel(o) !== undefined) ? byLabel(option) : undefined;
}
