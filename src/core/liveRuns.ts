// Live runs own the handles of the agents running now and their timeouts: which run has a live
// agent, when it is stopped for taking too long, and whether its stop was that timeout.
import type { Disposable } from './emitter';
import type { OrchardState, Settings } from './model';
import type { AgentHandle, Clock } from './ports';

export interface LiveRunsContext {
  state(): OrchardState;
  settings(): Settings;
  clock: Clock;
}

export class LiveRuns implements Disposable {
  private readonly handles = new Map<string, AgentHandle>();
  private readonly timers = new Map<string, Disposable>();
  private readonly timedOut = new Set<string>();

  constructor(private readonly ctx: LiveRunsContext) {}

  handle(runId: string): AgentHandle | undefined {
    return this.handles.get(runId);
  }

  /** Every live agent's handle (Stop All stops them). */
  all(): AgentHandle[] {
    return [...this.handles.values()];
  }

  add(runId: string, handle: AgentHandle): void {
    this.handles.set(runId, handle);
  }

  /** The run's agent has ended: no handle, no timeout. */
  remove(runId: string): void {
    this.pauseTimeout(runId);
    this.handles.delete(runId);
  }

  /** Stops the run's agent after ms (default: its whole timeout); a timeout already armed is replaced. */
  armTimeout(runId: string, handle: AgentHandle, ms?: number): void {
    this.pauseTimeout(runId);
    this.timers.set(
      runId,
      this.ctx.clock.setTimer(ms ?? this.timeoutMs(runId), () => {
        this.timedOut.add(runId);
        void handle.stop(`timed out after ${Math.round(this.timeoutMs(runId) / 60_000)} min`);
      }),
    );
  }

  /** The human's time (a question) or a subtask's is not the agent's: no timeout while it waits. */
  pauseTimeout(runId: string): void {
    this.timers.get(runId)?.dispose();
    this.timers.delete(runId);
  }

  /** The ticket's own timeout, else the setting. */
  timeoutMs(runId: string): number {
    const state = this.ctx.state();
    const run = state.runs[runId];
    const minutes = (run && state.tickets[run.ticketId]?.timeoutMinutes) || this.ctx.settings().runTimeoutMinutes;
    return minutes * 60_000;
  }

  /** Whether the run was stopped by its timeout (asked once, when its exit is recorded). */
  takeTimedOut(runId: string): boolean {
    return this.timedOut.delete(runId);
  }

  dispose(): void {
    for (const t of this.timers.values()) t.dispose();
  }
}
