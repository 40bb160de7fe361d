// From a Prediction (core/predict.ts) to what the views show: the batch's ETA, each open
// ticket's, why a ticket cannot finish, and the throttle that decides when the host
// predicts again. Pure: the clock and timers are passed in.
import type { Disposable } from './emitter';
import type { OrchardState } from './model';
import type { Prediction } from './predict';
import { etaRemaining, etaSentence, etaShort, roundEta, type BatchEtaView, type EtaView } from '../shared/eta';

/**
 * A prediction as the views use it: `live` when the batch assigns work (times are moments),
 * otherwise times are durations from the batch's start.
 */
export interface LivePrediction {
  prediction: Prediction;
  live: boolean;
}

const OVER = new Set(['done', 'failed', 'cancelled']);

/** Whether the state says a batch assigns work (started, not ended, not paused): a viewer's "live". */
export function batchRunning(state: Readonly<OrchardState>): boolean {
  const b = state.batch;
  return !!b && b.endedAt === undefined && b.pausedAt === undefined;
}

function toView(end: number, p: LivePrediction): EtaView {
  return p.live ? { end: roundEta(end) } : { after: roundEta(Math.max(0, end - p.prediction.at)) };
}

/**
 * What the views would show of a prediction (the batch's and every ticket's ETA as rounded
 * for display, and which cannot finish): equal keys, nothing to repaint.
 */
export function predictionKey(lp: LivePrediction): string {
  const p = lp.prediction;
  const parts: string[] = [
    String(lp.live),
    p.batchEnd === undefined ? '-' : JSON.stringify(toView(p.batchEnd, lp)),
    String(p.samples),
    p.unreachable.join(','),
  ];
  for (const id of Object.keys(p.tickets).sort()) {
    const e = p.tickets[id]!;
    parts.push(
      e.done ? `${id}:done` : `${id}:${JSON.stringify(toView(e.end, lp))}:${JSON.stringify(toView(e.start, lp))}:${e.slot ?? ''}:${e.waitsOnHuman ? 'h' : ''}`,
    );
  }
  return parts.join('|');
}

/** The batch's ETA, or undefined when nothing is left that can finish and nothing is stuck. */
export function batchEta(lp: LivePrediction, state: Readonly<OrchardState>): BatchEtaView | undefined {
  const p = lp.prediction;
  const cannotFinish = stuckTickets(p, state).length;
  if (p.batchEnd === undefined && !cannotFinish) return undefined;
  return { ...(p.batchEnd !== undefined && toView(p.batchEnd, lp)), samples: p.samples, cannotFinish };
}

/** Open tickets (not done, failed or cancelled) that cannot finish as things stand. */
export function stuckTickets(p: Prediction, state: Readonly<OrchardState>): string[] {
  return p.unreachable.filter((id) => {
    const s = state.tickets[id]?.status;
    return s !== undefined && !OVER.has(s);
  });
}

/**
 * A ticket's ETA; undefined when it is done or cannot finish, also when it finished after the
 * prediction was made (the state is newer than the throttled prediction).
 */
export function ticketEta(lp: LivePrediction, state: Readonly<OrchardState>, id: string): EtaView | undefined {
  const e = lp.prediction.tickets[id];
  const t = state.tickets[id];
  if (!e || e.done || !t || OVER.has(t.status)) return undefined;
  return { ...toView(e.end, lp), ...(e.waitsOnHuman && { waitsOnHuman: true }) };
}

/** Not started yet: its predicted start (same form as an ETA). */
export function ticketStart(lp: LivePrediction, state: Readonly<OrchardState>, id: string): EtaView | undefined {
  const e = lp.prediction.tickets[id];
  const t = state.tickets[id];
  if (!e || e.done || !t || (t.status !== 'backlog' && t.status !== 'ready')) return undefined;
  return toView(e.start, lp);
}

/** Why an open ticket cannot finish (its status, or the dependencies that cannot). */
export function cannotFinishReason(p: Prediction, state: Readonly<OrchardState>, id: string): string | undefined {
  if (!p.unreachable.includes(id)) return undefined;
  const t = state.tickets[id];
  if (!t) return undefined;
  if (t.status === 'failed' || t.status === 'cancelled') return `it is ${t.status}`;
  if (t.status === 'blocked') return `it is blocked${t.reason ? ` (${t.reason})` : ''}`;
  const dead = new Set(p.unreachable);
  const deps = t.dependsOn.filter((d) => dead.has(d) || !state.tickets[d]);
  if (deps.length) return `it depends on ${deps.map((d) => `${d} (${state.tickets[d]?.status ?? 'missing'})`).join(', ')}`;
  return 'no agent slot can take it';
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** The batch's ETA in a few words: "ETA ≈ 12 min", "ETA ≈ 12 min once started", "2 tickets cannot finish". */
export function batchEtaLabel(b: BatchEtaView, now: number): string {
  const stuck = b.cannotFinish ? plural(b.cannotFinish, 'ticket') + ' cannot finish' : '';
  if (b.end === undefined && b.after === undefined) return stuck;
  return `ETA ${etaShort(b, now)}${b.end === undefined ? ' once started' : ''}${stuck ? ` · ${b.cannotFinish} cannot finish` : ''}`;
}

/** How the batch's ETA was made, for a tooltip. */
export function batchEtaDetail(lp: LivePrediction, b: BatchEtaView, now: number, agents: number): string[] {
  const p = lp.prediction;
  const lines: string[] = [];
  if (b.end !== undefined || b.after !== undefined) lines.push(`Predicted end of the batch: ${etaSentence(b, now)}.`);
  lines.push(
    `The real scheduler run on a virtual clock over what remains (${plural(agents, 'agent')}), ${p.samples ? `estimates corrected by ${plural(p.samples, 'finished ticket')}` : 'from the estimates only (nothing has finished yet)'}.`,
  );
  if (b.cannotFinish) lines.push(`${plural(b.cannotFinish, 'ticket')} cannot finish as things stand (failed, blocked, or depending on one).`);
  return lines;
}

/** A ticket's ETA for its row: "≈ 12 min", "cannot finish", or undefined (done, failed, cancelled). */
export function ticketEtaShort(lp: LivePrediction, state: Readonly<OrchardState>, id: string, now: number): string | undefined {
  const e = ticketEta(lp, state, id);
  if (e) return etaShort(e, now);
  return stuckTickets(lp.prediction, state).includes(id) ? 'cannot finish' : undefined;
}

/** A ticket's predicted start and finish, or why it cannot finish, for its tooltip. */
export function ticketEtaDetail(lp: LivePrediction, state: Readonly<OrchardState>, id: string, now: number): string[] {
  const why = cannotFinishReason(lp.prediction, state, id);
  const t = state.tickets[id];
  if (why) return t && (t.status === 'failed' || t.status === 'cancelled') ? [] : [`Predicted finish: none, it cannot finish as things stand: ${why}.`];
  const e = ticketEta(lp, state, id);
  if (!e) return [];
  const start = ticketStart(lp, state, id);
  const lines: string[] = [];
  if (start) {
    const at =
      etaRemaining(start, now) < 1_000
        ? start.end === undefined
          ? 'as soon as the batch starts'
          : 'now'
        : start.end === undefined
          ? `${etaShort(start, now)} after the batch starts`
          : etaSentence(start, now);
    lines.push(`Predicted start: ${at}`);
  }
  lines.push(`Predicted finish (merged): ${etaSentence(e, now)}`);
  if (e.waitsOnHuman) lines.push('It waits on you: the prediction assumes it resumes now.');
  return lines;
}

export interface ThrottleClock {
  now(): number;
  setTimer(ms: number, fn: () => void): Disposable;
}

/**
 * Runs `compute` at most once per `intervalMs`, and always once more after the last
 * request: a burst of requests gives one run now (or as soon as the interval allows) and
 * one trailing run that sees the latest state. Never runs synchronously inside request().
 */
export class Throttle implements Disposable {
  private lastRun = -Infinity;
  private timer: Disposable | undefined;
  private disposed = false;
  /** Runs so far (tests, diagnostics). */
  runs = 0;

  constructor(
    private readonly clock: ThrottleClock,
    private readonly intervalMs: number,
    private readonly compute: () => void,
  ) {}

  request(): void {
    if (this.disposed || this.timer) return;
    const wait = Math.max(0, this.lastRun + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimer(wait, () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    if (this.disposed) return;
    this.lastRun = this.clock.now();
    this.runs++;
    this.compute();
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
    this.timer = undefined;
  }
}
