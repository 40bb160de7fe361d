// The orchestrator: owns the state, turns commands and run outcomes into events (through
// the transition gate), and drives runs and merges through the ports. It holds no I/O of
// its own, so the same code runs in VS Code, in the CLI and in tests.
import { errorText, OrchestratorError } from './errors';
/** Kept here too: callers import it with the orchestrator. */
export { OrchestratorError } from './errors';
import { Emitter, type Disposable, type Event } from './emitter';
import type { OrchardEvent, OrchardEventBody } from './events';
import {
  ACTIVE_STATUSES,
  FINAL_STATUSES,
  type OrchardState,
  type Run,
  type Settings,
  type Ticket,
  type TicketSpec,
  type TicketStatus,
} from './model';
import type { AgentExit, AgentHandle, AgentQuestion, LockAnswer, Ports } from './ports';
import {
  answerEscalation,
  createEscalation,
  ESCALATION_TRIGGERS,
  escalationQueue,
  repeatedEscalationFor,
  resumeText,
  type Escalation,
  type EscalationAnswer,
  type EscalationTrigger,
} from './escalations';
import { reduce } from './reduce';
import { assertTransition, requireStatus } from './transitions';
import { validateGraph } from './dag';
import { acquireEvents, locksOf, tryAcquire } from './locks';
import { matchesPath } from './paths';
import { breakerOf, canStart, recordFailure, recordSuccess, withBreaker, type BreakerBoard } from './circuitBreaker';
import { retryDecision, type FailureKind } from './retry';
import { Scheduler, type SlotState } from './scheduler';
import { parseVerdict } from './gates';
import type { QueueEntry } from './mergeQueue';
import type { MergeResult } from './ports';
import { chooseProfile, failuresByProfile, type ProfileChoice, type ProfileDecision } from './roles';
import { checkBudget, mergeRunUsage } from './budget';
import { parentOf, planSubtask } from './workflows/agentTickets';
import { loopStopOnApproval, UNTIL_APPROVED_LABEL } from './workflows/loops';
import type { AgentTicketRequestMessage } from './ports';
import type { Lock, Usage } from './model';
import { ReviewDesk } from './reviewDesk';
import type { DeskContext } from './deskContext';
import { MergeDesk } from './mergeDesk';
import { planRecovery } from './recovery';
import { GateDesk } from './gateDesk';
import { ConflictDesk } from './conflictDesk';
import type { ReviewComment, ReviewDecision, ReviewItem } from './review';
import { CONFLICT_WAYS, DIRTY_WAYS, labelsOf, wayOutOf, type WayOut } from './waysOut';

export interface ChangeEvent {
  events: readonly OrchardEvent[];
  state: Readonly<OrchardState>;
}

export class Orchestrator implements Disposable {
  private readonly changed = new Emitter<ChangeEvent>();
  /** Fires after every batch of events has been applied (and durably appended). */
  readonly onDidChange: Event<ChangeEvent> = this.changed.event;

  private readonly handles = new Map<string, AgentHandle>();
  private readonly timers = new Map<string, Disposable>();
  private readonly timedOut = new Set<string>();
  private active = false;
  private persist: Promise<void> = Promise.resolve();
  private wakeTimer: Disposable | undefined;
  private idleWaiters: Array<() => void> = [];
  private pumping = false;
  private pumpAgain = false;
  private inFlight = 0;
  private disposed = false;
  /** Circuit breakers per agent profile (rate limits); kept in memory. */
  private breakers: BreakerBoard = {};
  private renewTimer: Disposable | undefined;
  private readonly scheduler: Scheduler;
  private readonly reviews: ReviewDesk;
  private readonly merges: MergeDesk;
  private readonly conflicts: ConflictDesk;
  private readonly gatesDesk: GateDesk;

  private constructor(
    private readonly ports: Ports,
    private state: OrchardState,
    public settings: Settings,
  ) {
    this.scheduler = new Scheduler(Object.values(state.tickets));
    const desk: DeskContext = {
      state: () => this.state,
      settings: () => this.settings,
      ports: this.ports,
      commit: (events) => this.commit(events),
      transition: (id, to, reason) => this.transition(id, to, reason),
      ticket: (id) => this.ticket(id),
      currentRun: (id) => this.currentRun(id),
      requestPump: () => this.requestPump(),
    };
    this.merges = new MergeDesk({
      ...desk,
      afterFailure: (id, runId, kind, why, output) => this.afterFailure(id, runId, kind, why, output),
      loopStopEvents: (id) => this.loopStopEvents(id),
      checkIdle: () => this.checkIdle(),
      disposed: () => this.disposed,
    });
    this.conflicts = new ConflictDesk({ ...desk, merges: this.merges });
    this.reviews = new ReviewDesk({ ...desk, enqueueForMerge: (id) => this.merges.enqueue(id) });
    this.gatesDesk = new GateDesk({
      ...desk,
      gates: () => this.ports.gates,
      log: this.ports.log,
      afterFailure: (id, runId, kind, why, output) => this.afterFailure(id, runId, kind, why, output),
      reviews: this.reviews,
      merges: this.merges,
    });
  }

  static async open(ports: Ports, settings: Settings): Promise<Orchestrator> {
    const state = await ports.state.load();
    state.escalations ??= {};
    const o = new Orchestrator(ports, state, settings);
    await o.recover();
    return o;
  }

  get snapshot(): Readonly<OrchardState> {
    return this.state;
  }

  get isActive(): boolean {
    return this.active;
  }

  ticket(id: string): Ticket {
    const t = this.state.tickets[id];
    if (!t) throw new OrchestratorError('unknown-ticket', `There is no ticket "${id}". Run "orchard status" to list tickets.`);
    return t;
  }

  // ---- commands -------------------------------------------------------------------

  /** Adds tickets after checking the whole graph (existing + new); all or nothing. */
  async addTickets(specs: readonly TicketSpec[]): Promise<void> {
    const problems = validateGraph([...Object.values(this.state.tickets), ...specs]);
    if (problems.length) {
      throw new OrchestratorError('invalid-graph', `The tickets were not added:\n- ${problems.map((p) => p.message).join('\n- ')}`);
    }
    await this.commit(specs.map((ticket) => ({ type: 'ticket-added', ticket: { ...ticket } })));
    this.requestPump();
  }

  /** Starts (or resumes) the batch: ready tickets are assigned to free slots. */
  async start(): Promise<void> {
    if (!this.active) {
      this.active = true;
      await this.commit([{ type: 'batch-started' }]);
      this.scheduleLockRenewal();
    }
    this.requestPump();
  }

  /** Leases of live work are renewed at a third of their length, so only dead work expires. */
  private scheduleLockRenewal(): void {
    this.renewTimer?.dispose();
    const leaseMs = this.settings.lockLeaseMinutes * 60_000;
    this.renewTimer = this.ports.clock.setTimer(leaseMs / 3, () => {
      const now = this.ports.clock.now();
      const holders = new Set(this.state.locks.map((l) => l.runId));
      const bodies: OrchardEventBody[] = [];
      for (const runId of holders) {
        const run = this.state.runs[runId];
        const t = run && this.state.tickets[run.ticketId];
        if (t && !FINAL_STATUSES.has(t.status)) bodies.push({ type: 'lock-renewed', runId, expiresAt: now + leaseMs });
      }
      void this.commit(bodies);
      if (!this.disposed) this.scheduleLockRenewal();
    });
  }

  /** The effective agent profile of a ticket. */
  private profileOf(t: Ticket): string {
    return t.agent ?? this.settings.defaultAgent ?? 'default';
  }

  /** Stops assigning new work; running agents go on. */
  async pause(): Promise<void> {
    this.active = false;
    if (!(await this.recordPause())) this.changed.fire({ events: [], state: this.state });
  }

  /** A pause or stop is in the log, so a restart (window reload) leaves the batch paused. */
  private async recordPause(): Promise<boolean> {
    const b = this.state.batch;
    if (!b || b.endedAt !== undefined || b.pausedAt !== undefined) return false;
    await this.commit([{ type: 'batch-paused' }]);
    return true;
  }

  /** Resumes assigning work after pause() (the same as start()). */
  resume(): Promise<void> {
    return this.start();
  }

  /** Starts one ticket now on a free slot, even when no batch runs (its dependencies must be merged). */
  async startTicket(ticketId: string): Promise<void> {
    let t = this.ticket(ticketId);
    if (t.status === 'failed' || t.status === 'cancelled' || t.status === 'blocked') {
      await this.transition(ticketId, t.status === 'cancelled' ? 'backlog' : 'ready', 'started by the user');
      t = this.ticket(ticketId);
    }
    if (t.status === 'backlog') {
      const waiting = t.dependsOn.filter((d) => this.state.tickets[d]?.status !== 'done');
      if (waiting.length) throw new OrchestratorError('not-allowed', `${ticketId} waits on ${waiting.join(', ')}: a dependency must be merged first.`);
      await this.transition(ticketId, 'ready', 'started by the user');
    }
    if (this.ticket(ticketId).status !== 'ready') throw new OrchestratorError('not-allowed', `${ticketId} is ${t.status}; only a ready ticket can start.`);
    const slot = this.slots().find((s) => !s.busy);
    if (!slot) throw new OrchestratorError('not-allowed', `All ${this.settings.maxAgents} agent slots are busy; ${ticketId} starts when one frees up.`);
    await this.startRun(ticketId, slot.id);
    if (this.ticket(ticketId).status === 'ready') throw new OrchestratorError('not-allowed', `${ticketId} waits: its files are locked by another run.`);
  }

  /** Releases locks by pattern or by run id; returns how many were released. */
  async releaseLock(patternOrRunId: string, reason = 'released by the user'): Promise<number> {
    const hit = this.state.locks.filter((l) => l.runId === patternOrRunId || l.pattern === patternOrRunId);
    const byRun = new Map<string, string[]>();
    for (const l of hit) byRun.set(l.runId, [...(byRun.get(l.runId) ?? []), l.pattern]);
    await this.commit([...byRun].map(([runId, patterns]): OrchardEventBody => ({ type: 'lock-released', runId, patterns, reason })));
    this.requestPump();
    return hit.length;
  }

  /** Edits a ticket that is not being worked on; the whole graph is checked first. */
  async editTicket(id: string, patch: Partial<Omit<TicketSpec, 'id'>>): Promise<void> {
    const t = this.ticket(id);
    if (ACTIVE_STATUSES.has(t.status) || t.status === 'done' || t.status === 'queued-for-merge') {
      throw new OrchestratorError('not-allowed', `${id} is ${t.status}; edit it when it is not being worked on.`);
    }
    const next = { ...t, ...patch, id };
    const problems = validateGraph(Object.values(this.state.tickets).map((x) => (x.id === id ? next : x)));
    if (problems.length) throw new OrchestratorError('invalid-graph', `${id} was not edited:\n- ${problems.map((p) => p.message).join('\n- ')}`);
    await this.commit([{ type: 'ticket-edited', id, patch }]);
    this.requestPump();
  }

  async cancel(ticketId: string, reason = 'cancelled by the user'): Promise<void> {
    const t = this.ticket(ticketId);
    if (FINAL_STATUSES.has(t.status)) return;
    const run = this.currentRun(ticketId);
    if (run && !run.endedAt) {
      this.clearTimer(run.id);
      const h = this.handles.get(run.id);
      // Mark first so the exit handler knows the stop was ours.
      await this.transition(ticketId, 'cancelled', reason);
      await h?.stop(reason);
      return;
    }
    this.merges.remove(ticketId);
    await this.transition(ticketId, 'cancelled', reason);
    if (run) await this.commit([{ type: 'lock-released', runId: run.id, reason }]);
    this.requestPump();
  }

  /** Sends a failed, blocked, escalated or cancelled ticket back to the queue. */
  async retry(ticketId: string): Promise<void> {
    const t = this.ticket(ticketId);
    const to: TicketStatus = t.status === 'cancelled' ? 'backlog' : 'ready';
    await this.transition(ticketId, to, 'retried by the user');
    this.requestPump();
  }

  /** Open escalations, most urgent first. */
  openEscalations(): Escalation[] {
    const now = this.ports.clock.now();
    return escalationQueue(Object.values(this.state.escalations), (id) => this.state.tickets[id]?.priority ?? 'P2', now).map((q) => q.escalation);
  }

  /** Answers an escalation; a waiting agent resumes with the answer. */
  async answer(escalationId: string, answer: EscalationAnswer): Promise<void> {
    const e = this.state.escalations[escalationId];
    if (!e) throw new OrchestratorError('not-allowed', `There is no escalation "${escalationId}".`);
    if (e.answer) throw new OrchestratorError('not-allowed', `Escalation ${escalationId} was already answered by ${e.answer.by}.`);
    const way = wayOutOf(e, answer.option);
    if (way) {
      // Orchard's own question: the answer is the way out it names, from whichever UI it came.
      await this.takeWayOut(e.ticketId, way, answer.guidance);
      return;
    }
    const answered = answerEscalation(e, answer, this.ports.clock.now());
    await this.commit([{ type: 'escalation-answered', id: e.id, answer: answered.answer! }]);
    const run = e.runId ? this.state.runs[e.runId] : undefined;
    const handle = e.runId ? this.handles.get(e.runId) : undefined;
    if (run && !run.endedAt && handle?.answer && e.askedBy === run.id) {
      // Escalation ids are `<run id>-<question id>`; the agent waits on its own question id.
      handle.answer(e.id.slice(run.id.length + 1), { option: answered.answer?.option, guidance: answered.answer?.guidance });
      const t = this.ticket(e.ticketId);
      if (t.status === 'escalated') await this.transition(t.id, 'running', `resumed: ${resumeText(answered).split('\n')[0]}`);
      this.armTimeout(run.id, handle);
    }
    this.requestPump();
  }

  /** Resolves when nothing runs, nothing waits to merge and nothing more can start. */
  whenIdle(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops every agent (their work is committed to their branch) and stops scheduling. */
  async stopAll(reason = 'stopped by the user'): Promise<void> {
    this.active = false;
    await this.recordPause();
    await Promise.all([...this.handles.values()].map((h) => h.stop(reason)));
    // Each stopped run's end is on record (work kept, ticket back to ready) before this resolves.
    await Promise.all([...this.ending]);
  }

  /** Resolves once every event committed so far is durably appended. */
  async settled(): Promise<void> {
    await this.persist;
  }

  dispose(): void {
    this.disposed = true;
    this.renewTimer?.dispose();
    for (const t of this.timers.values()) t.dispose();
    this.wakeTimer?.dispose();
    this.changed.dispose();
  }

  // ---- internals ------------------------------------------------------------------

  private currentRun(ticketId: string): Run | undefined {
    let best: Run | undefined;
    for (const r of Object.values(this.state.runs)) {
      if (r.ticketId === ticketId && (!best || r.attempt > best.attempt)) best = r;
    }
    return best;
  }

  /** Applies events now and appends them durably; resolves once they are on disk. */
  private commit(bodies: OrchardEventBody[]): Promise<void> {
    if (bodies.length === 0) return this.persist;
    if (this.disposed) {
      // A straggler (a late progress report) after close: not worth reopening the store for.
      this.ports.log.debug(`dropped ${bodies.map((b) => b.type).join(', ')} after close`);
      return this.persist;
    }
    const at = this.ports.clock.now();
    const events: OrchardEvent[] = [];
    const touched = new Set<string>();
    let graphChanged = false;
    for (const body of bodies) {
      const e = { ...body, seq: this.state.seq + 1, at } as OrchardEvent;
      reduce(this.state, e);
      events.push(e);
      if (e.type === 'ticket-added' || e.type === 'ticket-edited') graphChanged = true;
      else if (e.type === 'ticket-status') touched.add(e.id);
      else if (e.type === 'run-started') touched.add(e.run.ticketId);
    }
    // The scheduler keeps derived graph data between decisions: one rebuild per graph change.
    if (graphChanged) this.scheduler.reset(Object.values(this.state.tickets));
    else for (const id of touched) this.scheduler.update(this.state.tickets[id]!);
    this.ports.state.snapshot(this.state);
    const done = this.persist.then(() => this.ports.state.append(events));
    this.persist = done.catch((err) => this.ports.log.error(`Could not persist events: ${String(err)}`));
    this.changed.fire({ events, state: this.state });
    return done;
  }

  private transition(id: string, to: TicketStatus, reason?: string, notBefore?: number): Promise<void> {
    const t = this.ticket(id);
    assertTransition(id, t.status, to);
    return this.commit([{ type: 'ticket-status', id, from: t.status, to, reason, notBefore }]);
  }

  /**
   * After a restart (VS Code reload, orchestrator killed): runs whose runner still beats are
   * adopted again; dead ones are interrupted — their work saved on a WIP ref — and retried.
   * Locks of runs that are no longer live are released.
   */
  private async recover(): Promise<void> {
    const events: OrchardEventBody[] = [];
    const adopted: { run: Run; handle: AgentHandle }[] = [];
    for (const r of Object.values(this.state.runs)) {
      if (r.endedAt) continue;
      const t = this.state.tickets[r.ticketId];
      let handle: AgentHandle | undefined;
      if (t && (t.status === 'running' || t.status === 'escalated')) {
        try {
          handle = this.ports.agents.adopt?.(r);
        } catch (err) {
          this.ports.log.warn(`Could not adopt ${r.id}: ${errorText(err)}`);
        }
      }
      if (handle) {
        adopted.push({ run: r, handle });
        continue;
      }
      const wip = this.ports.workspace.saveWip && r.worktree ? await this.ports.workspace.saveWip(r, `orchard: ${r.ticketId} attempt ${r.attempt} interrupted`).catch(() => undefined) : undefined;
      events.push({ type: 'run-ended', runId: r.id, outcome: 'crashed', message: `interrupted: Orchard stopped while the agent was running${wip ? `; work kept on ${wip}` : ''}` });
    }
    await this.commit(events);
    const live = new Set(adopted.map((a) => a.run.id));
    const plan = planRecovery(this.state, live);
    await this.commit(plan.orphanLockRuns.map((runId) => ({ type: 'lock-released' as const, runId, reason: 'its run is no longer live' })));
    for (const { run, handle } of adopted) {
      this.inFlight++;
      const left = Math.max(1000, this.runTimeoutMs(run.id) - (this.ports.clock.now() - run.startedAt));
      await this.attach(run.id, handle, left);
      // The human's time, or a subtask's, is not the agent's: no timeout while it waits.
      if (this.state.tickets[run.ticketId]?.status === 'escalated' || this.state.runs[run.id]?.waitingFor) this.clearTimer(run.id);
    }
    // The agent had finished (Orchard stopped before or while its gates ran): the gates run
    // (again); the agent does not redo its work.
    for (const r of plan.regate) if (r.toGating) await this.transition(r.ticketId, 'gating', 'its agent had finished when Orchard stopped');
    for (const i of plan.interrupted) {
      await this.transition(i.ticketId, 'ready', 'interrupted: Orchard stopped while it ran');
      if (i.runId) await this.commit([{ type: 'lock-released', runId: i.runId, reason: 'interrupted' }]);
    }
    for (const id of plan.mergeInterrupted) await this.transition(id, 'queued-for-merge', 'interrupted during merge');
    for (const id of plan.requeue) this.merges.restore(id);
    for (const r of plan.regate) {
      this.ports.log.info(`${r.ticketId}: Orchard stopped while its gates ran; running them again`);
      void this.gatesDesk.gateRun(r.ticketId, r.runId).then(() => this.requestPump());
    }
  }

  private requestPump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((err) => this.ports.log.error(`Scheduling failed: ${err instanceof Error ? err.stack : String(err)}`))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.requestPump();
        } else {
          this.checkIdle();
        }
      });
  }

  private async pump(): Promise<void> {
    await this.promoteAndBlock();
    void this.merges.drain();
    if (!this.active) return;
    const now = this.ports.clock.now();
    const plan = this.scheduler.plan({
      running: this.runningTickets(),
      slots: this.slots(),
      locks: this.settings.mode === 'isolation' ? [] : this.locksExcept(this.waitingRunIds()),
      mode: this.settings.mode,
      overlapThreshold: this.settings.overlapThreshold,
      now,
      explain: 'none',
    });
    let wakeAt: number | undefined;
    const withinBudget = await this.checkBudgetGate();
    for (const a of withinBudget ? plan.assignments : []) {
      // The role's profile, or its next fallback when that one is rate limited (paused) or failed this ticket.
      const choice = this.chooseRunProfile(this.ticket(a.ticketId), now);
      if (!choice.ok) {
        if (choice.waitUntil !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, choice.waitUntil);
        continue;
      }
      await this.startRun(a.ticketId, a.slot, choice);
    }
    for (const t of Object.values(this.state.tickets)) {
      if (t.status === 'ready' && t.notBefore !== undefined && t.notBefore > now) wakeAt = Math.min(wakeAt ?? Infinity, t.notBefore);
    }
    this.wakeTimer?.dispose();
    this.wakeTimer = wakeAt !== undefined ? this.ports.clock.setTimer(Math.max(0, wakeAt - now), () => this.requestPump()) : undefined;
  }

  private runningTickets(): { ticketId: string; slot: number; files: string[] }[] {
    const out = [];
    for (const r of Object.values(this.state.runs)) {
      if (r.endedAt === undefined && !this.waitingRunIds().has(r.id)) out.push({ ticketId: r.ticketId, slot: r.slot, files: this.state.tickets[r.ticketId]?.files ?? [] });
    }
    return out;
  }

  /** Slots are seats: any slot runs any profile, except profiles that are paused. */
  private slots(): SlotState[] {
    const load = new Map<number, number>();
    const busy = new Set<number>();
    for (const r of Object.values(this.state.runs)) {
      load.set(r.slot, (load.get(r.slot) ?? 0) + 1);
      if (r.endedAt === undefined && !this.waitingRunIds().has(r.id)) busy.add(r.slot);
    }
    const profiles = [...new Set(Object.values(this.state.tickets).map((t) => t.agent).filter((a): a is string => !!a))];
    const out: SlotState[] = [];
    for (let id = 1; id <= this.settings.maxAgents; id++) out.push({ id, busy: busy.has(id), load: load.get(id) ?? 0, capabilities: profiles });
    return out;
  }

  /** backlog → ready when every dependency is merged; → blocked when one is failed or cancelled. */
  private async promoteAndBlock(): Promise<void> {
    await this.settleSubtasks();
    for (const t of Object.values(this.state.tickets)) {
      if (t.status !== 'backlog' && t.status !== 'blocked' && t.status !== 'ready') continue;
      const deps = t.dependsOn.map((d) => this.state.tickets[d]);
      const dead = deps.find((d) => d && (d.status === 'failed' || d.status === 'cancelled' || d.status === 'blocked'));
      if (dead) {
        if (t.status !== 'blocked') await this.transition(t.id, 'blocked', `dependency ${dead.id} is ${dead.status}`);
        continue;
      }
      const allDone = deps.every((d) => d && d.status === 'done');
      if (allDone && t.status !== 'ready') await this.transition(t.id, 'ready');
      else if (!allDone && t.status === 'blocked') await this.transition(t.id, 'backlog', 'dependency is back in progress');
    }
  }

  private async startRun(ticketId: string, slot: number, choice?: ProfileChoice): Promise<void> {
    const t = this.ticket(ticketId);
    const attempt = t.attempts + 1;
    const runId = `${ticketId}-r${attempt}`;
    const now = this.ports.clock.now();
    const leaseMs = this.settings.lockLeaseMinutes * 60_000;
    let lockEvents: OrchardEventBody[] = [];
    let lockGenerations: Record<string, number> | undefined;
    if (this.settings.mode !== 'isolation' && t.files.length) {
      const got = tryAcquire(
        { locks: this.locksExcept(this.lenderOf(t)), generation: this.state.lockGeneration },
        { runId, ticketId, patterns: t.files, now, leaseMs },
      );
      // The scheduler only assigns tickets whose files are free, so this holds unless a lock
      // was taken between plan and start; then the ticket simply waits for the next pass.
      if (!got.ok) {
        this.ports.log.info(`${ticketId} waits: ${got.conflicts[0]?.holder.pattern} is locked by ${got.conflicts[0]?.holder.ticketId}`);
        return;
      }
      lockEvents = acquireEvents(got, runId);
      lockGenerations = Object.fromEntries(got.table.locks.filter((l) => l.runId === runId).map((l) => [l.pattern, l.generation]));
    }
    const run: Run = {
      id: runId,
      ticketId,
      slot,
      attempt,
      branch: `orchard/${ticketId}`,
      worktree: '',
      startedAt: now,
      ...(attempt > 1 && (t.handoff ?? t.reason) ? { context: t.handoff ?? t.reason } : {}),
      ...(lockGenerations && { lockGenerations }),
      ...(choice && { profile: choice.profile, ...(choice.model && { model: choice.model }) }),
    };
    await this.commit([
      { type: 'ticket-status', id: ticketId, from: t.status, to: 'running', reason: `attempt ${attempt} on slot ${slot}` },
      { type: 'run-started', run },
      ...lockEvents,
    ]);
    this.inFlight++;
    try {
      await this.restartInterrupted(ticketId, runId);
      const wt = await this.ports.workspace.prepareWorktree(t, attempt);
      // In the event, not only in memory: a state rebuilt from the log must know the worktree (WIP save, adopt).
      await this.commit([
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
      const handle = await this.ports.agents.start(this.ticketForRun(ticketId, runId), this.state.runs[runId]!);
      await this.attach(runId, handle);
    } catch (err) {
      this.inFlight--;
      await this.commit([{ type: 'run-ended', runId, outcome: 'crashed', message: `could not start: ${errorText(err)}` }]);
      await this.afterFailure(ticketId, runId, 'crash', `could not start the agent: ${errorText(err)}`);
    }
  }

  /** Wires a live agent (just started, or adopted again after a restart) to the orchestrator. */
  private async attach(runId: string, handle: AgentHandle, timeoutMs?: number): Promise<void> {
    this.handles.set(runId, handle);
    handle.onQuestion?.((q) => void this.onQuestion(runId, q));
    handle.onTicketRequest?.((q) => void this.onTicketRequest(runId, q));
    handle.onUsage?.((u) => this.recordUsage(runId, u));
    handle.onLockRequest?.((req) => {
      void this.requestLocks(runId, req.patterns).then(
        (a) => handle.answerLock?.(req.id, a),
        (err) => handle.answerLock?.(req.id, { granted: false, error: errorText(err) }),
      );
    });
    handle.onReport?.((r) => {
      if (this.state.runs[runId]?.endedAt !== undefined) return;
      // A reviewing agent's "VERDICT: APPROVE|REJECT" is kept on the run (a review loop stops on approval).
      const v = r.message ? parseVerdict(r.message).verdict : 'none';
      void this.commit([{ type: 'run-progress', runId, progress: r.progress, message: r.message }, ...(v !== 'none' ? [{ type: 'run-verdict' as const, runId, verdict: v }] : [])]);
    });
    if (handle.pid !== undefined) await this.commit([{ type: 'run-progress', runId, pid: handle.pid }]);
    this.armTimeout(runId, handle, timeoutMs);
    const ending = handle.exited
      .then(
        (exit) => this.onRunExit(runId, { ...exit, timedOut: exit.timedOut || this.timedOut.delete(runId) }),
        (err) => this.onRunExit(runId, { exitCode: null, signal: String(err) }),
      )
      // A bug while recording a run's end must not stop Orchard (and every other run with it).
      .catch((err) => this.ports.log.error(`${runId}: recording its end failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`))
      .finally(() => {
        this.ending.delete(ending);
        this.checkIdle();
      });
    this.ending.add(ending);
  }

  /**
   * More files for a running agent (`orchard-agent lock`): granted when no other live run
   * holds an overlapping pattern, otherwise the holder is named. Isolation mode has no locks.
   */
  async requestLocks(runId: string, patterns: readonly string[]): Promise<LockAnswer> {
    const run = this.state.runs[runId];
    if (!run || run.endedAt !== undefined) return { granted: false, error: `run ${runId} is not running` };
    if (patterns.length === 0) return { granted: false, error: 'no paths given' };
    if (this.settings.mode === 'isolation') return { granted: true };
    const got = tryAcquire(
      { locks: this.state.locks, generation: this.state.lockGeneration },
      { runId, ticketId: run.ticketId, patterns: [...patterns], now: this.ports.clock.now(), leaseMs: this.settings.lockLeaseMinutes * 60_000 },
    );
    if (!got.ok) {
      const h = got.conflicts[0]!.holder;
      return { granted: false, holder: { ticketId: h.ticketId, pattern: h.pattern } };
    }
    await this.commit(acquireEvents(got, runId));
    this.requestPump();
    return { granted: true };
  }

  private async onQuestion(runId: string, q: AgentQuestion): Promise<void> {
    const run = this.state.runs[runId];
    if (!run || run.endedAt) return;
    let e: Escalation;
    try {
      const trigger = (ESCALATION_TRIGGERS as readonly string[]).includes(q.trigger) ? (q.trigger as EscalationTrigger) : 'input-needed';
      e = createEscalation(
        { ticketId: run.ticketId, runId, askedBy: runId, trigger, question: q.question, context: q.context, options: q.options },
        `${runId}-${q.id}`,
        this.ports.clock.now(),
      );
    } catch (err) {
      this.ports.log.warn(`${run.ticketId} asked an invalid question: ${errorText(err)}`);
      return;
    }
    // The human's time is not the agent's: the run's timeout waits while the question is open.
    this.clearTimer(runId);
    const t = this.ticket(run.ticketId);
    // The question and the ticket's move to "escalated" land together: nobody sees one without the other.
    const moves: OrchardEventBody[] = [];
    if (t.status === 'running') {
      assertTransition(t.id, t.status, 'escalated');
      moves.push({ type: 'ticket-status', id: t.id, from: t.status, to: 'escalated', reason: `asks: ${e.question}` });
    }
    await this.commit([{ type: 'escalation-raised', escalation: e }, ...moves]);
    // Seed 000: an agent that keeps asking gets the ticket flagged complex, for a human.
    const repeat = repeatedEscalationFor(Object.values(this.state.escalations), t.id);
    if (repeat) {
      const flagged = createEscalation({ ...repeat, runId }, `${runId}-complex-${this.state.seq}`, this.ports.clock.now());
      await this.commit([{ type: 'escalation-raised', escalation: flagged }]);
    }
  }

  private armTimeout(runId: string, handle: AgentHandle, ms?: number): void {
    this.clearTimer(runId);
    this.timers.set(
      runId,
      this.ports.clock.setTimer(ms ?? this.runTimeoutMs(runId), () => {
        this.timedOut.add(runId);
        void handle.stop(`timed out after ${Math.round(this.runTimeoutMs(runId) / 60_000)} min`);
      }),
    );
  }

  /** The ticket's own timeout, else the setting; what is left of it for a run started earlier. */
  private runTimeoutMs(runId: string): number {
    const run = this.state.runs[runId];
    const minutes = (run && this.state.tickets[run.ticketId]?.timeoutMinutes) || this.settings.runTimeoutMinutes;
    return minutes * 60_000;
  }

  private async onRunExit(runId: string, exit: AgentExit): Promise<void> {
    this.inFlight--;
    this.clearTimer(runId);
    this.handles.delete(runId);
    const run = this.state.runs[runId]!;
    // A notice (hook, output detector) does not block the agent: it may end while its ticket shows the question.
    if (this.ticket(run.ticketId).status === 'escalated') await this.transition(run.ticketId, 'running', 'the agent ended without waiting for the answer');
    const t = this.ticket(run.ticketId);
    const ws = this.ports.workspace;
    // Who ended the attempt (README "Failure classes"): the agent said done (its exit code does
    // not matter: Orchard ended its session), Orchard stopped it first (Stop All, pause: never
    // merged, never counted), the user pressed Ctrl-C in its terminal (not counted either).
    const stopped = !exit.saidDone && !exit.timedOut && t.status !== 'cancelled' && (exit.stoppedByOrchard !== undefined || exit.signal === 'SIGINT');
    if (exit.saidDone && exit.exitCode !== 0 && !exit.problem && !exit.timedOut) exit = { ...exit, exitCode: 0 };
    // Nothing of the agent's is lost: a failed or stopped run's files go to a WIP ref first,
    // then the run is checked for harm (worktree deleted, target branch touched, history rewritten).
    const failedRun = exit.timedOut || exit.problem !== undefined || exit.exitCode !== 0 || stopped;
    let wipRef: string | undefined;
    if (failedRun && ws.saveWip) {
      wipRef = await ws.saveWip(run, `orchard: ${t.id} attempt ${run.attempt} stopped (${exit.timedOut ? 'timeout' : (exit.problem ?? `exit ${exit.exitCode ?? exit.signal}`)})`).catch(() => undefined);
    }
    let problems: string[] =
      exit.problem === 'output-loop'
        ? ['the agent looped printing output']
        : exit.problem === 'outside-worktree'
          ? [`the agent worked in your checkout (${exit.outsideAt ?? '?'}), outside its worktree, and was stopped; Orchard changed nothing there: check "git status" in your checkout`]
          : [];
    if (ws.inspectRun) {
      try {
        const found = await ws.inspectRun(run);
        problems = [...problems, ...found.problems];
        for (const r of found.repaired) this.ports.log.warn(`${t.id}: ${r}`);
      } catch (err) {
        this.ports.log.warn(`Could not inspect ${runId}: ${errorText(err)}`);
      }
    }
    let changes = { files: [] as string[], commits: 0 };
    try {
      // Uncommitted work is committed by Orchard with the ticket as the message.
      changes = await ws.collectChanges(run, `${t.id}: ${t.title}${failedRun ? ` (partial work, attempt ${run.attempt})` : ''}`);
    } catch (err) {
      this.ports.log.warn(`Could not read the changes of ${runId}: ${errorText(err)}`);
    }
    if (wipRef) this.ports.log.info(`${t.id}: partial work kept on ${wipRef}`);
    const outcome =
      t.status === 'cancelled' ? 'cancelled' : exit.timedOut ? 'timeout' : problems.length ? 'failed' : stopped || exit.rateLimited ? 'crashed' : exit.exitCode === 0 ? (changes.commits > 0 || this.approvalIsTheWork(t, runId) ? 'succeeded' : 'no-changes') : 'failed';
    const stoppedWhy = stopped ? (exit.stoppedByOrchard !== undefined ? `interrupted: stopped by Orchard (${exit.stoppedByOrchard})` : 'interrupted by the user (Ctrl-C in its terminal)') : undefined;
    // Files changed outside the ticket's files and the locks the run was granted: merged, with a warning.
    const mine = locksOf(this.state.locks, runId).map((l) => l.pattern);
    const outside = t.files.length ? changes.files.filter((f) => ![...t.files, ...mine].some((p) => matchesPath(p, f))) : [];
    const warning = outside.length ? `warning: changed files outside its ticket's files (${t.files.join(', ')}): ${outside.slice(0, 10).join(', ')}${outside.length > 10 ? ` and ${outside.length - 10} more` : ''}` : undefined;
    if (warning) this.ports.log.warn(`${t.id}: ${warning}`);
    await this.commit([
      {
        type: 'run-ended',
        runId,
        outcome,
        exitCode: exit.exitCode ?? undefined,
        filesChanged: changes.files,
        commits: changes.commits,
        message:
          [
            stoppedWhy ?? (exit.rateLimited && outcome === 'crashed' ? `rate limited: ${exit.exitCode === 0 ? 'its CLI said so' : exitInWords(exit)}` : undefined),
            problems.length ? problems.join('; ') : exit.signal && !stoppedWhy ? `ended by ${exit.signal}` : undefined,
            warning,
          ]
            .filter(Boolean)
            .join('; ') || undefined,
      },
    ]);
    if (exit.usage && (exit.usage.costUsd !== undefined || exit.usage.tokens !== undefined))
      this.recordUsage(runId, { ...(exit.usage.costUsd !== undefined && { usd: exit.usage.costUsd }), ...(exit.usage.tokens !== undefined && { tokens: exit.usage.tokens }) });
    const profile = run.profile ?? this.profileOf(t);
    if (exit.rateLimited && outcome !== 'cancelled') {
      const d = retryDecision({ kind: 'rate-limit', message: 'rate limited' }, t.attempts - 1, { random: this.ports.random ?? (() => 0.5) });
      const delayMs = d.retry ? d.delayMs * this.retryScale : 60_000 * this.retryScale;
      this.breakers = withBreaker(this.breakers, profile, recordFailure(breakerOf(this.breakers, profile), this.ports.clock.now(), { rateLimit: true, retryAfterMs: delayMs }));
      await this.commit([{ type: 'lock-released', runId, reason: 'rate limited' }]);
      // A rate limit is the profile's trouble, not the ticket's: it does not use up a retry.
      // With a fallback profile free, the ticket goes again at once (on the fallback).
      const fallback = this.chooseRunProfile(t, this.ports.clock.now());
      const notBefore = fallback.ok && fallback.profile !== profile ? undefined : this.ports.clock.now() + delayMs;
      await this.transition(t.id, 'ready', `${profile} is rate limited; paused until ${new Date(this.ports.clock.now() + delayMs).toISOString().slice(11, 19)}${notBefore === undefined && fallback.ok ? `; trying ${fallback.profile}` : ''}`, notBefore);
      this.requestPump();
      return;
    }
    if (stoppedWhy) {
      // Its work is on its branch and a WIP ref; the next run starts it again (not a retry).
      await this.commit([{ type: 'lock-released', runId, reason: stoppedWhy }]);
      await this.transition(t.id, 'ready', `${stoppedWhy}; starts again on the next run${wipRef ? ` (its work is kept on ${wipRef})` : ''}`);
      this.requestPump();
      return;
    }
    if (outcome === 'succeeded') this.breakers = withBreaker(this.breakers, profile, recordSuccess(breakerOf(this.breakers, profile), this.ports.clock.now()));
    if (outcome === 'cancelled') {
      await this.commit([{ type: 'lock-released', runId, reason: 'cancelled' }]);
    } else if (outcome === 'succeeded') {
      await this.transition(t.id, 'gating', 'running gates');
      await this.gatesDesk.gateRun(t.id, runId);
    } else {
      const why =
        outcome === 'timeout'
          ? `timed out after ${Math.round(this.runTimeoutMs(runId) / 60_000)} min${wipRef ? `; partial work on ${wipRef}` : ''}`
          : problems.length
            ? problems.join('; ')
            : outcome === 'no-changes'
            ? 'the agent exited without committing changes'
            : exit.explanation ?? exitInWords(exit);
      if (exit.problem === 'outside-worktree') {
        // Retrying would let it write in the user's checkout again: the human decides.
        await this.commit([{ type: 'lock-released', runId, reason: why }]);
        if (this.ticket(t.id).status !== 'cancelled') await this.transition(t.id, 'failed', why);
      } else await this.afterFailure(t.id, runId, outcome === 'timeout' ? 'timeout' : outcome === 'no-changes' ? 'no-changes' : 'crash', why);
    }
    this.requestPump();
  }

  private async afterFailure(ticketId: string, runId: string, kind: FailureKind, why: string, output?: string): Promise<void> {
    await this.commit([{ type: 'lock-released', runId, reason: why }]);
    const t = this.ticket(ticketId);
    if (t.status === 'cancelled') return;
    const used = this.countedAttempts(ticketId) - 1;
    const d = retryDecision({ kind, message: why, output }, used, {
      maxRetries: this.settings.maxRetries,
      random: this.ports.random ?? (() => 0.5),
    });
    if (d.retry) {
      const notBefore = this.ports.clock.now() + d.delayMs * this.retryScale;
      await this.transition(ticketId, 'ready', `retry ${used + 1}/${this.settings.maxRetries}: ${why}`, notBefore);
    } else if (d.escalate === 'conflict') {
      await this.transition(ticketId, 'escalated', d.reason);
    } else {
      await this.transition(ticketId, 'failed', `gave up after ${t.attempts} attempts: ${why}`);
    }
  }

  /**
   * Attempts that count against maxRetries: runs Orchard itself interrupted (its process died
   * while they ran; recover() ends them as "interrupted", or their runner was killed with it)
   * are not the ticket's failures.
   */
  private countedAttempts(ticketId: string): number {
    // Attempts a person sent back from review ("request changes") did their job: not failures either.
    const reviewed = new Set((this.state.tickets[ticketId]?.reviews ?? []).filter((d) => d.decision === 'request-changes').map((d) => d.runId));
    let n = 0;
    for (const r of Object.values(this.state.runs)) if (r.ticketId === ticketId && !wasInterrupted(r) && !reviewed.has(r.id)) n++;
    return Math.max(1, n);
  }

  /**
   * The ticket's last attempt was cut short by Orchard's own stop: the new attempt starts from
   * where that one began, as an undisturbed run would (a half-done agent's partial commits are
   * not built on twice); its work is kept on refs/orchard/wip/ first. Setting
   * afterInterruption: 'continue' keeps building on it instead.
   */
  private async restartInterrupted(ticketId: string, runId: string): Promise<void> {
    if (this.settings.afterInterruption === 'continue' || !this.ports.workspace.restartAttempt) return;
    // Attempts interrupted one after another (a kill during the restart itself) all began where
    // the first of them did: that is where the new one starts.
    const earlier = Object.values(this.state.runs)
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
    const ref = await this.ports.workspace.restartAttempt({ ...where, attempt: prev.attempt }, to).catch((err) => {
      this.ports.log.warn(`${ticketId}: could not restart from the interrupted attempt's start: ${errorText(err)}`);
      return undefined;
    });
    if (ref) await this.commit([{ type: 'run-progress', runId, message: `starts again from where attempt ${prev.attempt} began; its work is kept on ${ref}` }]);
  }

  /** Runs whose exit is being processed (stopAll waits for them). */
  private readonly ending = new Set<Promise<void>>();

  /** Multiplies retry backoff (tests and the demo shrink it). */
  retryScale = 1;

  // ---- roles, budget and subtasks (core/roles.ts, core/budget.ts, core/workflows/agentTickets.ts)

  /** Runs waiting for a subtask (in the state, so a restart keeps waiting): the run, its subtask and the request to answer. */
  private subtaskWaits(): Array<{ runId: string; subtaskId: string; requestId: string }> {
    const out = [];
    for (const r of Object.values(this.state.runs)) {
      if (r.endedAt !== undefined || !r.waitingFor) continue;
      const requestId = Object.entries(r.subtasks ?? {}).find(([, s]) => s === r.waitingFor)?.[0];
      if (requestId) out.push({ runId: r.id, subtaskId: r.waitingFor, requestId });
    }
    return out;
  }

  /** The profile for the next run of a ticket: its role's, or the next fallback. */
  private chooseRunProfile(t: Ticket, now: number): ProfileDecision {
    return chooseProfile(t, this.settings, {
      pausedUntil: (p) => {
        const b = breakerOf(this.breakers, p);
        return canStart(b, now) ? undefined : (b.openUntil ?? Infinity);
      },
      failures: failuresByProfile(Object.values(this.state.runs), t.id),
    });
  }

  /** The ticket as the agent port sees it: `agent` is the profile chosen for the run. */
  private ticketForRun(ticketId: string, runId: string): Ticket {
    const t = this.ticket(ticketId);
    const p = this.state.runs[runId]?.profile;
    return p && p !== 'default' && p !== t.agent ? { ...t, agent: p } : t;
  }

  /** Why new runs do not start (budget reached), or undefined. */
  get startsPausedReason(): string | undefined {
    return this.state.startsPaused;
  }

  /** Budget per batch: false (and a starts-paused event saying why) once it is spent. */
  private async checkBudgetGate(): Promise<boolean> {
    const b = checkBudget(this.state, this.settings);
    const reason = b.ok ? undefined : b.reason;
    if (reason !== this.state.startsPaused) {
      if (reason) this.ports.log.warn(reason);
      await this.commit([{ type: 'starts-paused', ...(reason !== undefined && { reason }) }]);
    }
    return b.ok;
  }

  private recordUsage(runId: string, u: Usage): void {
    const r = this.state.runs[runId];
    if (!r) return;
    void this.commit([{ type: 'run-usage', runId, usage: mergeRunUsage(r.usage, u) }]);
  }

  private waitingRunIds(): Set<string> {
    const s = new Set<string>();
    for (const w of this.subtaskWaits()) s.add(w.runId);
    return s;
  }

  /** The waiting run whose locks a subtask may use (its parent waits for it). */
  private lenderOf(t: Ticket): Set<string> {
    const w = this.subtaskWaits().find((x) => x.subtaskId === t.id);
    return new Set(w ? [w.runId] : []);
  }

  private locksExcept(runIds: ReadonlySet<string>): Lock[] {
    return runIds.size ? this.state.locks.filter((l) => !runIds.has(l.runId)) : this.state.locks;
  }

  /**
   * `orchard-agent subtask`: a new ticket that the asking ticket depends on; the asking run
   * waits (its slot and its locks are lent to the subtask, its timeout stops) and resumes
   * when the subtask is merged. Refused past the depth and count limits.
   */
  private async onTicketRequest(runId: string, req: AgentTicketRequestMessage): Promise<void> {
    const run = this.state.runs[runId];
    const handle = this.handles.get(runId);
    const reply = (a: Parameters<NonNullable<typeof handle>['answerTicketRequest'] & {}>[1]) => handle?.answerTicketRequest?.(req.id, a);
    if (!run || run.endedAt) return;
    if (req.kind !== 'subtask') return reply({ ok: false, problems: ['a running ticket can only delegate with `orchard-agent subtask`; add-ticket is for planners'] });
    // A request seen again (the run was adopted after a restart): never a second subtask.
    const known = run.subtasks?.[req.id];
    if (known !== undefined) {
      if (run.waitingFor === known) return; // still waiting; settleSubtasks() answers it
      const sub = this.state.tickets[known];
      if (sub?.status === 'done') return reply({ ok: true, ticketId: known, ...(sub.mergedAs && { commit: sub.mergedAs }) });
      if (!sub || FINAL_STATUSES.has(sub.status) || sub.status === 'blocked') return reply({ ok: false, ticketId: known, problems: [`subtask ${known} is ${sub?.status ?? 'gone'}`] });
      return reply({ ok: true, ticketId: known });
    }
    const plan = planSubtask(this.state, this.settings, run.ticketId, req.ticket);
    if (!plan.ok) return reply({ ok: false, problems: plan.problems });
    const parent = this.ticket(run.ticketId);
    const wait = req.wait !== false;
    const edited = wait ? { ...parent, dependsOn: [...parent.dependsOn, plan.ticket.id] } : parent;
    const problems = validateGraph([...Object.values(this.state.tickets).filter((x) => x.id !== parent.id), edited, plan.ticket]);
    if (problems.length) return reply({ ok: false, problems: problems.map((p) => p.message) });
    // The subtask, the parent's new dependency and the wait are one commit: a restart sees all or none.
    await this.commit([
      { type: 'ticket-added', ticket: plan.ticket },
      ...(wait ? [{ type: 'ticket-edited' as const, id: parent.id, patch: { dependsOn: edited.dependsOn } }] : []),
      { type: 'subtask-requested', runId, requestId: req.id, subtaskId: plan.ticket.id, wait },
    ]);
    if (!wait) {
      reply({ ok: true, ticketId: plan.ticket.id });
    } else {
      this.clearTimer(runId);
      await this.commit([{ type: 'run-progress', runId, message: `waits for subtask ${plan.ticket.id}: ${plan.ticket.title}` }]);
    }
    this.requestPump();
  }

  /** Answers runs whose subtask is merged (or can no longer be). */
  private async settleSubtasks(): Promise<void> {
    for (const w of this.subtaskWaits()) {
      const subId = w.subtaskId;
      const sub = this.state.tickets[subId];
      const run = this.state.runs[w.runId]!;
      // Not attached (yet): recover() adopts it or ends it, and an ended run waits for nothing.
      const handle = this.handles.get(w.runId);
      if (!handle) continue;
      if (!sub || !(sub.status === 'done' || FINAL_STATUSES.has(sub.status) || sub.status === 'blocked')) continue;
      if (sub.status === 'done') {
        await this.commit([
          { type: 'subtask-settled', runId: w.runId, subtaskId: subId, merged: true },
          { type: 'run-progress', runId: w.runId, message: `subtask ${subId} merged; continuing on top of it` },
        ]);
        handle.answerTicketRequest?.(w.requestId, { ok: true, ticketId: subId, ...(sub.mergedAs && { commit: sub.mergedAs }) });
      } else {
        // The subtask cannot be merged: the parent no longer waits for it and decides what to do.
        const parent = this.state.tickets[run.ticketId]!;
        await this.commit([
          { type: 'subtask-settled', runId: w.runId, subtaskId: subId, merged: false },
          { type: 'ticket-edited', id: parent.id, patch: { dependsOn: parent.dependsOn.filter((d) => d !== subId) } },
        ]);
        handle.answerTicketRequest?.(w.requestId, { ok: false, ticketId: subId, problems: [`subtask ${subId} is ${sub.status}${sub.reason ? `: ${sub.reason}` : ''}`] });
      }
      this.armTimeout(w.runId, handle);
    }
  }

  /**
   * A review loop's approving step is merged with VERDICT: APPROVE: the rest of the loop is
   * cancelled as not needed (never started, so no work is lost) and what followed the loop
   * follows the approving ticket. Committed with the merge, so a crash cannot split them.
   */
  private loopStopEvents(ticketId: string): OrchardEventBody[] {
    const stop = loopStopOnApproval(this.state, ticketId);
    if (!stop) return [];
    this.ports.log.info(`${ticketId}: ${stop.reason}; skipping ${stop.skip.join(', ')}`);
    return [
      ...stop.rewire.map((r): OrchardEventBody => ({ type: 'ticket-edited', id: r.id, patch: { dependsOn: r.dependsOn } })),
      ...stop.skip.map((id): OrchardEventBody => {
        const from = this.ticket(id).status;
        assertTransition(id, from, 'cancelled');
        return { type: 'ticket-status', id, from, to: 'cancelled', reason: stop.reason };
      }),
    ];
  }

  /** A review loop's approving step that approved without writing notes did its job: nothing to merge, not a failure. */
  private approvalIsTheWork(t: Ticket, runId: string): boolean {
    return t.labels.includes(UNTIL_APPROVED_LABEL) && this.state.runs[runId]?.verdict === 'approve';
  }

  /** Subtasks asked by a ticket, and its ancestors (for views). */
  subtasksOf(ticketId: string): Ticket[] {
    return Object.values(this.state.tickets).filter((t) => parentOf(t) === ticketId);
  }

  /** The merge queue in merge order, with merge-tree predictions against the current tip. */
  mergeOrder(): Promise<QueueEntry[]> {
    return this.merges.order();
  }

  // ---- the ways out of a stopped merge (core/conflictDesk.ts) --------------------------

  /**
   * Takes a way out of a stopped merge (the answer to Orchard's own question, or a command).
   * Choosing Discard is the confirmation (the branch is kept under refs/orchard/discarded/);
   * "Later" leaves the question open.
   */
  takeWayOut(id: string, way: WayOut, guidance?: string): Promise<void> {
    return this.conflicts.takeWayOut(id, way, guidance);
  }

  /** "Open the conflicted files": the conflict stays in the integration worktree (the queue waits); its folder and files. */
  openConflict(id: string): Promise<{ dir: string; files: string[] }> {
    return this.conflicts.openConflict(id);
  }

  /** "Continue Merge": the human resolved the conflict in the integration worktree; test, then move the target. */
  continueMerge(id: string): Promise<MergeResult> {
    return this.conflicts.continueMerge(id);
  }

  /** Sends the ticket back to its agent, rebased onto the target, with the conflict (or failure) as context. */
  sendBack(id: string, guidance?: string): Promise<void> {
    return this.conflicts.sendBack(id, guidance);
  }

  /** Keeps the branch for later: the ticket waits (escalated) until Merge Now, Send Back or Discard. */
  keepForLater(id: string): Promise<void> {
    return this.conflicts.keepForLater(id);
  }

  /** Discards the ticket's work: only with confirmed=true, and its branch is kept under refs/orchard/discarded/. */
  discard(id: string, confirmed = false): Promise<{ ref?: string }> {
    return this.conflicts.discard(id, confirmed);
  }

  /** Puts a finished ticket (kept, escalated after its merge) at the front of the merge queue and merges it. */
  mergeNow(id: string): Promise<void> {
    return this.conflicts.mergeNow(id);
  }

  /** The target's checkout was dirty: stash the user's changes, fast-forward, put them back, for this ticket's merge. */
  stashAndUpdate(id: string): Promise<void> {
    return this.conflicts.stashAndUpdate(id);
  }

  // ---- review (core/reviewDesk.ts) ----------------------------------------------------

  /** Tickets waiting for a person's review, oldest first. */
  reviewQueue(): ReviewItem[] {
    return this.reviews.queue();
  }

  /** Approves tickets waiting for review (all or none); they go to the merge queue. */
  approve(ids: readonly string[], by = 'human'): Promise<void> {
    return this.reviews.approve(ids, by);
  }

  /** Sends a ticket waiting for review back to its agent with the summary and line comments as feedback. */
  requestChanges(id: string, feedback: { summary?: string; comments?: readonly ReviewComment[] }, by = 'human'): Promise<void> {
    return this.reviews.requestChanges(id, feedback, by);
  }

  /** One decision on tickets waiting for review, as every UI and the CLI take it. Discard is confirmed by choosing it (the branch is kept). */
  async review(decision: ReviewDecision, ids: readonly string[], feedback: { summary?: string; comments?: readonly ReviewComment[] } = {}, by = 'human'): Promise<void> {
    if (!ids.length) throw new OrchestratorError('bad-input', `${decision} needs at least one ticket id.`);
    if (decision === 'approve') return this.approve(ids, by);
    if (decision === 'request-changes') {
      if (ids.length > 1) throw new OrchestratorError('bad-input', 'Request changes is for one ticket at a time (its comments are its own).');
      return this.requestChanges(ids[0]!, feedback, by);
    }
    for (const id of ids) requireStatus(this.ticket(id), ['in-review'], 'Discard from the review queue');
    for (const id of ids) await this.discard(id, true);
  }

  private clearTimer(runId: string): void {
    this.timers.get(runId)?.dispose();
    this.timers.delete(runId);
  }

  private isSettled(): boolean {
    // While the human resolves a conflict in the integration worktree, the queue waits on them.
    const held = this.merges.heldBy() !== undefined;
    // A run's end still being recorded is not idle: between its ticket's move to "failed" and the
    // pump that blocks its dependents, a merge finishing elsewhere once found the batch "idle"
    // with a dependent still in the backlog.
    if (this.pumping || this.merges.busy || this.inFlight > 0 || this.ending.size > 0 || (this.merges.pending && !held)) return false;
    for (const t of Object.values(this.state.tickets)) {
      if (ACTIVE_STATUSES.has(t.status) || (t.status === 'queued-for-merge' && !held)) return false;
      if (this.active && t.status === 'ready' && !this.state.startsPaused) return false;
      // A started batch goes on while a person reviews: approved work still merges.
      if (this.active && t.status === 'in-review') return false;
    }
    return true;
  }

  private checkIdle(): void {
    if (!this.isSettled() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    if (this.active && this.state.batch && !this.state.batch.endedAt) {
      void this.commit([{ type: 'batch-ended' }]).finally(() => waiters.forEach((w) => w()));
    } else {
      waiters.forEach((w) => w());
    }
  }
}

/** The four ways out of a merge conflict, as labelled for the human. */
export const CONFLICT_OPTIONS = labelsOf(CONFLICT_WAYS);
/** The choices when the target is checked out with uncommitted changes, as labelled. */
export const DIRTY_OPTIONS = labelsOf(DIRTY_WAYS);


/** How an agent process ended: "exited with code 1", "was killed by SIGKILL" (not "exited with code SIGKILL"). */
function exitInWords(exit: AgentExit): string {
  if (exit.exitCode !== null && exit.exitCode !== undefined) return `the agent exited with code ${exit.exitCode}`;
  if (exit.signal && /^SIG[A-Z0-9]+$/.test(exit.signal)) return `the agent was killed by ${exit.signal}`;
  return `the agent ended without an exit code${exit.signal ? ` (${exit.signal})` : ''}`;
}

/**
 * Not the ticket's failure, so never counted against maxRetries: ended by Orchard's own stop
 * (recover() marks it "interrupted", Stop All, its runner killed with Orchard), by the user's
 * Ctrl-C, or by a rate limit or an overloaded service (the profile's trouble).
 */
function wasInterrupted(r: Run): boolean {
  return (r.outcome === 'crashed' && (!!r.message?.startsWith('interrupted') || !!r.message?.startsWith('rate limited'))) || !!r.message?.includes('runner vanished');
}
