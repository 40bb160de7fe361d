// Adapts the orchestrator's state to the scheduler: which ticket goes to which free slot now,
// and when to look again (the earliest retry backoff that is still running out).
import { ACTIVE_STATUSES, priorityRank, type OrchardState, type Settings } from './model';
import { patternsOverlap } from './paths';

export interface Assignment {
  ticketId: string;
  slot: number;
}

export function nextAssignments(state: OrchardState, settings: Settings, now: number): { assignments: Assignment[]; wakeAt?: number } {
  const busy = new Set<number>();
  let runningCount = 0;
  for (const r of Object.values(state.runs)) {
    if (r.endedAt === undefined) {
      busy.add(r.slot);
      runningCount++;
    }
  }
  const free: number[] = [];
  for (let s = 1; s <= settings.maxAgents; s++) if (!busy.has(s)) free.push(s);
  let wakeAt: number | undefined;
  const ready = Object.values(state.tickets)
    .filter((t) => t.status === 'ready')
    .filter((t) => {
      if (t.notBefore !== undefined && t.notBefore > now) {
        wakeAt = Math.min(wakeAt ?? Infinity, t.notBefore);
        return false;
      }
      return true;
    })
    .sort((a, b) => priorityRank(a.priority) - priorityRank(b.priority) || a.id.localeCompare(b.id));
  const held = state.locks.map((l) => l.pattern);
  const assignments: Assignment[] = [];
  const anyActive = runningCount > 0 || Object.values(state.tickets).some((t) => ACTIVE_STATUSES.has(t.status));
  for (const t of ready) {
    if (free.length === 0) break;
    if (settings.mode === 'queue' && (anyActive || assignments.length > 0)) break;
    if (settings.mode === 'locking' && t.files.some((f) => held.some((h) => patternsOverlap(f, h)))) continue;
    assignments.push({ ticketId: t.id, slot: free.shift()! });
    held.push(...t.files);
  }
  return { assignments, wakeAt };
}
