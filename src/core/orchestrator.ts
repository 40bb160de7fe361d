// The orchestrator is the core's facade: it takes the commands of every UI and the CLI, wires the
// desks that do the work (ledger, pump, runs, retries, agents, gates, reviews, merges, conflicts)
// and applies the recovery plan after a restart. It holds no I/O of its own, so the same code
// runs in VS Code, in the CLI and in tests.
import { OrchestratorError } from './errors';
/** Kept here too: callers import it with the orchestrator. */
export { OrchestratorError } from './errors';
import type { Disposable, Event } from './emitter';
import type { OrchardEventBody } from './events';
import { ACTIVE_STATUSES, FINAL_STATUSES, type OrchardState, type Settings, type Ticket, type TicketSpec, type TicketStatus } from './model';
import type { LockAnswer, MergeResult, Ports } from './ports';
import { escalationQueue, type Escalation, type EscalationAnswer } from './escalations';
import { requireStatus } from './transitions';
import { validateGraph } from './dag';
import type { QueueEntry } from './mergeQueue';
import { parentOf } from './workflows/agentTickets';
import { loopStopEvents } from './workflows/loops';
import type { DeskContext } from './deskContext';
import { AgentDesk } from './agentDesk';
import { ConflictDesk } from './conflictDesk';
import { GateDesk } from './gateDesk';
import { Ledger, type ChangeEvent } from './ledger';
import { LiveRuns } from './liveRuns';
import { MergeDesk } from './mergeDesk';
import { planRecovery } from './recovery';
import { RetryDesk } from './retryDesk';
import { ReviewDesk } from './reviewDesk';
import { Pump } from './pump';
import { RunDesk } from './runDesk';
import type { ReviewComment, ReviewDecision, ReviewItem } from './review';
import { CONFLICT_WAYS, DIRTY_WAYS, labelsOf, wayOutOf, type WayOut } from './waysOut';

/** Kept here too: callers import it with the orchestrator. */
export type { ChangeEvent } from './ledger';

export class Orchestrator implements Disposable {
  private readonly ledger: Ledger;
  /** Fires after every batch of events has been applied (and durably appended). */
  readonly onDidChange: Event<ChangeEvent>;

  private active = false;
  /** Multiplies retry backoff (tests and the demo shrink it). */
  retryScale = 1;
  private idleWaiters: Array<() => void> = [];
  private disposed = false;
  private readonly pump: Pump;
  private readonly live: LiveRuns;
  private readonly runs: RunDesk;
  private readonly retries: RetryDesk;
  private readonly agentDesk: AgentDesk;
  private readonly reviews: ReviewDesk;
  private readonly merges: MergeDesk;
  private readonly conflicts: ConflictDesk;
  private readonly gatesDesk: GateDesk;

  private constructor(
    private readonly ports: Ports,
    state: OrchardState,
    public settings: Settings,
  ) {
    // The scheduler keeps derived graph data between decisions: one rebuild per graph change.
    this.ledger = new Ledger(state, ports, (a) => (a.graphChanged ? this.pump.graphChanged() : this.pump.ticketsChanged(a.touched)));
    this.onDidChange = this.ledger.onDidChange;
    const ledger = this.ledger;
    const desk: DeskContext = {
      state: () => ledger.state,
      settings: () => this.settings,
      ports: this.ports,
      commit: (events) => ledger.commit(events),
      transition: (id, to, reason, notBefore) => ledger.transition(id, to, reason, notBefore),
      ticket: (id) => ledger.ticket(id),
      currentRun: (id) => ledger.currentRun(id),
      requestPump: () => this.requestPump(),
    };
    this.merges = new MergeDesk({
      ...desk,
      afterFailure: (id, runId, kind, why, output) => this.retries.afterFailure(id, runId, kind, why, output),
      loopStopEvents: (id) => {
        const stop = loopStopEvents(ledger.state, id);
        if (stop.note) this.ports.log.info(stop.note);
        return stop.events;
      },
      checkIdle: () => this.checkIdle(),
      disposed: () => this.disposed,
    });
    this.conflicts = new ConflictDesk({ ...desk, merges: this.merges });
    this.reviews = new ReviewDesk({ ...desk, enqueueForMerge: (id) => this.merges.enqueue(id) });
    this.gatesDesk = new GateDesk({
      ...desk,
      gates: () => this.ports.gates,
      log: this.ports.log,
      afterFailure: (id, runId, kind, why, output) => this.retries.afterFailure(id, runId, kind, why, output),
      reviews: this.reviews,
      merges: this.merges,
    });
    this.retries = new RetryDesk({ ...desk, ports: this.ports, retryScale: () => this.retryScale });
    this.live = new LiveRuns({ state: () => ledger.state, settings: () => this.settings, clock: this.ports.clock });
    this.agentDesk = new AgentDesk({ ...desk, ports: this.ports, live: this.live });
    this.runs = new RunDesk({
      ...desk,
      ports: this.ports,
      live: this.live,
      agents: this.agentDesk,
      gates: this.gatesDesk,
      retries: this.retries,
      checkIdle: () => this.checkIdle(),
      disposed: () => this.disposed,
    });
    this.pump = new Pump({
      ...desk,
      ports: this.ports,
      active: () => this.active,
      runs: this.runs,
      retries: this.retries,
      agents: this.agentDesk,
      merges: this.merges,
      checkIdle: () => this.checkIdle(),
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

  private get state(): OrchardState {
    return this.ledger.state;
  }

  get isActive(): boolean {
    return this.active;
  }

  ticket(id: string): Ticket {
    return this.ledger.ticket(id);
  }

  private commit(bodies: OrchardEventBody[]): Promise<void> {
    return this.ledger.commit(bodies);
  }

  private transition(id: string, to: TicketStatus, reason?: string): Promise<void> {
    return this.ledger.transition(id, to, reason);
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
      this.runs.renewLocks();
    }
    this.requestPump();
  }

  /** Stops assigning new work; running agents go on. */
  async pause(): Promise<void> {
    this.active = false;
    if (!(await this.recordPause())) this.ledger.notify();
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
    const slot = this.pump.slots().find((s) => !s.busy);
    if (!slot) throw new OrchestratorError('not-allowed', `All ${this.settings.maxAgents} agent slots are busy; ${ticketId} starts when one frees up.`);
    await this.runs.startRun(ticketId, slot.id);
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
    const run = this.ledger.currentRun(ticketId);
    if (run && !run.endedAt) {
      this.live.pauseTimeout(run.id);
      const h = this.live.handle(run.id);
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
    await this.agentDesk.answer(e, answer);
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
    await Promise.all(this.live.all().map((h) => h.stop(reason)));
    // Each stopped run's end is on record (work kept, ticket back to ready) before this resolves.
    await this.runs.ended();
  }

  /** Resolves once every event committed so far is durably appended. */
  settled(): Promise<void> {
    return this.ledger.settled();
  }

  dispose(): void {
    this.disposed = true;
    this.runs.dispose();
    this.live.dispose();
    this.pump.dispose();
    this.ledger.dispose();
  }

  // ---- internals ------------------------------------------------------------------

  /**
   * After a restart (VS Code reload, orchestrator killed): runs whose runner still beats are
   * adopted again; dead ones are interrupted — their work saved on a WIP ref — and retried.
   * Locks of runs that are no longer live are released.
   */
  private async recover(): Promise<void> {
    const adopted = await this.runs.adoptOrEnd();
    const live = new Set(adopted.map((a) => a.run.id));
    const plan = planRecovery(this.state, live);
    await this.commit(plan.orphanLockRuns.map((runId) => ({ type: 'lock-released' as const, runId, reason: 'its run is no longer live' })));
    for (const { run, handle } of adopted) await this.runs.readopt(run, handle);
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

  /**
   * More files for a running agent (`orchard-agent lock`): granted when no other live run
   * holds an overlapping pattern, otherwise the holder is named. Isolation mode has no locks.
   */
  requestLocks(runId: string, patterns: readonly string[]): Promise<LockAnswer> {
    return this.agentDesk.requestLocks(runId, patterns);
  }

  /** Why new runs do not start (budget reached), or undefined. */
  get startsPausedReason(): string | undefined {
    return this.state.startsPaused;
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
  async review(
    decision: ReviewDecision,
    ids: readonly string[],
    feedback: { summary?: string; comments?: readonly ReviewComment[] } = {},
    by = 'human',
  ): Promise<void> {
    if (!ids.length) throw new OrchestratorError('bad-input', `${decision} needs at least one ticket id.`);
    if (decision === 'approve') return this.approve(ids, by);
    if (decision === 'request-changes') {
      if (ids.length > 1) throw new OrchestratorError('bad-input', 'Request changes is for one ticket at a time (its comments are its own).');
      return this.requestChanges(ids[0]!, feedback, by);
    }
    for (const id of ids) requireStatus(this.ticket(id), ['in-review'], 'Discard from the review queue');
    for (const id of ids) await this.discard(id, true);
  }

  private requestPump(): void {
    this.pump.request();
  }

  private isSettled(): boolean {
    // While the human resolves a conflict in the integration worktree, the queue waits on them.
    const held = this.merges.heldBy() !== undefined;
    // A run's end still being recorded is not idle: between its ticket's move to "failed" and the
    // pump that blocks its dependents, a merge finishing elsewhere once found the batch "idle"
    // with a dependent still in the backlog.
    if (this.pump.busy || this.merges.busy || this.runs.busy || (this.merges.pending && !held)) return false;
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
