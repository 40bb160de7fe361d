// The end of a run as the runner leaves it: its exit file (after saving a terminal session's
// last screen to the log), or the runner gone without one; and the worktree deleted under a
// running agent, which stops it. `settleExit` turns the end into what the handle reports.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import type { AgentExit } from '../../../core/ports';
import { isSameProcess } from '../../process';
import type { RunnerExit, RunnerStatus } from '../../runner/protocol';
import { detectSignals } from '../profiles';
import { readJson, tail } from './files';
import type { RunSession } from './runSession';

export class RunnerExitWatch {
  /** Polls in a row that found the runner gone (a reused pid is not it). */
  private missing = 0;
  private screenSaved = false;
  private readonly watchedAt = Date.now();

  /** `lastWords` reads what the agent wrote just before it exited (progress, status file). */
  constructor(
    private readonly session: RunSession,
    private readonly lastWords: () => void,
  ) {}

  /**
   * The run's end once the runner exited or vanished; 'later' while a terminal session's last
   * screen is being saved (`again` is called when it is); undefined while the run goes on.
   */
  poll(again: () => void): AgentExit | 'later' | undefined {
    const s = this.session;
    const { files, host, runId, cli, profile, worktree, log } = s.ctx;
    const exit = readJson<RunnerExit>(files.exit);
    if (exit && host.interactive && host.readScreen && !this.screenSaved) {
      // A terminal session's last screen (the CLI's closing stats) goes to the run log,
      // where its usage parser reads it, as it reads a headless run's output.
      this.screenSaved = true;
      void host
        .readScreen(runId)
        .then((screen) => screen && appendFileSync(files.log, `\n--- last screen of the terminal session ---\n${screen}\n`))
        .catch(() => undefined)
        .finally(() => setTimeout(again, 0));
      return 'later';
    }
    if (exit) {
      // What the agent wrote before it exited is read before its end is told: a `done` (and a
      // reviewer's VERDICT) written while this tick read the other files would otherwise be
      // lost (a review loop then ran one round too many).
      this.lastWords();
      const text = tail(files.log);
      const rateLimited =
        s.rateLimitedTurn || (exit.exitCode !== 0 && !host.interactive && detectSignals(profile ?? { name: '?', description: '', argv: [] }, text).rateLimited);
      const explanation = exit.error ?? (exit.exitCode !== null && exit.exitCode !== 0 ? cli?.explainExit?.(exit.exitCode, text) : undefined);
      return {
        exitCode: exit.exitCode,
        signal: exit.signal ?? exit.error,
        rateLimited,
        ...(s.problem && { problem: s.problem }),
        ...(explanation && { explanation }),
      };
    }
    if (worktree && !s.problem && !existsSync(worktree)) {
      s.problem = 'worktree-deleted';
      log.warn(`${runId}: the worktree ${worktree} was deleted while the agent ran; stopping it`);
      s.requestStop('the agent deleted its worktree');
    }
    const status = readJson<RunnerStatus>(files.status);
    s.runnerPid ??= status?.runnerPid;
    const runnerPid = s.runnerPid;
    // The runner is gone without writing its exit: it was killed (a reused pid is not it).
    if (runnerPid && !isSameProcess(runnerPid, status?.runnerPid === runnerPid ? status.startToken : undefined)) this.missing++;
    // A runner that claimed the run but never wrote its status within a minute died starting.
    else if (!runnerPid && Date.now() - this.watchedAt > 60_000) this.missing = 3;
    if (this.missing >= 3 && !existsSync(files.exit)) return { exitCode: null, signal: 'runner vanished', problem: 'runner-vanished' };
    return undefined;
  }
}

/** What the handle's `exited` resolves to: the end, with the usage the CLI printed and how the run ended. */
export function settleExit(s: RunSession, e: AgentExit): AgentExit {
  const { files, profile, host, runId } = s.ctx;
  const text = tail(files.log, 65_536);
  const usage = profile ? detectSignals(profile, text).usage : undefined;
  if (usage) {
    writeFileSync(files.usage, JSON.stringify(usage));
    // What the CLI printed counts like `orchard-agent usage` (cost accounting, budgets).
    if (usage.costUsd !== undefined || usage.inputTokens !== undefined || usage.outputTokens !== undefined || usage.tokens !== undefined) {
      s.usageReports.fire({
        usd: usage.costUsd,
        inputTokens: usage.inputTokens ?? (usage.outputTokens === undefined ? usage.tokens : undefined),
        outputTokens: usage.outputTokens,
      });
    }
  }
  s.clearDoneTimer();
  host.update?.(runId, (e.exitCode === 0 || s.saidDone) && !e.problem ? 'done' : 'failed');
  return {
    ...e,
    ...(usage && { usage: { costUsd: usage.costUsd, tokens: usage.tokens, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } }),
    ...(s.saidDone && { saidDone: true }),
    ...(s.stoppedBy && !s.saidDone && s.problem === undefined && { stoppedByOrchard: s.stoppedBy }),
    ...(s.outsideAt && { outsideAt: s.outsideAt }),
  };
}
