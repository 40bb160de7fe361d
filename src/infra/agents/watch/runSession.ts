// What the readers of one watched run share: the handle's events, the run's completion state
// (said done, ending, stopped by Orchard, a problem found) and its one open question. The
// completion model (README "When a run is finished") lives here: the agent said done, or its
// CLI ended a turn that left work in the worktree; either ends an interactive session.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Usage } from '../../../core/model';
import type { AgentExit, AgentLockRequest, AgentQuestion, AgentReport, AgentTicketRequestMessage, Logger } from '../../../core/ports';
import { Emitter } from '../../../core/emitter';
import type { runFiles } from '../../runner/protocol';
import { detectSignals, type AgentProfile } from '../profiles';
import type { CliDefinition } from '../clis';
import type { RunnerHost } from '../launcher';
import { worktreeHasWork, writeJsonAtomic } from './files';

type EscalationAnswerInput = { option?: string; guidance?: string };

/** Pause between a turn's end and typing the CLI's exit command. */
const SESSION_SETTLE_MS = 400;

/** Done said mid-turn: the session ends at the turn's end, or after this long. */
const DONE_GRACE_MS = 8000;

export interface RunContext {
  dir: string;
  files: ReturnType<typeof runFiles>;
  runId: string;
  host: RunnerHost;
  log: Logger;
  profile?: AgentProfile;
  cli?: CliDefinition;
  /** Worktree watched for agent-status.json and for being deleted. */
  worktree?: string;
  /** The branch tip when the attempt began: a turn that ends above it (or with edits) did work. */
  startHead?: string;
  /** sha256 of the run's token: requests must carry the token. */
  tokenHash: string;
}

export class RunSession {
  readonly reports = new Emitter<AgentReport>();
  readonly questions = new Emitter<AgentQuestion>();
  readonly lockRequests = new Emitter<AgentLockRequest>();
  readonly ticketRequests = new Emitter<AgentTicketRequestMessage>();
  readonly usageReports = new Emitter<Usage>();

  /** The runner's pid: given at start, else read from its status file once it writes it. */
  runnerPid: number | undefined;
  /** Why Orchard stops the run on its own (output loop, outside the worktree, worktree deleted). */
  problem: AgentExit['problem'];
  /** The directory the agent was caught working in, outside its worktree. */
  outsideAt: string | undefined;
  saidDone = false;
  ending = false;
  /** The reason Orchard asked the run to stop, and when: a "done" said after that (its wait for
   * an answer was cut, and its script went on) does not make a stopped run a finished one. */
  stoppedBy: string | undefined;
  stoppedAt = Number.POSITIVE_INFINITY;
  rateLimitedTurn = false;
  /** Questions whose answer is keys for a dialog in the terminal (first-run screens, hook notices). */
  readonly screenAnswers = new Map<string, Record<string, string[]>>();
  /** Questions asked in the terminal: their answer is typed in. */
  readonly noticeIds = new Set<string>();
  /** One open question per waiting spell: idle reminders and further empty turns add none. */
  openNotice: string | undefined;
  private doneTimer: ReturnType<typeof setTimeout> | undefined;
  private turnsWithoutWork = 0;

  /** Stops the run (set by the handle once it can: stopping waits for the exit). */
  stop: (reason: string, finished?: boolean) => Promise<void> = async () => undefined;

  constructor(readonly ctx: RunContext) {}

  tokenOk(t: unknown): boolean {
    return typeof t === 'string' && createHash('sha256').update(t).digest('hex') === this.ctx.tokenHash;
  }

  /** Orchard stops the run on its own, for `reason`. */
  requestStop(reason: string): void {
    void this.stop(reason);
  }

  fireNotice(id: string, question: string, options: string[] = [], context?: string): void {
    const { log, runId, host } = this.ctx;
    if (this.openNotice) {
      log.debug(`${runId}: already waiting for an answer to ${this.openNotice}; "${question.slice(0, 80)}" adds no question`);
      return;
    }
    this.openNotice = id;
    this.noticeIds.add(id);
    host.update?.(runId, 'needs-input');
    this.questions.fire({ id, question, options, trigger: 'input-needed', ...(context && { context }) });
  }

  /** The agent said done mid-turn: its turn end, or a few seconds, whichever comes first. */
  saidDoneMidTurn(): void {
    this.saidDone = true;
    if (this.ctx.host.interactive && !this.ending) this.doneTimer ??= setTimeout(() => this.finishSession('it said done'), DONE_GRACE_MS);
  }

  clearDoneTimer(): void {
    if (this.doneTimer) clearTimeout(this.doneTimer);
  }

  finishSession(why: string): void {
    const { host, log, runId, cli, files } = this.ctx;
    if (this.ending || !host.interactive) return;
    this.ending = true;
    this.clearDoneTimer();
    log.info(`${runId}: ${why}; ending the agent's session`);
    host.update?.(runId, 'done');
    void (async () => {
      const end = cli?.endSession;
      // The CLI may still be closing its turn (its hook just returned): a moment before typing.
      if (end?.keys?.length && host.sendKeys) await new Promise((r) => setTimeout(r, SESSION_SETTLE_MS));
      if (end?.keys?.length && host.sendKeys) await host.sendKeys(runId, { keys: end.keys }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, end?.keys?.length ? (end.graceMs ?? 2000) : 0));
      if (!existsSync(files.exit)) await this.stop('the agent finished its work', true);
    })();
  }

  /** A person's answer to one of the run's questions, delivered where the agent waits for it. */
  answer(questionId: string, answer: EscalationAnswerInput): void {
    const { host, runId, log, dir } = this.ctx;
    host.update?.(runId, 'running');
    if (this.openNotice === questionId) this.openNotice = undefined;
    // A CLI that waits in its terminal (hook notice, empty turn, first-run screen) gets the
    // answer typed in; `orchard-agent escalate` reads its answer file.
    const screen = this.screenAnswers.get(questionId);
    if (this.noticeIds.has(questionId) && host.interactive && host.sendKeys) {
      const text = [answer.option, answer.guidance].filter(Boolean).join(' — ');
      const keyed = screen && answer.option ? screen[answer.option] : undefined;
      const typed = keyed
        ? host.sendKeys(runId, { keys: keyed }).then(() => (answer.guidance ? host.sendKeys!(runId, { text: answer.guidance, keys: ['Enter'] }) : undefined))
        : host.sendKeys(runId, { text, keys: ['Enter'] });
      void typed.catch((e) => log.warn(`${runId}: could not type the answer into the agent's terminal: ${(e as Error).message}`));
    }
    writeJsonAtomic(join(dir, `${questionId}.answer.json`), answer);
  }

  onTurnEnded(message: string | undefined): void {
    const { host, log, runId, profile, worktree, startHead } = this.ctx;
    // A CLI being stopped aborts its turn and may report that as a turn end: not the agent's.
    if (!host.interactive || this.ending || this.stoppedBy) return;
    // A turn that ended on a rate limit or an overloaded service (the CLI gave up retrying):
    // the profile pauses, no question for the human and no retry used.
    if (message && profile && !worktreeHasWork(worktree, startHead) && detectSignals({ ...profile, needsInputPatterns: [] }, message).rateLimited) {
      this.rateLimitedTurn = true;
      log.warn(`${runId}: ${profile.description} stopped on a rate limit (${message.slice(0, 160)}); ending its session`);
      this.finishSession('its turn ended on a rate limit');
      return;
    }
    if (this.saidDone || worktreeHasWork(worktree, startHead)) {
      this.saidDone = true;
      this.reports.fire({ progress: 100, message: message ? `turn ended: ${message.slice(0, 200)}` : 'turn ended with work done', done: true });
      this.finishSession('its turn ended with work done');
      return;
    }
    this.turnsWithoutWork++;
    this.fireNotice(
      `turn-${this.turnsWithoutWork}`,
      message ? message.slice(0, 2000) : `${profile?.description ?? 'The agent'} ended its turn without changes and waits for you`,
    );
  }
}
