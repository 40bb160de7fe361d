// The host's one prediction of when the batch and each ticket will be done, shared by the
// Tickets view and the dashboards. A prediction (core/predict.ts: the real scheduler on a
// virtual clock) costs ~15 ms at 500 tickets, so it runs at most once per
// PREDICT_INTERVAL_MS, always once more after the last state change (a trailing run: the
// latest state is reflected, also when work finishes inside the interval), and every
// REFRESH_MS while work is in flight (running tickets overrun or finish early).
import * as vscode from 'vscode';
import { batchRunning, predictionKey, Throttle, type LivePrediction } from '../core/etaView';
import type { Mode, OrchardState } from '../core/model';
import { predict } from '../core/predict';
import type { OrchardController } from './controller';
import { Disposable, interval } from './lifecycle';

export const PREDICT_INTERVAL_MS = 3_000;
const REFRESH_MS = 10_000;
const IN_FLIGHT = new Set(['running', 'gating', 'in-review', 'queued-for-merge', 'merging', 'escalated']);

export class EtaService extends Disposable {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** A new prediction is available. */
  readonly onDidChange = this.changed.event;
  private latest: LivePrediction | undefined;
  private latestKey = '';
  private readonly throttle: Throttle;

  constructor(private readonly controller: OrchardController) {
    super();
    this.throttle = this._register(
      new Throttle(
        {
          now: () => Date.now(),
          setTimer: (ms, fn) => {
            const t = setTimeout(fn, ms);
            return { dispose: () => clearTimeout(t) };
          },
        },
        PREDICT_INTERVAL_MS,
        () => this.compute(),
      ),
    );
    this._register(controller.onDidChangeState(() => this.throttle.request()));
    this._register(
      interval(() => {
        const s = controller.state();
        if (s && Object.values(s.tickets).some((t) => IN_FLIGHT.has(t.status))) this.throttle.request();
      }, REFRESH_MS),
    );
    this.throttle.request();
  }

  /** The latest prediction (undefined before the session opened or when there are no tickets). */
  current(): LivePrediction | undefined {
    return this.latest;
  }

  /** Predictions computed so far (tests, diagnostics). */
  get runs(): number {
    return this.throttle.runs;
  }

  /** Whether the batch assigns work: in a viewer window, whether the writer's batch runs. */
  private live(s: OrchardState): boolean {
    const session = this.controller.current;
    if (session?.role === 'writer') return this.controller.isActive();
    return batchRunning(s);
  }

  private compute(): void {
    const s = this.controller.state();
    if (!s || Object.keys(s.tickets).length === 0) {
      if (this.latest) {
        this.latest = undefined;
        this.latestKey = '';
        this.changed.fire();
      }
      return;
    }
    const session = this.controller.current;
    const cfg = vscode.workspace.getConfiguration('orchard');
    const settings = session?.role === 'writer' ? session.orchestrator.settings : undefined;
    const mode = settings?.mode ?? cfg.get<Mode>('mode', 'locking');
    const overlapThreshold = settings?.overlapThreshold ?? cfg.get<number>('overlapThreshold', 0);
    this.latest = { prediction: predict(s, Date.now(), { agents: this.controller.maxAgents(), mode, overlapThreshold }), live: this.live(s) };
    // The views repaint only when what they show changed (not for a prediction that says the same).
    const key = predictionKey(this.latest);
    if (key === this.latestKey) return;
    this.latestKey = key;
    this.changed.fire();
  }
}
