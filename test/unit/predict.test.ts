// Prediction: the real scheduler on a virtual clock over what remains, estimates corrected
// by observed durations. Also measures how far the prediction is off on a bigger sample.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { emptyState, type OrchardState, type Run, type Ticket, type TicketSpec } from '../../src/core/model';
import { formatEta, observedRate, predict } from '../../src/core/predict';
import { Scheduler, type RunningTicket, type SlotState } from '../../src/core/scheduler';
import { simulate } from '../../src/core/simulate';
import { Rng } from '../../src/core/random';

const MIN = 60_000;
const spec = (id: string, estimate: number, dependsOn: string[] = [], files: string[] = []): TicketSpec => ({
  id,
  title: id,
  prompt: id,
  priority: 'P2',
  dependsOn,
  files,
  labels: [],
  estimate,
});
function stateOf(specs: TicketSpec[]): OrchardState {
  const s = emptyState();
  for (const t of specs) s.tickets[t.id] = { ...t, status: t.dependsOn.length ? 'backlog' : 'ready', createdAt: 0, attempts: 0 };
  return s;
}
const run = (ticketId: string, startedAt: number, endedAt?: number, progress?: number): Run => ({
  id: `${ticketId}-r1`,
  ticketId,
  slot: 1,
  attempt: 1,
  branch: '',
  worktree: '',
  startedAt,
  ...(endedAt !== undefined && { endedAt, outcome: 'succeeded' as const }),
  ...(progress !== undefined && { progress }),
});

describe('predict', () => {
  it('before anything ran it is the simulation of the estimates (same scheduler)', () => {
    const specs = [spec('A', 30), spec('B', 20, ['A']), spec('C', 45), spec('D', 10, ['B', 'C']), spec('E', 25)];
    const p = predict(stateOf(specs), 1_000, { agents: 2, mode: 'locking' });
    const sim = simulate(specs, { agents: 2, mode: 'locking' });
    assert.equal(p.batchEnd! - 1_000, sim.makespan * MIN);
    for (const t of sim.tickets) assert.equal(p.tickets[t.id]!.end - 1_000, t.end * MIN, t.id);
    assert.match(formatEta(p), /from estimates only/);
  });
  it('corrects estimates by the observed ratio and keeps running tickets on their slots', () => {
    const s = stateOf([spec('A', 10), spec('B', 10, ['A']), spec('C', 20)]);
    s.tickets.A!.status = 'done';
    s.runs['A-r1'] = run('A', 0, 20 * MIN); // took twice its estimate
    s.tickets.C!.status = 'running';
    s.runs['C-r1'] = run('C', 0);
    const now = 20 * MIN;
    assert.equal(observedRate(s, now).msPerMinute, 2 * MIN);
    const p = predict(s, now, { agents: 2, mode: 'locking' });
    assert.equal(p.tickets.C!.end, 40 * MIN, 'C: 40 min corrected, 20 elapsed');
    assert.equal(p.tickets.B!.start, now);
    assert.equal(p.tickets.B!.end, now + 20 * MIN);
    assert.equal(p.batchEnd, 40 * MIN);
    assert.ok(p.tickets.A!.done);
  });
  it('reported progress pulls the remaining time of a running ticket', () => {
    const s = stateOf([spec('A', 10)]);
    s.tickets.A!.status = 'running';
    s.runs['A-r1'] = run('A', 0, undefined, 80);
    const p = predict(s, 8 * MIN, { agents: 1, mode: 'locking' });
    // by estimate 2 min left, by progress 2 min left: 2 min.
    assert.equal(p.tickets.A!.end, 10 * MIN);
  });
  it('failed or blocked tickets and their dependents cannot finish', () => {
    const s = stateOf([spec('A', 10), spec('B', 10, ['A']), spec('C', 10)]);
    s.tickets.A!.status = 'failed';
    const p = predict(s, 0, { agents: 2, mode: 'locking' });
    assert.deepEqual(p.unreachable, ['A', 'B']);
    assert.equal(p.batchEnd, 10 * MIN);
    assert.match(formatEta(p), /2 tickets cannot finish/);
  });
  it('nothing left: no batch end', () => {
    const s = stateOf([spec('A', 10)]);
    s.tickets.A!.status = 'done';
    assert.equal(predict(s, 0, { agents: 1, mode: 'queue' }).batchEnd, undefined);
  });
  it('tickets that name an agent profile are predicted like the others (any slot runs any profile)', () => {
    const plain = [spec('A', 10), spec('B', 20, ['A']), spec('C', 15)];
    const named = stateOf(plain.map((t, i) => ({ ...t, agent: i % 2 ? 'claude' : 'fake' })));
    const p = predict(named, 0, { agents: 2, mode: 'locking' });
    assert.deepEqual(p.unreachable, []);
    assert.equal(p.batchEnd, predict(stateOf(plain), 0, { agents: 2, mode: 'locking' }).batchEnd);
  });
  it('a running ticket is predicted on the slot it runs on', () => {
    const s = stateOf([spec('A', 10), spec('B', 10)]);
    s.tickets.B!.status = 'running';
    s.runs['B-r1'] = { ...run('B', 0), slot: 2 };
    const p = predict(s, MIN, { agents: 2, mode: 'locking' });
    assert.equal(p.tickets.B!.slot, 2);
    assert.equal(p.tickets.A!.slot, 1, 'the other slot takes A');
  });
});

// ---- accuracy on a bigger sample ------------------------------------------------------

/** "Reality": the real scheduler (ordering by estimates) with the true durations. */
function reality(specs: TicketSpec[], truth: Map<string, number>, K: number): Map<string, { start: number; end: number }> {
  const tickets: Ticket[] = specs.map((s) => ({ ...s, status: 'backlog', createdAt: 0, readyAt: 0, attempts: 0 }));
  const sched = new Scheduler(tickets);
  const byId = new Map(tickets.map((t) => [t.id, t]));
  const slots: SlotState[] = Array.from({ length: K }, (_, id) => ({ id, busy: false, load: 0 }));
  const running: Array<RunningTicket & { end: number }> = [];
  const out = new Map<string, { start: number; end: number }>();
  let now = 0;
  for (;;) {
    for (const a of sched.plan({ running, slots, mode: 'locking', overlapThreshold: 0, now, explain: 'none' }).assignments) {
      const t = byId.get(a.ticketId)!;
      t.status = 'running';
      sched.update(t);
      slots[a.slot]!.busy = true;
      const end = now + truth.get(t.id)!;
      running.push({ ticketId: t.id, slot: a.slot, files: a.files, end });
      out.set(t.id, { start: now, end });
    }
    if (!running.length) break;
    now = Math.min(...running.map((r) => r.end));
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i]!.end > now) continue;
      const r = running.splice(i, 1)[0]!;
      slots[r.slot]!.busy = false;
      byId.get(r.ticketId)!.status = 'done';
      sched.update(byId.get(r.ticketId)!);
    }
  }
  return out;
}

/** State at time `at` of a batch that unfolds as `sched`. */
function stateAt(specs: TicketSpec[], sched: Map<string, { start: number; end: number }>, at: number): OrchardState {
  const s = stateOf(specs);
  for (const t of specs) {
    const x = sched.get(t.id)!;
    if (x.end <= at) {
      s.tickets[t.id]!.status = 'done';
      s.runs[`${t.id}-r1`] = run(t.id, x.start, x.end);
    } else if (x.start <= at) {
      s.tickets[t.id]!.status = 'running';
      s.runs[`${t.id}-r1`] = run(t.id, x.start);
    }
  }
  return s;
}

function randomBatch(seed: number, n: number): { specs: TicketSpec[]; truth: Map<string, number> } {
  const rng = new Rng(seed);
  const rnd = () => rng.next();
  const specs: TicketSpec[] = [];
  const truth = new Map<string, number>();
  // Agents here run at 0.4× their estimates on the whole (unknown to the predictor), each
  // ticket with its own noise: log-normal, σ = 0.5.
  const speed = 0.4;
  for (let i = 0; i < n; i++) {
    const deps = i > 0 && rnd() < 0.6 ? [`T${Math.floor(rnd() * i)}`] : [];
    if (i > 3 && rnd() < 0.25) deps.push(`T${Math.floor(rnd() * i)}`);
    const estimate = [10, 15, 20, 30, 45, 60][Math.floor(rnd() * 6)]!;
    specs.push(spec(`T${i}`, estimate, [...new Set(deps)], [`src/m${Math.floor(rnd() * 12)}/**`]));
    const z = Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd());
    truth.set(`T${i}`, estimate * MIN * speed * Math.exp(0.5 * z));
  }
  return { specs, truth };
}

describe('predict: accuracy on a bigger sample', () => {
  it('measures the error of the predicted batch end at 0/25/50/75 % done (30 batches of 40 tickets, 4 agents)', () => {
    const checkpoints = [0, 0.25, 0.5, 0.75];
    const errs: number[][] = checkpoints.map(() => []);
    const ofTotal: number[][] = checkpoints.map(() => []);
    for (let seed = 1; seed <= 30; seed++) {
      const { specs, truth } = randomBatch(seed, 40);
      const sched = reality(specs, truth, 4);
      const actualEnd = Math.max(...[...sched.values()].map((x) => x.end));
      const ends = [...sched.values()].map((x) => x.end).sort((a, b) => a - b);
      checkpoints.forEach((c, k) => {
        const at = c === 0 ? 0 : ends[Math.floor(c * ends.length) - 1]!;
        const p = predict(stateAt(specs, sched, at), at, { agents: 4, mode: 'locking' });
        errs[k]!.push(Math.abs(p.batchEnd! - actualEnd) / (actualEnd - at));
        ofTotal[k]!.push(Math.abs(p.batchEnd! - actualEnd) / actualEnd);
      });
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const lines = checkpoints.map(
      (c, k) =>
        `  ${String(c * 100).padStart(3)} % done: mean |error| ${(mean(errs[k]!) * 100).toFixed(1)} % of the remaining time (median ${(median(errs[k]!) * 100).toFixed(1)} %), ${(mean(ofTotal[k]!) * 100).toFixed(1)} % of the whole batch`,
    );
    console.log(`prediction error (random DAGs, true durations 0.4× estimates with log-normal noise σ=0.5):\n${lines.join('\n')}`);
    // Before anything finished the estimates are 2.5× too long (nothing can know that);
    // once work finished, the correction brings the error down.
    assert.ok(mean(errs[0]!) > 1);
    assert.ok(mean(errs[1]!) < 0.35, lines[1]);
    assert.ok(mean(errs[2]!) < 0.35, lines[2]);
  });
});
