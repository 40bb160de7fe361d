// Predicted completion (ETA) as the views show it: plain data and formatting shared by the
// Tickets tree, the dashboard webview and the static snapshot (no core, no vscode here).
// While the batch runs an ETA is a moment (end, host clock); before it starts it is a
// duration counted from the start ("≈ 12 min once started"), so it does not drift with time.

export interface EtaView {
  /** Predicted end (epoch ms, host clock), while the batch runs. */
  end?: number;
  /** Before the batch runs: predicted time from its start to this end (ms). */
  after?: number;
  /** Waiting on the human: assumed to resume now. */
  waitsOnHuman?: boolean;
}

export interface BatchEtaView extends EtaView {
  /** Finished tickets the estimates were corrected by (0: estimates only). */
  samples: number;
  /** Open tickets that cannot finish as things stand (failed, blocked, or depending on one). */
  cannotFinish: number;
}

/** Predicted times are rounded to this, so views do not change for noise (fake agents take seconds). */
export const ETA_ROUNDING_MS = 1_000;
export const roundEta = (ms: number): number => Math.round(ms / ETA_ROUNDING_MS) * ETA_ROUNDING_MS;

/** A remaining time for people: "40 s", "12 min", "1.5 h". */
export function formatRemaining(ms: number): string {
  return ms < 60_000 ? `${Math.max(0, Math.round(ms / 1000))} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Time left until the predicted end (or from the start, before the batch runs). */
export function etaRemaining(e: EtaView, now: number): number {
  return e.end !== undefined ? Math.max(0, e.end - now) : (e.after ?? 0);
}

/** Short form: "≈ 12 min" (an overdue prediction says "≈ now" until it is recomputed). */
export function etaShort(e: EtaView, now: number): string {
  const ms = etaRemaining(e, now);
  return e.end !== undefined && ms < 1_000 ? '≈ now' : `≈ ${formatRemaining(ms)}`;
}

/** The wall-clock time of a predicted end, local to the viewer ("14:05"). */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** One sentence: "done in ≈ 12 min (≈ 14:05)" or "≈ 12 min once the batch starts". */
export function etaSentence(e: EtaView, now: number): string {
  if (e.end === undefined) return `${etaShort(e, now)} once the batch starts`;
  return `in ${etaShort(e, now)} (at ≈ ${clockTime(e.end)})`;
}

/** Without a clock to count from (a tooltip that is not redrawn): "at ≈ 14:05" or "≈ 12 min after the batch starts". */
export function etaFixed(e: EtaView): string {
  return e.end !== undefined ? `at ≈ ${clockTime(e.end)}` : `≈ ${formatRemaining(e.after ?? 0)} after the batch starts`;
}
