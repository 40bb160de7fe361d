// The pump owns what starts when: each pass (one at a time, again if asked meanwhile) moves
// tickets by their dependencies (ready, blocked, back to the backlog), answers runs whose subtask
// is settled, lets the merge queue run and, while the batch is active and within its budget,
// assigns ready tickets to free slots on a profile that can run; it wakes itself for the next backoff.
import type { AgentDesk } from './agentDesk';
import { checkBudget } from './budget';
import type { DeskContext } from './deskContext';
import type { Disposable } from './emitter';
import type { MergeDesk } from './mergeDesk';
import type { Ports } from './ports';
import type { RetryDesk } from './retryDesk';
import type { RunDesk } from './runDesk';
import { Scheduler, type SlotState } from './scheduler';

/** What the pump needs beyond every desk's context. */
export interface PumpContext extends DeskContext {
  ports: Pick<Ports, 'workspace' | 'clock' | 'log'>;
  /** The batch is started (not paused or stopped): new work may start. */
  active(): boolean;
  runs: RunDesk;
  retries: RetryDesk;
  agents: AgentDesk;
  merges: MergeDesk;
  /** Called after a pass that nobody asked to repeat. */
  checkIdle(): void;
}

export class Pump implements Disposable {
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: Disposable | undefined;
  /** Keeps derived graph data (critical paths, order) between passes. */
  private readonly scheduler: Scheduler;

  constructor(private readonly ctx: PumpContext) {
    this.scheduler = new Scheduler(Object.values(ctx.state().tickets));
  }

  /** A pass is under way. */
  get busy(): boolean {
    return this.pumping;
  }

  /** The graph changed (tickets added or edited): the scheduler's derived data is rebuilt. */
  graphChanged(): void {
    this.scheduler.reset(Object.values(this.ctx.state().tickets));
  }

  /** Tickets whose status changed (or that got a run): the scheduler updates them. */
  ticketsChanged(ids: Iterable<string>): void {
    const tickets = this.ctx.state().tickets;
    for (const id of ids) {
      const t = tickets[id];
      if (t) this.scheduler.update(t);
    }
  }

  dispose(): void {
    this.wakeTimer?.dispose();
  }

  /** Runs a pass now, or once more after the one under way. */
  request(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pass()
      .catch((err) => this.ctx.ports.log.error(`Scheduling failed: ${err instanceof Error ? err.stack : String(err)}`))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.request();
        } else {
          this.ctx.checkIdle();
        }
      });
  }

  private async pass(): Promise<void> {
    await this.promoteAndBlock();
    void this.ctx.merges.drain();
    if (!this.ctx.active()) return;
    const state = this.ctx.state();
    const settings = this.ctx.settings();
    const now = this.ctx.ports.clock.now();
    const waiting = this.ctx.agents.waitingRunIds();
    const plan = this.scheduler.plan({
      running: this.runningTickets(waiting),
      slots: this.slots(),
      locks: settings.mode === 'isolation' ? [] : waiting.size ? state.locks.filter((l) => !waiting.has(l.runId)) : state.locks,
      mode: settings.mode,
      overlapThreshold: settings.overlapThreshold,
      now,
      explain: 'none',
    });
    let wakeAt: number | undefined;
    const withinBudget = await this.checkBudgetGate();
    for (const a of withinBudget ? plan.assignments : []) {
      // The role's profile, or its next fallback when that one is rate limited (paused) or failed this ticket.
      const choice = this.ctx.retries.chooseProfile(this.ctx.ticket(a.ticketId), now);
      if (!choice.ok) {
        if (choice.waitUntil !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, choice.waitUntil);
        continue;
      }
      await this.ctx.runs.startRun(a.ticketId, a.slot, choice);
    }
    for (const t of Object.values(this.ctx.state().tickets)) {
      if (t.status === 'ready' && t.notBefore !== undefined && t.notBefore > now) wakeAt = Math.min(wakeAt ?? Infinity, t.notBefore);
    }
    this.wakeTimer?.dispose();
    this.wakeTimer = wakeAt !== undefined ? this.ctx.ports.clock.setTimer(Math.max(0, wakeAt - now), () => this.request()) : undefined;
  }

  private runningTickets(waiting: ReadonlySet<string>): { ticketId: string; slot: number; files: string[] }[] {
    const state = this.ctx.state();
    const out = [];
    for (const r of Object.values(state.runs)) {
      if (r.endedAt === undefined && !waiting.has(r.id)) out.push({ ticketId: r.ticketId, slot: r.slot, files: state.tickets[r.ticketId]?.files ?? [] });
    }
    return out;
  }

  /** Slots are seats: any slot runs any profile, except profiles that are paused. A run waiting for its subtask lends its slot. */
  slots(): SlotState[] {
    const state = this.ctx.state();
    const load = new Map<number, number>();
    const busy = new Set<number>();
    const waiting = this.ctx.agents.waitingRunIds();
    for (const r of Object.values(state.runs)) {
      load.set(r.slot, (load.get(r.slot) ?? 0) + 1);
      if (r.endedAt === undefined && !waiting.has(r.id)) busy.add(r.slot);
    }
    const profiles = [
      ...new Set(
        Object.values(state.tickets)
          .map((t) => t.agent)
          .filter((a): a is string => !!a),
      ),
    ];
    const out: SlotState[] = [];
    for (let id = 1; id <= this.ctx.settings().maxAgents; id++) out.push({ id, busy: busy.has(id), load: load.get(id) ?? 0, capabilities: profiles });
    return out;
  }

  /** backlog → ready when every dependency is merged; → blocked when one is failed or cancelled. */
  private async promoteAndBlock(): Promise<void> {
    await this.ctx.agents.settleSubtasks();
    const tickets = this.ctx.state().tickets;
    for (const t of Object.values(tickets)) {
      if (t.status !== 'backlog' && t.status !== 'blocked' && t.status !== 'ready') continue;
      const deps = t.dependsOn.map((d) => tickets[d]);
      const dead = deps.find((d) => d && (d.status === 'failed' || d.status === 'cancelled' || d.status === 'blocked'));
      if (dead) {
        if (t.status !== 'blocked') await this.ctx.transition(t.id, 'blocked', `dependency ${dead.id} is ${dead.status}`);
        continue;
      }
      const allDone = deps.every((d) => d && d.status === 'done');
      if (allDone && t.status !== 'ready') await this.ctx.transition(t.id, 'ready');
      else if (!allDone && t.status === 'blocked') await this.ctx.transition(t.id, 'backlog', 'dependency is back in progress');
    }
  }

  /** Budget per batch: false (and a starts-paused event saying why) once it is spent. */
  private async checkBudgetGate(): Promise<boolean> {
    const state = this.ctx.state();
    const b = checkBudget(state, this.ctx.settings());
    const reason = b.ok ? undefined : b.reason;
    if (reason !== state.startsPaused) {
      if (reason) this.ctx.ports.log.warn(reason);
      await this.ctx.commit([{ type: 'starts-paused', ...(reason !== undefined && { reason }) }]);
    }
    return b.ok;
  }
}
