// Predicted completion in the views: the batch's and each ticket's ETA from a prediction,
// why a ticket cannot finish, the throttle that decides when the host predicts again, and
// what the dashboard (view model, patches, timeline, snapshot) makes of it.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { buildDashboardView } from '../../src/core/dashboardModel';
import {
  batchEta,
  batchEtaLabel,
  batchRunning,
  cannotFinishReason,
  predictionKey,
  stuckTickets,
  Throttle,
  ticketEta,
  ticketEtaDetail,
  ticketEtaShort,
  type LivePrediction,
  type ThrottleClock,
} from '../../src/core/etaView';
import { emptyState, type OrchardState, type Run, type Ticket, type TicketStatus } from '../../src/core/model';
import { predict } from '../../src/core/predict';
import { applyPatch, diffViews } from '../../src/shared/dashboardView';
import { etaShort, formatRemaining, roundEta } from '../../src/shared/eta';
import { ganttSvg, nodeEtaText } from '../../src/shared/render';
import { dashboardSnapshotHtml, headerTiles } from '../../src/shared/snapshot';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

function ticket(id: string, status: TicketStatus, extra: Partial<Ticket> = {}): Ticket {
  return {
    id,
    title: `Title ${id}`,
    prompt: id,
    priority: 'P2',
    dependsOn: [],
    files: [`src/${id}/**`],
    labels: [],
    status,
    createdAt: 0,
    attempts: 0,
    estimate: 10,
    ...extra,
  };
}
function run(ticketId: string, slot: number, startedAt: number, endedAt?: number): Run {
  return {
    id: `${ticketId}-r1`,
    ticketId,
    slot,
    attempt: 1,
    branch: `orchard/${ticketId}`,
    worktree: '/w',
    startedAt,
    ...(endedAt !== undefined && { endedAt, outcome: 'succeeded' as const }),
  };
}
function state(tickets: Ticket[], runs: Run[] = []): OrchardState {
  const s = emptyState();
  for (const t of tickets) s.tickets[t.id] = t;
  for (const r of runs) s.runs[r.id] = r;
  return s;
}

/**
 * A batch under way: A done (took twice its estimate), B running on slot 2, C ready, D after
 * B and C, F failed and G depends on it, E escalated on slot 1.
 */
function underWay(): { s: OrchardState; now: number } {
  const now = T0 + 30 * MIN;
  const s = state(
    [
      ticket('A', 'done'),
      ticket('B', 'running'),
      ticket('C', 'ready'),
      ticket('D', 'backlog', { dependsOn: ['B', 'C'] }),
      ticket('E', 'escalated'),
      ticket('F', 'failed'),
      ticket('G', 'backlog', { dependsOn: ['F'] }),
    ],
    [run('A', 1, T0, T0 + 20 * MIN), run('B', 2, T0 + 25 * MIN), run('E', 1, T0 + 21 * MIN)],
  );
  s.batch = { startedAt: T0 };
  return { s, now };
}
const live = (s: OrchardState, now: number, agents = 2): LivePrediction => ({ prediction: predict(s, now, { agents, mode: 'locking' }), live: true });

describe('ETA view model', () => {
  it('the batch ETA is the predicted end while the batch runs, a duration from its start before', () => {
    const { s, now } = underWay();
    const lp = live(s, now);
    const b = batchEta(lp, s)!;
    assert.equal(b.end, roundEta(lp.prediction.batchEnd!));
    assert.equal(b.after, undefined);
    assert.equal(b.samples, 1, 'corrected by the one finished ticket');
    assert.equal(b.cannotFinish, 1, 'G depends on the failed F (F itself is over, not counted)');
    const label = batchEtaLabel(b, now);
    assert.match(label, new RegExp(`^ETA ${etaShort(b, now)}`));
    assert.match(label, /1 cannot finish/);
    // The same state, batch not started: a duration that does not move with the clock.
    const idle = batchEta({ ...lp, live: false }, s)!;
    assert.equal(idle.end, undefined);
    assert.equal(idle.after, roundEta(lp.prediction.batchEnd! - now));
    assert.equal(batchEtaLabel(idle, now), batchEtaLabel(idle, now + 5 * MIN));
    assert.match(batchEtaLabel(idle, now), /once started/);
  });

  it('nothing left: no batch ETA; only stuck tickets: it says how many cannot finish', () => {
    const done = state([ticket('A', 'done')], [run('A', 1, T0, T0 + MIN)]);
    assert.equal(batchEta(live(done, T0 + 2 * MIN), done), undefined);
    const stuck = state([ticket('F', 'failed'), ticket('G', 'backlog', { dependsOn: ['F'] })]);
    const b = batchEta(live(stuck, T0), stuck)!;
    assert.equal(b.end, undefined);
    assert.equal(batchEtaLabel(b, T0), '1 ticket cannot finish');
  });

  it('each open ticket gets its predicted finish; done and failed tickets none; dependents of a failed one say why', () => {
    const { s, now } = underWay();
    const lp = live(s, now);
    for (const id of ['B', 'C', 'D', 'E']) {
      const e = ticketEta(lp, s, id);
      assert.ok(e?.end && e.end >= roundEta(now), `${id} has a predicted end after now`);
      assert.equal(ticketEtaShort(lp, s, id, now), etaShort(e, now));
    }
    // D waits for B and C, so it is predicted to end after both.
    assert.ok(ticketEta(lp, s, 'D')!.end! >= Math.max(ticketEta(lp, s, 'B')!.end!, ticketEta(lp, s, 'C')!.end!));
    assert.equal(ticketEta(lp, s, 'A'), undefined);
    // The state moves on before the next (throttled) prediction: a ticket that finished since says nothing more.
    const newer = structuredClone(s);
    newer.tickets.C!.status = 'done';
    assert.equal(ticketEta(lp, newer, 'C'), undefined);
    assert.equal(ticketEtaShort(lp, newer, 'C', now), undefined);
    assert.ok(!buildDashboardView({ state: newer, now, agents: 2, prediction: lp }).predicted!.bars.some((b) => b.ticketId === 'C'));
    assert.equal(ticketEtaShort(lp, s, 'A', now), undefined);
    assert.equal(ticketEtaShort(lp, s, 'F', now), undefined, 'a failed ticket says nothing more');
    assert.deepEqual(ticketEtaDetail(lp, s, 'F', now), []);
    assert.equal(ticketEtaShort(lp, s, 'G', now), 'cannot finish');
    assert.deepEqual(stuckTickets(lp.prediction, s), ['G']);
    assert.match(cannotFinishReason(lp.prediction, s, 'G')!, /depends on F \(failed\)/);
    assert.match(ticketEtaDetail(lp, s, 'G', now).join('\n'), /cannot finish as things stand: it depends on F \(failed\)/);
  });

  it('tooltips: a waiting ticket gets its predicted start, an escalated one says it waits on you', () => {
    const { s, now } = underWay();
    const lp = live(s, now);
    const d = ticketEtaDetail(lp, s, 'D', now).join('\n');
    assert.match(d, /Predicted start: in ≈ \d+ (s|min|h)/);
    assert.match(d, /Predicted finish \(merged\): in ≈/);
    assert.match(ticketEtaDetail(lp, s, 'E', now).join('\n'), /waits on you/);
    assert.doesNotMatch(ticketEtaDetail(lp, s, 'B', now).join('\n'), /Predicted start/, 'B is running: no start to predict');
    assert.match(ticketEtaDetail({ ...lp, live: false }, s, 'D', now).join('\n'), /after the batch starts/);
  });

  it('a viewer takes the batch as running while it is started, not ended and not paused', () => {
    const s = state([ticket('A', 'ready')]);
    assert.equal(batchRunning(s), false);
    s.batch = { startedAt: T0 };
    assert.equal(batchRunning(s), true);
    assert.equal(batchRunning({ ...s, batch: { startedAt: T0, pausedAt: T0 + MIN } }), false);
    assert.equal(batchRunning({ ...s, batch: { startedAt: T0, endedAt: T0 + MIN } }), false);
  });

  it('formats remaining times for people and says "now" for an overdue prediction', () => {
    assert.equal(formatRemaining(40_000), '40 s');
    assert.equal(formatRemaining(12 * MIN), '12 min');
    assert.equal(formatRemaining(90 * MIN), '1.5 h');
    assert.equal(etaShort({ end: T0 }, T0 + MIN), '≈ now');
    assert.equal(etaShort({ after: 12 * MIN }, T0), '≈ 12 min');
  });
});

describe('prediction key (repaint or not)', () => {
  it('the same prediction made later has the same key; a change the views show has another', () => {
    const plan = state([ticket('P', 'ready'), ticket('Q', 'backlog', { dependsOn: ['P'] })]);
    const at = (t: number, s = plan, on = false): LivePrediction => ({ prediction: predict(s, t, { agents: 2, mode: 'locking' }), live: on });
    assert.equal(predictionKey(at(T0)), predictionKey(at(T0 + 7 * MIN)), 'before the batch runs, durations do not move with the clock');
    assert.notEqual(predictionKey(at(T0)), predictionKey(at(T0, plan, true)), 'starting the batch changes what is shown');
    const { s, now } = underWay();
    assert.equal(predictionKey(live(s, now)), predictionKey(live(s, now + 200)), 'while running, ends are moments: a little later, the same');
    const s2 = structuredClone(s);
    s2.tickets.C!.status = 'running';
    s2.runs['C-r1'] = run('C', 2, now);
    assert.notEqual(predictionKey(live(s, now)), predictionKey(live(s2, now)));
  });
});

describe('prediction throttle', () => {
  /** A virtual clock: timers run when advance() passes them. */
  function virtualClock(): ThrottleClock & { advance(ms: number): void; pending(): number } {
    let now = 0;
    let timers: Array<{ at: number; fn: () => void; off: boolean }> = [];
    return {
      now: () => now,
      setTimer(ms, fn) {
        const t = { at: now + ms, fn, off: false };
        timers.push(t);
        return { dispose: () => void (t.off = true) };
      },
      advance(ms) {
        const end = now + ms;
        for (;;) {
          const next = timers.filter((t) => !t.off && t.at <= end).sort((a, b) => a.at - b.at)[0];
          if (!next) break;
          now = next.at;
          next.off = true;
          next.fn();
        }
        timers = timers.filter((t) => !t.off);
        now = end;
      },
      pending: () => timers.filter((t) => !t.off).length,
    };
  }

  it('a burst gives one run at once and one trailing run that sees the latest state', () => {
    const clock = virtualClock();
    let value = 0;
    const seen: Array<{ at: number; value: number }> = [];
    const th = new Throttle(clock, 3000, () => seen.push({ at: clock.now(), value }));
    value = 1;
    th.request();
    assert.equal(seen.length, 0, 'never synchronous');
    clock.advance(0);
    assert.deepEqual(seen, [{ at: 0, value: 1 }]);
    // Requests inside the interval: none runs early, the last state is picked up at the end.
    for (let i = 2; i <= 5; i++) {
      clock.advance(500);
      value = i;
      th.request();
    }
    clock.advance(500);
    assert.equal(seen.length, 1);
    clock.advance(1000);
    assert.deepEqual(seen[1], { at: 3000, value: 5 });
    // Quiet: nothing more runs.
    clock.advance(60_000);
    assert.equal(seen.length, 2);
    assert.equal(clock.pending(), 0);
    // Work finishes much later: it is reflected at once.
    value = 6;
    th.request();
    clock.advance(0);
    assert.deepEqual(seen[2], { at: 63_500, value: 6 });
    th.dispose();
    th.request();
    clock.advance(10_000);
    assert.equal(seen.length, 3, 'no run after dispose');
  });

  it('the first request is never swallowed: an early run with nothing to show does not block the next state', () => {
    const clock = virtualClock();
    let tickets = 0;
    const shown: number[] = [];
    const th = new Throttle(clock, 5000, () => shown.push(tickets));
    th.request();
    clock.advance(0);
    tickets = 3; // the session opened just after the first (empty) prediction
    th.request();
    clock.advance(5000);
    assert.deepEqual(shown, [0, 3]);
  });
});

describe('ETA on the dashboard', () => {
  it('the view carries the batch ETA, per-ticket predictions and predicted runs; nothing without a prediction', () => {
    const { s, now } = underWay();
    const lp = live(s, now);
    const v = buildDashboardView({ state: s, now, agents: 2, prediction: lp });
    assert.deepEqual(v.header.eta, batchEta(lp, s));
    const node = (id: string) => v.nodes.find((n) => n.id === id)!;
    assert.deepEqual(node('D').eta, ticketEta(lp, s, 'D'));
    assert.ok(node('D').start, 'D has not started: its predicted start');
    assert.equal(node('B').start, undefined);
    assert.equal(node('A').eta, undefined);
    assert.match(node('G').cannotFinish!, /F \(failed\)/);
    assert.equal(node('F').cannotFinish, undefined);
    assert.deepEqual(v.slots.find((x) => x.ticketId === 'B')!.eta, ticketEta(lp, s, 'B'));
    // Predicted runs: every open ticket that can finish, on a slot of the pool; in-flight ones go on from now.
    const bars = v.predicted!.bars;
    assert.deepEqual(bars.map((b) => b.ticketId).sort(), ['B', 'C', 'D', 'E']);
    for (const b of bars) assert.ok(b.slot >= 1 && b.slot <= 2, `${b.ticketId} on slot ${b.slot}`);
    assert.equal(bars.find((b) => b.ticketId === 'B')!.slot, 2, 'a running ticket stays on its real slot');
    assert.equal(bars.find((b) => b.ticketId === 'B')!.start, undefined);
    assert.ok(bars.find((b) => b.ticketId === 'D')!.start! >= bars.find((b) => b.ticketId === 'C')!.end, 'D starts after C ends');
    const none = buildDashboardView({ state: s, now, agents: 2 });
    assert.equal(none.header.eta, undefined);
    assert.ok(none.nodes.every((n) => !n.eta && !n.cannotFinish));
    assert.equal(none.predicted!.bars.length, 0);
  });

  it('a new prediction reaches the webview as a patch; the same prediction later changes nothing', () => {
    const { s, now } = underWay();
    const before = buildDashboardView({ state: s, now, agents: 2, prediction: live(s, now) });
    // C finishes: the prediction moves.
    const s2 = structuredClone(s);
    s2.tickets.C!.status = 'done';
    s2.runs['C-r1'] = run('C', 2, now, now + 5 * MIN);
    const later = now + 5 * MIN;
    const after = buildDashboardView({ state: s2, now: later, agents: 2, prediction: live(s2, later) });
    const patch = diffViews(before, after, 1)!;
    assert.ok(patch.predicted, 'the predicted runs changed');
    assert.deepEqual(applyPatch(before, patch), after);
    // Before the batch starts predictions are durations: predicting again later changes nothing.
    const plan = state([ticket('P', 'ready'), ticket('Q', 'backlog', { dependsOn: ['P'] })]);
    const idle = (t: number) =>
      buildDashboardView({ state: plan, now: t, agents: 2, prediction: { prediction: predict(plan, t, { agents: 2, mode: 'locking' }), live: false } });
    const p = diffViews(idle(now), idle(now + 7_000), 1);
    assert.ok(!p || (!p.header && !p.nodes && !p.predicted), JSON.stringify(p));
  });

  it('the header, the timeline, node tooltips and the static snapshot show it', () => {
    const { s, now } = underWay();
    const v = buildDashboardView({ state: s, now, agents: 2, prediction: live(s, now) });
    const tiles = headerTiles(v, now);
    assert.match(tiles, new RegExp(`data-eta-end="${v.header.eta!.end}"`));
    assert.ok(tiles.includes(etaShort(v.header.eta!, now)));
    assert.match(tiles, /predicted finish ≈ \d\d:\d\d · 1 cannot finish/);
    const svg = ganttSvg(v, now, 800);
    assert.equal((svg.match(/class="bar predicted/g) ?? []).length, v.predicted!.bars.length);
    assert.match(svg, /class="nowline"/);
    assert.match(nodeEtaText(v.nodes.find((n) => n.id === 'D')!), /predicted start at ≈ \d\d:\d\d\npredicted finish at ≈ \d\d:\d\d/);
    const html = dashboardSnapshotHtml(v);
    assert.match(html, /predicted finish ≈/);
    assert.match(html, /bar predicted/);
    // Before the batch runs the timeline is the forecast alone, drawn from now.
    const plan = state([ticket('A', 'ready'), ticket('B', 'backlog', { dependsOn: ['A'] })]);
    const pv = buildDashboardView({
      state: plan,
      now: T0,
      agents: 2,
      prediction: { prediction: predict(plan, T0, { agents: 2, mode: 'locking' }), live: false },
    });
    assert.equal(pv.bars.length, 0);
    assert.match(ganttSvg(pv, T0, 800), /B predicted: starts at/);
    assert.match(headerTiles(pv, T0), /predicted, once started/);
  });
});
