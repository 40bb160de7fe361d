// The run desk owns a run's life from start to end: locking its files and preparing its worktree
// (from where an interrupted attempt began), starting or adopting again its agent, recording its
// end (work kept, harm checked, changes collected) and sending it on — to its gates, to a restart,
// or to the retry desk; and it renews the lock leases of unfinished work.
import type { AgentDesk } from './agentDesk';
import type { DeskContext } from './deskContext';
import type { Disposable } from './emitter';
import { errorText } from './errors';
import type { OrchardEventBody } from './events';
import type { GateDesk } from './gateDesk';
import type { LiveRuns } from './liveRuns';
import { acquireEvents, locksOf, tryAcquire } from './locks';
import { FINAL_STATUSES, type Run, type Ticket } from './model';
import type { AgentExit, AgentHandle, Ports } from './ports';
import type { RetryDesk } from './retryDesk';
import type { ProfileChoice } from './roles';
import { exitProblems, failureWhy, judgeExit, readExit, wasInterrupted, wipMessage, type ExitJudgement } from './runExit';
import { UNTIL_APPROVED_LABEL } from './workflows/loops';

/** What the desk needs beyond every desk's context. */
export interface RunDeskContext extends DeskContext {
  ports: Ports;
  live: LiveRuns;
  agents: AgentDesk;
  gates: GateDesk;
  retries: RetryDesk;
  checkIdle(): void;
  disposed(): boolean;
}

export class RunDesk implements Disposable {
  /** Runs started or adopted whose exit is not recorded yet. */
  private inFlight = 0;
  /** Runs whose exit is being recorded (Stop All waits for them). */
  private readonly ending = new Set<Promise<void>>();
  private renewTimer: Disposable | undefined;

  constructor(private readonly ctx: RunDeskContext) {}

  /** A run is starting, running or having its end recorded. */
  get busy(): boolean {
    return this.inFlight > 0 || this.ending.size > 0;
  }

  /** Resolves once every run's end being recorded is on record. */
  async ended(): Promise<void> {
    await Promise.all([...this.ending]);
  }

  dispose(): void {
    this.renewTimer?.dispose();
  }

  /** Leases of live work are renewed at a third of their length, so only dead work expires. */
  renewLocks(): void {
    this.renewTimer?.dispose();
    const leaseMs = this.ctx.settings().lockLeaseMinutes * 60_000;
    this.renewTimer = this.ctx.ports.clock.setTimer(leaseMs / 3, () => {
      const now = this.ctx.ports.clock.now();
      const state = this.ctx.state();
      const bodies: OrchardEventBody[] = [];
      for (const runId of new Set(state.locks.map((l) => l.runId))) {
        const run = state.runs[runId];
        const t = run && state.tickets[run.ticketId];
        if (t && !FINAL_STATUSES.has(t.status)) bodies.push({ type: 'lock-renewed', runId, expiresAt: now + leaseMs });
      }
      void this.ctx.commit(bodies);
      if (!this.ctx.disposed()) this.renewLocks();
    });
  }

  /** Starts the ticket's next attempt on the slot: its files locked (else it waits), its worktree ready, its agent started. */
  async startRun(ticketId: string, slot: number, choice?: ProfileChoice): Promise<void> {
    const t = this.ctx.ticket(ticketId);
    // Planned on a ready ticket; a command (cancel) may have moved it since.
    if (t.status !== 'ready') return;
    const attempt = t.attempts + 1;
    const runId = `${ticketId}-r${attempt}`;
    const now = this.ctx.ports.clock.now();
    const locks = this.lockFiles(t, runId, now);
    if (!locks) return;
    const run: Run = {
      id: runId,
      ticketId,
      slot,
      attempt,
      branch: `orchard/${ticketId}`,
      worktree: '',
      startedAt: now,
      ...(attempt > 1 && (t.handoff ?? t.reason) ? { context: t.handoff ?? t.reason } : {}),
      ...(locks.generations && { lockGenerations: locks.generations }),
      ...(choice && { profile: choice.profile, ...(choice.model && { model: choice.model }) }),
    };
    // The ticket's move (ready → running), its run and its locks land together.
    await this.ctx.commit([
      { type: 'ticket-status', id: ticketId, from: t.status, to: 'running', reason: `attempt ${attempt} on slot ${slot}` },
      { type: 'run-started', run },
      ...locks.events,
    ]);
    this.inFlight++;
    try {
      await this.restartInterrupted(ticketId, runId);
      const wt = await this.ctx.ports.workspace.prepareWorktree(t, attempt);
      // In the event, not only in memory: a state rebuilt from the log must know the worktree (WIP save, adopt).
      await this.ctx.commit([
        {
          type: 'run-progress',
          runId,
          message: `worktree ready at ${wt.path}`,
          worktree: wt.path,
          branch: wt.branch,
          ...(wt.base !== undefined && { base: wt.base }),
          ...(wt.head !== undefined && { startHead: wt.head }),
        },
      ]);
      const started = this.ctx.state().runs[runId];
      if (!started) throw new Error(`run ${runId} is not in the state`);
      const handle = await this.ctx.ports.agents.start(this.ticketForRun(this.ctx.ticket(ticketId), started), started);
      await this.attach(runId, handle);
    } catch (err) {
      this.inFlight--;
      await this.ctx.commit([{ type: 'run-ended', runId, outcome: 'crashed', message: `could not start: ${errorText(err)}` }]);
      await this.ctx.retries.afterFailure(ticketId, runId, 'crash', `could not start the agent: ${errorText(err)}`);
    }
  }

  /**
   * The ticket's files locked for the run (a subtask may use the locks of the parent waiting for
   * it); undefined when another run holds one. The scheduler only assigns tickets whose files are
   * free, so this holds unless a lock was taken between plan and start; then the ticket waits for
   * the next pass.
   */
  private lockFiles(t: Ticket, runId: string, now: number): { events: OrchardEventBody[]; generations?: Record<string, number> } | undefined {
    const settings = this.ctx.settings();
    if (settings.mode === 'isolation' || !t.files.length) return { events: [] };
    const lenders = this.ctx.agents.lenderOf(t);
    const state = this.ctx.state();
    const got = tryAcquire(
      { locks: state.locks.filter((l) => !lenders.has(l.runId)), generation: state.lockGeneration },
      { runId, ticketId: t.id, patterns: t.files, now, leaseMs: settings.lockLeaseMinutes * 60_000 },
    );
    if (!got.ok) {
      this.ctx.ports.log.info(`${t.id} waits: ${got.conflicts[0]?.holder.pattern} is locked by ${got.conflicts[0]?.holder.ticketId}`);
      return undefined;
    }
    return {
      events: acquireEvents(got, runId),
      generations: Object.fromEntries(got.table.locks.filter((l) => l.runId === runId).map((l) => [l.pattern, l.generation])),
    };
  }

  /** The ticket as the agent port sees it: `agent` is the profile chosen for the run. */
  private ticketForRun(t: Ticket, run: Run): Ticket {
    const p = run.profile;
    return p && p !== 'default' && p !== t.agent ? { ...t, agent: p } : t;
  }

  /**
   * After a restart: each run not ended is adopted again where its runner is still alive, or
   * ended as interrupted (its work saved on a WIP ref first). Returns the runs adopted.
   */
  async adoptOrEnd(): Promise<{ run: Run; handle: AgentHandle }[]> {
    const events: OrchardEventBody[] = [];
    const adopted: { run: Run; handle: AgentHandle }[] = [];
    const state = this.ctx.state();
    for (const r of Object.values(state.runs)) {
      if (r.endedAt) continue;
      const t = state.tickets[r.ticketId];
      let handle: AgentHandle | undefined;
      if (t && (t.status === 'running' || t.status === 'escalated')) {
        try {
          handle = this.ctx.ports.agents.adopt?.(r);
        } catch (err) {
          this.ctx.ports.log.warn(`Could not adopt ${r.id}: ${errorText(err)}`);
        }
      }
      if (handle) {
        adopted.push({ run: r, handle });
        continue;
      }
      const wip = r.worktree
        ? await this.ctx.ports.workspace.saveWip(r, `orchard: ${r.ticketId} attempt ${r.attempt} interrupted`).catch(() => undefined)
        : undefined;
      events.push({
        type: 'run-ended',
        runId: r.id,
        outcome: 'crashed',
        message: `interrupted: Orchard stopped while the agent was running${wip ? `; work kept on ${wip}` : ''}`,
      });
    }
    await this.ctx.commit(events);
    return adopted;
  }

  /** Wires an adopted run again, with what is left of its timeout (none while it waits on the human or a subtask). */
  async readopt(run: Run, handle: AgentHandle): Promise<void> {
    this.inFlight++;
    const left = Math.max(1000, this.ctx.live.timeoutMs(run.id) - (this.ctx.ports.clock.now() - run.startedAt));
    await this.attach(run.id, handle, left);
    if (this.ctx.state().tickets[run.ticketId]?.status === 'escalated' || this.ctx.state().runs[run.id]?.waitingFor) this.ctx.live.pauseTimeout(run.id);
  }

  /** Wires a live agent (just started, or adopted again after a restart) to the orchestrator. */
  private async attach(runId: string, handle: AgentHandle, timeoutMs?: number): Promise<void> {
    this.ctx.live.add(runId, handle);
    this.ctx.agents.listen(runId, handle);
    if (handle.pid !== undefined) await this.ctx.commit([{ type: 'run-progress', runId, pid: handle.pid }]);
    this.ctx.live.armTimeout(runId, handle, timeoutMs);
    const ending = handle.exited
      .then(
        (exit) => this.onRunExit(runId, { ...exit, timedOut: exit.timedOut || this.ctx.live.takeTimedOut(runId) }),
        (err) => this.onRunExit(runId, { exitCode: null, signal: String(err) }),
      )
      // A bug while recording a run's end must not stop Orchard (and every other run with it).
      .catch((err) => this.ctx.ports.log.error(`${runId}: recording its end failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`))
      .finally(() => {
        this.ending.delete(ending);
        this.ctx.checkIdle();
      });
    this.ending.add(ending);
  }

  /** Records a run's end: nothing of the agent's is lost (WIP ref, inspection, changes committed), then what follows. */
  private async onRunExit(runId: string, agentExit: AgentExit): Promise<void> {
    this.inFlight--;
    this.ctx.live.remove(runId);
    const run = this.ctx.state().runs[runId];
    if (!run) throw new Error(`run ${runId} is not in the state`);
    // A notice (hook, output detector) does not block the agent: it may end while its ticket shows the question.
    if (this.ctx.ticket(run.ticketId).status === 'escalated')
      await this.ctx.transition(run.ticketId, 'running', 'the agent ended without waiting for the answer');
    const t = this.ctx.ticket(run.ticketId);
    const ws = this.ctx.ports.workspace;
    const log = this.ctx.ports.log;
    const cancelled = t.status === 'cancelled';
    const reading = readExit(agentExit, cancelled);
    const { exit, failedRun } = reading;
    // A failed or stopped run's files go to a WIP ref first, then the run is checked for harm
    // (worktree deleted, target branch touched, history rewritten).
    const wipRef = failedRun ? await ws.saveWip(run, wipMessage(t.id, run, exit)).catch(() => undefined) : undefined;
    const problems = exitProblems(exit);
    try {
      const found = await ws.inspectRun(run);
      problems.push(...found.problems);
      for (const r of found.repaired) log.warn(`${t.id}: ${r}`);
    } catch (err) {
      log.warn(`Could not inspect ${runId}: ${errorText(err)}`);
    }
    let changes = { files: [] as string[], commits: 0 };
    try {
      // Uncommitted work is committed by Orchard with the ticket as the message.
      changes = await ws.collectChanges(run, `${t.id}: ${t.title}${failedRun ? ` (partial work, attempt ${run.attempt})` : ''}`);
    } catch (err) {
      log.warn(`Could not read the changes of ${runId}: ${errorText(err)}`);
    }
    if (wipRef) log.info(`${t.id}: partial work kept on ${wipRef}`);
    const approvalIsTheWork = t.labels.includes(UNTIL_APPROVED_LABEL) && this.ctx.state().runs[runId]?.verdict === 'approve';
    const granted = locksOf(this.ctx.state().locks, runId).map((l) => l.pattern);
    const end = judgeExit({ reading, cancelled, problems, changes, approvalIsTheWork, ticketFiles: t.files, granted });
    if (end.warning) log.warn(`${t.id}: ${end.warning}`);
    await this.ctx.commit([
      {
        type: 'run-ended',
        runId,
        outcome: end.outcome,
        exitCode: exit.exitCode ?? undefined,
        filesChanged: changes.files,
        commits: changes.commits,
        message: end.message,
      },
    ]);
    if (exit.usage && (exit.usage.costUsd !== undefined || exit.usage.tokens !== undefined))
      this.ctx.agents.recordUsage(runId, {
        ...(exit.usage.costUsd !== undefined && { usd: exit.usage.costUsd }),
        ...(exit.usage.tokens !== undefined && { tokens: exit.usage.tokens }),
      });
    await this.afterExit(t, run, exit, end, problems, wipRef);
  }

  /** What follows a recorded end: a pause for a rate-limited profile, a restart, the gates, a retry or failure. */
  private async afterExit(t: Ticket, run: Run, exit: AgentExit, end: ExitJudgement, problems: string[], wipRef: string | undefined): Promise<void> {
    const runId = run.id;
    if (exit.rateLimited && end.outcome !== 'cancelled') {
      await this.ctx.retries.afterRateLimit(t, run);
      this.ctx.requestPump();
      return;
    }
    if (end.stoppedWhy) {
      // Its work is on its branch and a WIP ref; the next run starts it again (not a retry).
      await this.ctx.commit([{ type: 'lock-released', runId, reason: end.stoppedWhy }]);
      await this.ctx.transition(t.id, 'ready', `${end.stoppedWhy}; starts again on the next run${wipRef ? ` (its work is kept on ${wipRef})` : ''}`);
      this.ctx.requestPump();
      return;
    }
    if (end.outcome === 'succeeded') this.ctx.retries.succeeded(this.ctx.retries.profileOf(t, run));
    if (end.outcome === 'cancelled') {
      await this.ctx.commit([{ type: 'lock-released', runId, reason: 'cancelled' }]);
    } else if (end.outcome === 'succeeded') {
      await this.ctx.transition(t.id, 'gating', 'running gates');
      await this.ctx.gates.gateRun(t.id, runId);
    } else {
      const why = failureWhy(end.outcome, exit, problems, this.ctx.live.timeoutMs(runId), wipRef);
      if (exit.problem === 'outside-worktree') {
        // Retrying would let it write in the user's checkout again: the human decides.
        await this.ctx.commit([{ type: 'lock-released', runId, reason: why }]);
        if (this.ctx.ticket(t.id).status !== 'cancelled') await this.ctx.transition(t.id, 'failed', why);
      } else
        await this.ctx.retries.afterFailure(t.id, runId, end.outcome === 'timeout' ? 'timeout' : end.outcome === 'no-changes' ? 'no-changes' : 'crash', why);
    }
    this.ctx.requestPump();
  }

  /**
   * The ticket's last attempt was cut short by Orchard's own stop: the new attempt starts from
   * where that one began, as an undisturbed run would (a half-done agent's partial commits are
   * not built on twice); its work is kept on refs/orchard/wip/ first. Setting
   * afterInterruption: 'continue' keeps building on it instead.
   */
  private async restartInterrupted(ticketId: string, runId: string): Promise<void> {
    if (this.ctx.settings().afterInterruption === 'continue') return;
    // Attempts interrupted one after another (a kill during the restart itself) all began where
    // the first of them did: that is where the new one starts.
    const earlier = Object.values(this.ctx.state().runs)
      .filter((r) => r.ticketId === ticketId && r.id !== runId)
      .sort((a, b) => b.attempt - a.attempt);
    let to: string | undefined;
    let where: Run | undefined;
    for (const r of earlier) {
      if (!wasInterrupted(r)) break;
      if (r.startHead) to = r.startHead;
      if (!where && r.worktree) where = r;
    }
    const prev = earlier[0];
    if (!prev || !to || !where) return;
    const ref = await this.ctx.ports.workspace.restartAttempt({ ...where, attempt: prev.attempt }, to).catch((err) => {
      this.ctx.ports.log.warn(`${ticketId}: could not restart from the interrupted attempt's start: ${errorText(err)}`);
      return undefined;
    });
    if (ref)
      await this.ctx.commit([{ type: 'run-progress', runId, message: `starts again from where attempt ${prev.attempt} began; its work is kept on ${ref}` }]);
  }
}
