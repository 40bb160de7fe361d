// The lock table: leases on paths and globs held by runs (locking mode). Pure functions over
// Lock[] and the generation counter (OrchardState.locks / lockGeneration); they never change
// their input and return the new table plus what changed, so the caller can turn that into
// lock-acquired / lock-renewed / lock-released events (see the *Events helpers).
//
// Rules:
// - Two patterns conflict when some path could match both (paths.patternsOverlap): a glob and
//   a path it can match conflict, a directory and a file below it conflict.
// - A run never conflicts with itself.
// - Acquisition is all-or-nothing: either every requested pattern is granted or none is and
//   the conflicting holders are returned.
// - A lease expires at expiresAt; it is taken over only after a further grace period
//   (expiresAt + graceMs), so a run that is alive but late to renew keeps its locks.
// - Every granted lock gets a new, strictly increasing generation number. The merge step
//   compares the generations a run was granted with the table (checkGeneration) and refuses
//   to merge a run whose lock was taken over, even if it has since been re-granted.
import type { OrchardEventBody } from './events';
import type { Lock } from './model';
import { matchesPath, normalizePattern, patternsOverlap } from './paths';

export const DEFAULT_LEASE_MS = 30 * 60_000;
export const DEFAULT_GRACE_MS = 2 * 60_000;

export interface LockTable {
  locks: readonly Lock[];
  /** The last generation handed out (OrchardState.lockGeneration). */
  generation: number;
}

export interface LockConflict {
  /** The pattern that was asked for. */
  requested: string;
  /** The lock in the way. */
  holder: Lock;
}

function normalizeAll(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    const n = normalizePattern(p);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Whether a lock may be taken over: its lease ran out more than graceMs ago. */
export function isTakeoverable(lock: Lock, now: number, graceMs = DEFAULT_GRACE_MS): boolean {
  return now >= lock.expiresAt + graceMs;
}

/** Locks whose lease ran out more than graceMs ago (they may be taken over or cleaned up). */
export function expired(locks: readonly Lock[], now: number, graceMs = DEFAULT_GRACE_MS): Lock[] {
  return locks.filter((l) => isTakeoverable(l, now, graceMs));
}

/** Locks past expiresAt but still inside the grace period (worth a warning, not a takeover). */
export function overdue(locks: readonly Lock[], now: number, graceMs = DEFAULT_GRACE_MS): Lock[] {
  return locks.filter((l) => now >= l.expiresAt && !isTakeoverable(l, now, graceMs));
}

/**
 * Locks of other runs that overlap any of the patterns. With `now`, locks that can be taken
 * over (expired beyond the grace period) do not count.
 */
export function conflicts(locks: readonly Lock[], patterns: readonly string[], runId: string, opts: { now?: number; graceMs?: number } = {}): LockConflict[] {
  const out: LockConflict[] = [];
  const wanted = normalizeAll(patterns);
  for (const holder of locks) {
    if (holder.runId === runId) continue;
    if (opts.now !== undefined && isTakeoverable(holder, opts.now, opts.graceMs)) continue;
    for (const requested of wanted) if (patternsOverlap(requested, holder.pattern)) out.push({ requested, holder });
  }
  return out;
}

export interface AcquireRequest {
  runId: string;
  ticketId: string;
  patterns: readonly string[];
  now: number;
  leaseMs?: number;
  graceMs?: number;
}

export type AcquireResult =
  | {
      ok: true;
      table: LockTable;
      /** Newly granted locks (patterns the run already held are renewed, not re-granted). */
      granted: Lock[];
      /** Expired locks of other runs that were in the way and have been removed. */
      takenOver: Lock[];
      /** The run's locks renewed to the new expiry. */
      renewedUntil: number;
    }
  | { ok: false; conflicts: LockConflict[] };

/** All-or-nothing acquisition of every pattern for one run. */
export function tryAcquire(table: LockTable, req: AcquireRequest): AcquireResult {
  const leaseMs = req.leaseMs ?? DEFAULT_LEASE_MS;
  const graceMs = req.graceMs ?? DEFAULT_GRACE_MS;
  const wanted = normalizeAll(req.patterns);
  const found = conflicts(table.locks, wanted, req.runId, { now: req.now, graceMs });
  if (found.length) return { ok: false, conflicts: found };

  const takenOver = table.locks.filter(
    (l) => l.runId !== req.runId && isTakeoverable(l, req.now, graceMs) && wanted.some((p) => patternsOverlap(p, l.pattern)),
  );
  const expiresAt = req.now + leaseMs;
  const kept = table.locks.filter((l) => !takenOver.includes(l)).map((l) => (l.runId === req.runId ? { ...l, expiresAt } : l));
  const held = new Set(kept.filter((l) => l.runId === req.runId).map((l) => l.pattern));
  let generation = table.generation;
  const granted: Lock[] = [];
  for (const pattern of wanted) {
    if (held.has(pattern)) continue;
    granted.push({ pattern, runId: req.runId, ticketId: req.ticketId, expiresAt, generation: ++generation });
  }
  return { ok: true, table: { locks: [...kept, ...granted], generation }, granted, takenOver, renewedUntil: expiresAt };
}

/** Extends every lock of a run to now + leaseMs. */
export function renew(table: LockTable, runId: string, now: number, leaseMs = DEFAULT_LEASE_MS): { table: LockTable; renewed: number; expiresAt: number } {
  const expiresAt = now + leaseMs;
  let renewed = 0;
  const locks = table.locks.map((l) => {
    if (l.runId !== runId) return l;
    renewed++;
    return { ...l, expiresAt };
  });
  return { table: { locks, generation: table.generation }, renewed, expiresAt };
}

/** Releases a run's locks: all of them, or only the given patterns. */
export function release(table: LockTable, runId: string, patterns?: readonly string[]): { table: LockTable; released: Lock[] } {
  const only = patterns ? new Set(normalizeAll(patterns)) : undefined;
  const released: Lock[] = [];
  const locks = table.locks.filter((l) => {
    const drop = l.runId === runId && (only === undefined || only.has(l.pattern));
    if (drop) released.push(l);
    return !drop;
  });
  return { table: { locks, generation: table.generation }, released };
}

/** Removes every lock that may be taken over (housekeeping). */
export function sweepExpired(table: LockTable, now: number, graceMs = DEFAULT_GRACE_MS): { table: LockTable; removed: Lock[] } {
  const removed = expired(table.locks, now, graceMs);
  return { table: { locks: table.locks.filter((l) => !removed.includes(l)), generation: table.generation }, removed };
}

export type GenerationCheck =
  | { ok: true }
  | {
      ok: false;
      lost: { pattern: string; expectedGeneration: number; now?: Lock; why: 'released' | 'taken-over' | 'expired' }[];
    };

/**
 * Before merging: does the run still hold every lock it was granted, with the same
 * generation? `expected` is what it was granted (Lock[] or pattern → generation). With `now`,
 * a lock past its grace period counts as lost even if nobody has taken it yet.
 */
export function checkGeneration(
  locks: readonly Lock[],
  runId: string,
  expected: readonly Lock[] | Readonly<Record<string, number>>,
  opts: { now?: number; graceMs?: number } = {},
): GenerationCheck {
  const pairs: [string, number][] = Array.isArray(expected)
    ? (expected as readonly Lock[]).map((l) => [normalizePattern(l.pattern), l.generation])
    : Object.entries(expected as Record<string, number>).map(([p, g]) => [normalizePattern(p), g]);
  const lost: Extract<GenerationCheck, { ok: false }>['lost'] = [];
  for (const [pattern, expectedGeneration] of pairs) {
    const mine = locks.find((l) => l.runId === runId && l.pattern === pattern && l.generation === expectedGeneration);
    if (mine) {
      if (opts.now !== undefined && isTakeoverable(mine, opts.now, opts.graceMs)) lost.push({ pattern, expectedGeneration, now: mine, why: 'expired' });
      continue;
    }
    const other = locks.find((l) => l.pattern === pattern) ?? locks.find((l) => l.runId !== runId && patternsOverlap(l.pattern, pattern));
    lost.push(other ? { pattern, expectedGeneration, now: other, why: 'taken-over' } : { pattern, expectedGeneration, why: 'released' });
  }
  return lost.length ? { ok: false, lost } : { ok: true };
}

/** The locks a run holds. */
export function locksOf(locks: readonly Lock[], runId: string): Lock[] {
  return locks.filter((l) => l.runId === runId);
}

/** Who holds a concrete path (any lock whose pattern matches it). */
export function holdersOf(locks: readonly Lock[], path: string): Lock[] {
  return locks.filter((l) => matchesPath(l.pattern, path));
}

/** Files a run changed that none of its locks cover (it strayed outside its scope). */
export function uncoveredPaths(locks: readonly Lock[], runId: string, paths: readonly string[]): string[] {
  const mine = locksOf(locks, runId);
  return paths.filter((p) => !mine.some((l) => matchesPath(l.pattern, p)));
}

/** A one-line explanation of conflicts, for logs and the lock-wait escalation. */
export function describeConflicts(cs: readonly LockConflict[]): string {
  return cs.map((c) => `${c.requested} is locked by run ${c.holder.runId} (ticket ${c.holder.ticketId}, pattern ${c.holder.pattern})`).join('; ');
}

// --- events ---------------------------------------------------------------------------------

export function acquireEvents(result: Extract<AcquireResult, { ok: true }>, runId: string): OrchardEventBody[] {
  const out: OrchardEventBody[] = [];
  const byRun = new Map<string, string[]>();
  for (const l of result.takenOver) byRun.set(l.runId, [...(byRun.get(l.runId) ?? []), l.pattern]);
  for (const [r, patterns] of byRun) out.push({ type: 'lock-released', runId: r, patterns, reason: 'expired; taken over' });
  if (result.table.locks.some((l) => l.runId === runId && !result.granted.includes(l)))
    out.push({ type: 'lock-renewed', runId, expiresAt: result.renewedUntil });
  for (const lock of result.granted) out.push({ type: 'lock-acquired', lock });
  return out;
}
