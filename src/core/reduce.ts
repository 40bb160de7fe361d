// State is a fold of events: reduce() applies one event to a snapshot, in place.
// It trusts its input (transitions were checked when the event was made) but never throws
// on an event for something it does not know, so an old log always replays.
import type { OrchardEvent } from './events';
import { emptyState, type OrchardState } from './model';

export function reduce(state: OrchardState, e: OrchardEvent): OrchardState {
  state.seq = e.seq;
  switch (e.type) {
    case 'ticket-added':
      state.tickets[e.ticket.id] = { ...e.ticket, status: 'backlog', createdAt: e.at, attempts: 0 };
      break;
    case 'ticket-edited': {
      const t = state.tickets[e.id];
      if (t) Object.assign(t, e.patch);
      break;
    }
    case 'ticket-status': {
      const t = state.tickets[e.id];
      if (!t) break;
      t.status = e.to;
      t.reason = e.reason;
      if (e.to === 'ready') t.readyAt = e.at;
      if (e.to === 'in-review') t.reviewSince = e.at;
      t.notBefore = e.notBefore;
      break;
    }
    case 'run-started': {
      state.runs[e.run.id] = { ...e.run };
      const t = state.tickets[e.run.ticketId];
      if (t) t.attempts = Math.max(t.attempts, e.run.attempt);
      if (t) delete t.handoff;
      break;
    }
    case 'run-progress': {
      const r = state.runs[e.runId];
      if (!r) break;
      if (e.progress !== undefined) r.progress = e.progress;
      if (e.message !== undefined) r.message = e.message;
      if (e.pid !== undefined) r.pid = e.pid;
      if (e.worktree !== undefined) r.worktree = e.worktree;
      if (e.branch !== undefined) r.branch = e.branch;
      if (e.base !== undefined) r.base = e.base;
      if (e.startHead !== undefined) r.startHead = e.startHead;
      break;
    }
    case 'run-ended': {
      const r = state.runs[e.runId];
      if (!r) break;
      r.endedAt = e.at;
      r.outcome = e.outcome;
      r.exitCode = e.exitCode;
      if (e.filesChanged) r.filesChanged = e.filesChanged;
      if (e.commits !== undefined) r.commits = e.commits;
      if (e.message !== undefined) r.message = e.message;
      // A run that ended waits for nothing.
      delete r.waitingFor;
      break;
    }
    case 'lock-acquired':
      state.locks.push({ ...e.lock });
      state.lockGeneration = Math.max(state.lockGeneration, e.lock.generation);
      break;
    case 'lock-renewed':
      for (const l of state.locks) if (l.runId === e.runId) l.expiresAt = e.expiresAt;
      break;
    case 'lock-released': {
      const only = e.patterns ? new Set(e.patterns) : undefined;
      state.locks = state.locks.filter((l) => l.runId !== e.runId || (only !== undefined && !only.has(l.pattern)));
      break;
    }
    case 'ticket-merged': {
      const t = state.tickets[e.id];
      if (t) t.mergedAs = e.commit;
      break;
    }
    case 'escalation-raised':
      (state.escalations ??= {})[e.escalation.id] = { ...e.escalation };
      break;
    case 'escalation-answered': {
      const x = state.escalations?.[e.id];
      if (x) {
        x.answer = { ...e.answer };
        x.answeredAt = e.at;
      }
      break;
    }
    case 'run-usage': {
      const r = state.runs[e.runId];
      if (r) r.usage = { ...e.usage };
      break;
    }
    case 'starts-paused':
      if (e.reason) state.startsPaused = e.reason;
      else delete state.startsPaused;
      break;
    case 'batch-started':
      // Started again before it ended (a restart, a window reload, a resume after pause): the
      // same batch goes on — its budget and wall time count from its first start.
      if (state.batch && state.batch.endedAt === undefined) delete state.batch.pausedAt;
      else state.batch = { startedAt: e.at };
      break;
    case 'batch-ended':
      if (state.batch) state.batch.endedAt = e.at;
      break;
    case 'batch-paused':
      if (state.batch) state.batch.pausedAt = e.at;
      break;
    case 'gate-finished': {
      const r = state.runs[e.runId];
      if (r) (r.gates ??= []).push({ ...e.result });
      break;
    }
    case 'review-rejected': {
      const t = state.tickets[e.id];
      if (t) t.reviewRounds = Math.max(t.reviewRounds ?? 0, e.round);
      break;
    }
    case 'review-decided': {
      const t = state.tickets[e.id];
      if (!t) break;
      if (e.decision === 'request-changes') t.humanReviewRounds = (t.humanReviewRounds ?? 0) + 1;
      (t.reviews ??= []).push({
        runId: e.runId,
        decision: e.decision,
        by: e.by,
        at: e.at,
        comments: e.comments?.length ?? 0,
        ...(e.summary && { summary: e.summary }),
      });
      break;
    }
    case 'ticket-handoff': {
      const t = state.tickets[e.id];
      if (t) t.handoff = e.context;
      break;
    }
    case 'merge-attempted': {
      const r = state.runs[e.runId];
      if (r) (r.merges ??= []).push({ ...e.attempt });
      break;
    }
    case 'merge-conflict': {
      const t = state.tickets[e.id];
      if (t) t.conflict = { files: [...e.files], at: e.at, ...(e.predicted && { predicted: true }) };
      break;
    }
    case 'merge-conflict-handled': {
      const t = state.tickets[e.id];
      if (!t?.conflict) break;
      if (e.how === 'resolving') t.conflict.resolving = true;
      else if (e.how === 'kept') t.conflict.kept = true;
      else delete t.conflict;
      break;
    }
    case 'ticket-discarded': {
      const t = state.tickets[e.id];
      if (t && e.ref) t.discardedRef = e.ref;
      break;
    }
    case 'run-verdict': {
      const r = state.runs[e.runId];
      if (r) r.verdict = e.verdict;
      break;
    }
    case 'subtask-requested': {
      const r = state.runs[e.runId];
      if (!r) break;
      (r.subtasks ??= {})[e.requestId] = e.subtaskId;
      if (e.wait) r.waitingFor = e.subtaskId;
      break;
    }
    case 'subtask-settled': {
      const r = state.runs[e.runId];
      if (r?.waitingFor === e.subtaskId) delete r.waitingFor;
      break;
    }
  }
  return state;
}

export function replay(events: Iterable<OrchardEvent>, from: OrchardState = emptyState()): OrchardState {
  let s = from;
  for (const e of events) if (e.seq > s.seq) s = reduce(s, e);
  return s;
}
