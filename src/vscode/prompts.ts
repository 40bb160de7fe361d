// Inline prompts: pre-flight conflicts before a batch, grouped and rate-limited escalation
// notifications, and the ways out of a stopped merge (conflict, dirty target checkout):
// Orchard raises those as escalations whose options are the ways out.
import * as vscode from 'vscode';
import type { Escalation } from '../core/escalations';
import { wayOutOf, type WayOut } from '../core/waysOut';
import type { PreflightResult } from '../core/preflight';
import type { OrchardController } from './controller';
import { Disposable } from './lifecycle';
import { notificationsEnabled } from './settings';

export type OverlapChoice = 'sequence' | 'continue' | 'cancel';

/** Asks what to do about overlapping tickets; undefined when there is nothing to ask. */
export async function askOverlap(r: PreflightResult): Promise<OverlapChoice | undefined> {
  if (r.pairs.length === 0) return undefined;
  const lines = r.pairs.slice(0, 8).map((p) => `${p.a} ↔ ${p.b}: ${[...new Set(p.shared.flatMap((s) => [s.a, s.b]))].join(', ')}`);
  if (r.pairs.length > 8) lines.push(`… and ${r.pairs.length - 8} more pairs`);
  const SEQ = 'Run in Sequence';
  const GO = 'Continue Anyway';
  const pick = await vscode.window.showWarningMessage(
    `${r.pairs.length} pair${r.pairs.length === 1 ? '' : 's'} of tickets may touch the same files`,
    {
      modal: true,
      detail: `${lines.join('\n')}\n\nRun in Sequence makes the later ticket of each pair wait for the earlier one to be merged. Continue Anyway lets them run side by side (locks still apply).`,
    },
    SEQ,
    GO,
  );
  return pick === SEQ ? 'sequence' : pick === GO ? 'continue' : 'cancel';
}

/** Notification for escalations: grouped (one toast for a burst) and rate-limited. */
export class EscalationNotifier extends Disposable {
  private pending: Escalation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastShown = 0;
  /** Toasts shown (tests and diagnostics). */
  shown = 0;

  constructor(
    private readonly controller: OrchardController,
    private readonly groupMs = 750,
    private readonly minIntervalMs = 10_000,
  ) {
    super();
    this._register(controller.onDidRaiseEscalation((e) => this.add(e)));
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  private add(e: Escalation): void {
    if (!notificationsEnabled()) return;
    this.pending.push(e);
    if (this.timer) return;
    const wait = Math.max(this.groupMs, this.lastShown + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const open = new Set(this.controller.openEscalations().map((e) => e.id));
    const all = this.pending.filter((e) => open.has(e.id));
    this.pending = [];
    // Orchard's own merge questions (conflict, dirty target) get their ways out as buttons.
    for (const e of all.filter(isMergeQuestion)) void mergePrompt(e);
    const batch = all.filter((e) => !isMergeQuestion(e));
    if (batch.length === 0) return;
    this.lastShown = Date.now();
    this.shown++;
    const ANSWER = 'Answer…';
    const LATER = 'Later';
    const text =
      batch.length === 1
        ? `Orchard: ${batch[0]!.ticketId} asks: ${batch[0]!.question}`
        : `Orchard: ${batch.length} agents are waiting for answers (${batch.map((e) => e.ticketId).join(', ')})`;
    void vscode.window.showWarningMessage(text, ANSWER, LATER).then((choice) => {
      if (choice === ANSWER) void vscode.commands.executeCommand('orchard.answerEscalation', batch.length === 1 ? batch[0]!.id : undefined);
    });
  }
}

/** A question Orchard raised about a stopped merge (not an agent's). */
export function isMergeQuestion(e: Escalation): boolean {
  return !e.askedBy && e.options.some((o) => mergeWayOut(e, o) !== undefined);
}

/** The ways out of a stopped merge, as notification buttons. */
async function mergePrompt(e: Escalation): Promise<void> {
  const pick = await vscode.window.showWarningMessage(`Orchard: ${e.question}`, ...e.options);
  if (pick) await vscode.commands.executeCommand('orchard.answerEscalation', e.id, { option: pick });
}

/** The command of each way out ('' for "Later": the question stays open). */
const WAY_OUT_COMMANDS: Readonly<Record<WayOut, string>> = {
  'open-conflicts': 'orchard.openConflicts',
  'send-back': 'orchard.sendBack',
  'keep-for-later': 'orchard.keepForLater',
  discard: 'orchard.discard',
  'merge-now': 'orchard.mergeNow',
  'stash-and-update': 'orchard.stashAndUpdate',
  later: '',
};

/** For Orchard's own questions: the command of the option picked ('' for "Later"). */
export function mergeWayOut(e: Escalation, option: string): string | undefined {
  const way = wayOutOf(e, option);
  return way === undefined ? undefined : WAY_OUT_COMMANDS[way];
}
