// The orchestrator: owns the state, turns commands and run outcomes into events (through
// the transition gate), and drives runs and merges through the ports. It holds no I/O of
// its own, so the same code runs in VS Code, in the CLI and in tests.
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
import type { AgentExit, AgentHandle, AgentQuestion, Ports } from './ports';
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
import { assertTransition } from './transitions';
import { validateGraph } from './dag';
import { acquireEvents, checkGeneration, tryAcquire } from './locks';
import { breakerOf, canStart, recordFailure, recordSuccess, withBreaker, type BreakerBoard } from './circuitBreaker';
import { retryDecision, type FailureKind } from './retry';
import { Scheduler, type SlotState } from './scheduler';
import { chooseProfile, failuresByProfile, type ProfileChoice, type ProfileDecision } from './roles';
import { checkBudget, mergeRunUsage } from './budget';
import { parentOf, planSubtask } from './workflows/agentTickets';
import type { AgentTicketRequestMessage } from './ports';
import type { Lock, Usage } from './model';

export interface ChangeEvent {
  events: readonly OrchardEvent[];
  state: Readonly<OrchardState>;
}

export class OrchestratorError extends Error {
  constructor(
    readonly reason: 'unknown-ticket' | 'invalid-graph' | 'duplicate-ticket' | 'not-allowed',
    message: string,
  ) {
    super(message);
    this.name = 'OrchestratorError';
  }
  static is(e: unknown): e is OrchestratorError {
    return e instanceof OrchestratorError;
  }
}

export class Orchestrator implements Disposable {
  private readonly changed = new Emitter<ChangeEvent>();
  /** Fires after every batch of events has been applied (and durably appended). */
  readonly onDidChange: Event<ChangeEvent> = this.changed.event;

  private readonly handles = new Map<string, AgentHandle>();
  private readonly timers = new Map<string, Disposable>();
  private readonly timedOut = new Set<string>();
  private mergeQueue: string[] = [];
  private merging = false;
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

  private constructor(
    private readonly ports: Ports,
    private state: OrchardState,
    public settings: Settings,
  ) {
    this.scheduler = new Scheduler(Object.values(state.tickets));
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
    this.changed.fire({ events: [], state: this.state });
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
    this.mergeQueue = this.mergeQueue.filter((id) => id !== ticketId);
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
    await Promise.all([...this.handles.values()].map((h) => h.stop(reason)));
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

  /** After a restart: runs that were alive when the last process died are failed attempts. */
  private async recover(): Promise<void> {
    const events: OrchardEventBody[] = [];
    for (const r of Object.values(this.state.runs)) {
      if (r.endedAt) continue;
      events.push({ type: 'run-ended', runId: r.id, outcome: 'crashed', message: 'Orchard stopped while the agent was running' });
    }
    await this.commit(events);
    for (const t of Object.values(this.state.tickets)) {
      if (t.status === 'running' || t.status === 'gating') {
        await this.transition(t.id, 'ready', 'interrupted: Orchard stopped while it ran');
        const run = this.currentRun(t.id);
        if (run) await this.commit([{ type: 'lock-released', runId: run.id, reason: 'interrupted' }]);
      } else if (t.status === 'merging') {
        await this.transition(t.id, 'queued-for-merge', 'interrupted during merge');
      }
      if (this.state.tickets[t.id]!.status === 'queued-for-merge') this.mergeQueue.push(t.id);
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
    void this.drainMergeQueue();
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
      ...(attempt > 1 && t.reason ? { context: t.reason } : {}),
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
      const wt = await this.ports.workspace.prepareWorktree(t, attempt);
      const r = this.state.runs[runId]!;
      r.worktree = wt.path;
      r.branch = wt.branch;
      r.base = wt.base;
      await this.commit([{ type: 'run-progress', runId, message: `worktree ready at ${wt.path}` }]);
      const handle = await this.ports.agents.start(this.ticketForRun(ticketId, runId), this.state.runs[runId]!);
      this.handles.set(runId, handle);
      handle.onQuestion?.((q) => void this.onQuestion(runId, q));
      handle.onTicketRequest?.((q) => void this.onTicketRequest(runId, q));
      handle.onUsage?.((u) => this.recordUsage(runId, u));
      handle.onReport?.((r) => {
        if (this.state.runs[runId]?.endedAt === undefined) void this.commit([{ type: 'run-progress', runId, ...r }]);
      });
      if (handle.pid !== undefined) await this.commit([{ type: 'run-progress', runId, pid: handle.pid }]);
      this.armTimeout(runId, handle);
      void handle.exited.then(
        (exit) => this.onRunExit(runId, { ...exit, timedOut: exit.timedOut || this.timedOut.delete(runId) }),
        (err) => this.onRunExit(runId, { exitCode: null, signal: String(err) }),
      );
    } catch (err) {
      this.inFlight--;
      await this.commit([{ type: 'run-ended', runId, outcome: 'crashed', message: `could not start: ${errorText(err)}` }]);
      await this.afterFailure(ticketId, runId, 'crash', `could not start the agent: ${errorText(err)}`);
    }
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
    await this.commit([{ type: 'escalation-raised', escalation: e }]);
    const t = this.ticket(run.ticketId);
    if (t.status === 'running') await this.transition(t.id, 'escalated', `asks: ${e.question}`);
    // Seed 000: an agent that keeps asking gets the ticket flagged complex, for a human.
    const repeat = repeatedEscalationFor(Object.values(this.state.escalations), t.id);
    if (repeat) {
      const flagged = createEscalation({ ...repeat, runId }, `${runId}-complex-${this.state.seq}`, this.ports.clock.now());
      await this.commit([{ type: 'escalation-raised', escalation: flagged }]);
    }
  }

  private armTimeout(runId: string, handle: AgentHandle): void {
    this.clearTimer(runId);
    this.timers.set(
      runId,
      this.ports.clock.setTimer(this.settings.runTimeoutMinutes * 60_000, () => {
        this.timedOut.add(runId);
        void handle.stop(`timed out after ${this.settings.runTimeoutMinutes} min`);
      }),
    );
  }

  private async onRunExit(runId: string, exit: AgentExit): Promise<void> {
    this.inFlight--;
    this.clearTimer(runId);
    this.handles.delete(runId);
    const run = this.state.runs[runId]!;
    const t = this.ticket(run.ticketId);
    let changes = { files: [] as string[], commits: 0 };
    try {
      changes = await this.ports.workspace.collectChanges(run, `orchard: work in progress of ${t.id} (attempt ${run.attempt})`);
    } catch (err) {
      this.ports.log.warn(`Could not read the changes of ${runId}: ${errorText(err)}`);
    }
    const outcome = t.status === 'cancelled' ? 'cancelled' : exit.timedOut ? 'timeout' : exit.exitCode === 0 ? (changes.commits > 0 ? 'succeeded' : 'no-changes') : 'failed';
    await this.commit([
      {
        type: 'run-ended',
        runId,
        outcome,
        exitCode: exit.exitCode ?? undefined,
        filesChanged: changes.files,
        commits: changes.commits,
        message: exit.signal ? `ended by ${exit.signal}` : undefined,
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
    if (outcome === 'succeeded') this.breakers = withBreaker(this.breakers, profile, recordSuccess(breakerOf(this.breakers, profile), this.ports.clock.now()));
    if (outcome === 'cancelled') {
      await this.commit([{ type: 'lock-released', runId, reason: 'cancelled' }]);
    } else if (outcome === 'succeeded') {
      await this.transition(t.id, 'gating', 'running gates');
      // Gates arrive with the merge-queue work; with none configured every run passes.
      await this.transition(t.id, 'queued-for-merge', 'gates passed');
      this.mergeQueue.push(t.id);
    } else {
      const why =
        outcome === 'timeout'
          ? `timed out after ${this.settings.runTimeoutMinutes} min`
          : outcome === 'no-changes'
            ? 'the agent exited without committing changes'
            : `the agent exited with code ${exit.exitCode ?? exit.signal}`;
      await this.afterFailure(t.id, runId, outcome === 'timeout' ? 'timeout' : outcome === 'no-changes' ? 'no-changes' : 'crash', why);
    }
    this.requestPump();
  }

  private async afterFailure(ticketId: string, runId: string, kind: FailureKind, why: string, output?: string): Promise<void> {
    await this.commit([{ type: 'lock-released', runId, reason: why }]);
    const t = this.ticket(ticketId);
    if (t.status === 'cancelled') return;
    const d = retryDecision({ kind, message: why, output }, t.attempts - 1, {
      maxRetries: this.settings.maxRetries,
      random: this.ports.random ?? (() => 0.5),
    });
    if (d.retry) {
      const notBefore = this.ports.clock.now() + d.delayMs * this.retryScale;
      await this.transition(ticketId, 'ready', `retry ${t.attempts}/${this.settings.maxRetries}: ${why}`, notBefore);
    } else if (d.escalate === 'conflict') {
      await this.transition(ticketId, 'escalated', d.reason);
    } else {
      await this.transition(ticketId, 'failed', `gave up after ${t.attempts} attempts: ${why}`);
    }
  }

  /** Multiplies retry backoff (tests and the demo shrink it). */
  retryScale = 1;

  // ---- roles, budget and subtasks (core/roles.ts, core/budget.ts, core/workflows/agentTickets.ts)

  /** Runs waiting for a subtask: subtask ticket id → the waiting run and its request. */
  private readonly subtaskWaits = new Map<string, { runId: string; requestId: string }>();

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
    for (const w of this.subtaskWaits.values()) s.add(w.runId);
    return s;
  }

  /** The waiting run whose locks a subtask may use (its parent waits for it). */
  private lenderOf(t: Ticket): Set<string> {
    const w = this.subtaskWaits.get(t.id);
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
    const plan = planSubtask(this.state, this.settings, run.ticketId, req.ticket);
    if (!plan.ok) return reply({ ok: false, problems: plan.problems });
    const parent = this.ticket(run.ticketId);
    const wait = req.wait !== false;
    const edited = wait ? { ...parent, dependsOn: [...parent.dependsOn, plan.ticket.id] } : parent;
    const problems = validateGraph([...Object.values(this.state.tickets).filter((x) => x.id !== parent.id), edited, plan.ticket]);
    if (problems.length) return reply({ ok: false, problems: problems.map((p) => p.message) });
    await this.commit([
      { type: 'ticket-added', ticket: plan.ticket },
      ...(wait ? [{ type: 'ticket-edited' as const, id: parent.id, patch: { dependsOn: edited.dependsOn } }] : []),
    ]);
    if (!wait) {
      reply({ ok: true, ticketId: plan.ticket.id });
    } else {
      this.subtaskWaits.set(plan.ticket.id, { runId, requestId: req.id });
      this.clearTimer(runId);
      await this.commit([{ type: 'run-progress', runId, message: `waits for subtask ${plan.ticket.id}: ${plan.ticket.title}` }]);
    }
    this.requestPump();
  }

  /** Answers runs whose subtask is merged (or can no longer be). */
  private async settleSubtasks(): Promise<void> {
    for (const [subId, w] of [...this.subtaskWaits]) {
      const sub = this.state.tickets[subId];
      const run = this.state.runs[w.runId];
      const handle = this.handles.get(w.runId);
      if (!run || run.endedAt || !handle) {
        this.subtaskWaits.delete(subId);
        continue;
      }
      if (!sub || !(sub.status === 'done' || FINAL_STATUSES.has(sub.status) || sub.status === 'blocked')) continue;
      this.subtaskWaits.delete(subId);
      if (sub.status === 'done') {
        handle.answerTicketRequest?.(w.requestId, { ok: true, ticketId: subId, ...(sub.mergedAs && { commit: sub.mergedAs }) });
        await this.commit([{ type: 'run-progress', runId: w.runId, message: `subtask ${subId} merged; continuing on top of it` }]);
      } else {
        // The subtask cannot be merged: the parent no longer waits for it and decides what to do.
        const parent = this.state.tickets[run.ticketId]!;
        await this.commit([{ type: 'ticket-edited', id: parent.id, patch: { dependsOn: parent.dependsOn.filter((d) => d !== subId) } }]);
        handle.answerTicketRequest?.(w.requestId, { ok: false, ticketId: subId, problems: [`subtask ${subId} is ${sub.status}${sub.reason ? `: ${sub.reason}` : ''}`] });
      }
      this.armTimeout(w.runId, handle);
    }
  }

  /** Subtasks asked by a ticket, and its ancestors (for views). */
  subtasksOf(ticketId: string): Ticket[] {
    return Object.values(this.state.tickets).filter((t) => parentOf(t) === ticketId);
  }

  private async drainMergeQueue(): Promise<void> {
    if (this.merging) return;
    this.merging = true;
    try {
      while (this.mergeQueue.length) {
        const id = this.mergeQueue.shift()!;
        const t = this.state.tickets[id];
        if (!t || t.status !== 'queued-for-merge') continue;
        const run = this.currentRun(id)!;
        if (run.lockGenerations && this.settings.mode !== 'isolation') {
          const held = checkGeneration(this.state.locks, run.id, run.lockGenerations);
          if (!held.ok) {
            const lost = held.lost[0]!;
            await this.afterFailure(id, run.id, 'gate-failed', `lost its lock on ${lost.pattern} (${lost.why}${lost.now ? ` by ${lost.now.ticketId}` : ''}); redoing it on the new work`);
            continue;
          }
        }
        await this.transition(id, 'merging');
        let result;
        try {
          result = await this.ports.workspace.merge(t, run);
        } catch (err) {
          result = { kind: 'test-failed' as const, output: errorText(err) };
        }
        if (result.kind === 'merged') {
          await this.commit([
            { type: 'ticket-merged', id, commit: result.commit },
            { type: 'ticket-status', id, from: 'merging', to: 'done', reason: `merged as ${result.commit.slice(0, 8)}` },
            { type: 'lock-released', runId: run.id, reason: 'merged' },
          ]);
        } else if (result.kind === 'conflict') {
          await this.transition(id, 'escalated', `merge conflict in ${result.files.join(', ')}`);
        } else if (result.kind === 'nothing-to-merge') {
          await this.commit([
            { type: 'ticket-status', id, from: 'merging', to: 'done', reason: 'nothing to merge: the target already has these changes' },
            { type: 'lock-released', runId: run.id, reason: 'merged' },
          ]);
        } else if (result.kind === 'target-dirty') {
          await this.transition(id, 'escalated', `${this.settings.targetBranch} is checked out with uncommitted changes in ${result.checkout}; commit or stash them, then merge again`);
        } else {
          await this.afterFailure(id, run.id, 'test-failed-after-merge', `tests failed after merge: ${lastLines(result.output, 3)}`, result.output);
        }
        this.requestPump();
      }
    } finally {
      this.merging = false;
      this.checkIdle();
    }
  }

  private clearTimer(runId: string): void {
    this.timers.get(runId)?.dispose();
    this.timers.delete(runId);
  }

  private isSettled(): boolean {
    if (this.pumping || this.merging || this.inFlight > 0 || this.mergeQueue.length) return false;
    for (const t of Object.values(this.state.tickets)) {
      if (ACTIVE_STATUSES.has(t.status) || t.status === 'queued-for-merge') return false;
      if (this.active && t.status === 'ready' && !this.state.startsPaused) return false;
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

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join(' ⏎ ').slice(-400);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
