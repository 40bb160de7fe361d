// Fake ports for the pure core: a virtual clock, in-memory state, and a scripted workspace,
// agents and gates. An Orchestrator built on them runs whole batches in milliseconds, with no
// git, no processes and no bundle: orchestration behaviour is tested here; the process-backed
// tests check that the real adapters behave like these fakes.
import type { Disposable } from '../../src/core/emitter';
import { Emitter } from '../../src/core/emitter';
import type { OrchardEvent } from '../../src/core/events';
import { emptyState, type OrchardState, type Run, type Settings, type Ticket, type TicketSpec } from '../../src/core/model';
import { Orchestrator } from '../../src/core/orchestrator';
import type {
  AgentExit,
  AgentHandle,
  AgentLockRequest,
  AgentQuestion,
  AgentReport,
  AgentTicketRequestMessage,
  BatchMergeResult,
  ChangeSummary,
  Clock,
  LockAnswer,
  MergeResult,
  Ports,
  StatePort,
  TicketRequestAnswer,
  WorkspacePort,
} from '../../src/core/ports';
import type { AgentTicketRequest } from '../../src/core/workflows/agentTickets';
import { reduce } from '../../src/core/reduce';

/** A clock that moves only when told: timers fire in time order as it advances. */
export class VirtualClock implements Clock {
  private t: number;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): Disposable {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { dispose: () => void (this.timers = this.timers.filter((x) => x !== timer)) };
  }
  /** Moves time forward by ms, firing due timers in order (and letting promises settle between them). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }
  get pending(): number {
    return this.timers.length;
  }
}

/** Lets every queued promise callback run (the fakes resolve through microtasks and immediates). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The event log and snapshot in memory; reopening an Orchestrator on it is a restart. */
export class MemoryState implements StatePort {
  readonly events: OrchardEvent[] = [];
  /** Each append takes a turn of the event loop, as a write to disk does (interleaves concurrent work). */
  slowAppends = false;
  async load(): Promise<OrchardState> {
    const s = emptyState();
    for (const e of this.events) reduce(s, structuredClone(e));
    return s;
  }
  async append(events: readonly OrchardEvent[]): Promise<void> {
    if (this.slowAppends) await new Promise<void>((r) => setImmediate(r));
    this.events.push(...events.map((e) => structuredClone(e)));
  }
  snapshot(): void {}
  async flush(): Promise<void> {}
}

/** What one attempt of a ticket's agent does. */
export interface AgentScript {
  /** Files it changes (committed by collectChanges); none means a run with nothing to merge. */
  files?: string[];
  /** How it ends (default: exit 0). */
  exit?: Partial<AgentExit>;
  /** Virtual ms it works before it ends (default 1000). */
  ms?: number;
  /** A question it asks first; it ends only once answered. */
  ask?: Omit<AgentQuestion, 'id'>;
  /** Never ends on its own (a hang): only stop() or the run timeout ends it. */
  hang?: boolean;
  /** Asks for more files first (`orchard-agent lock`); works once answered, whatever the answer. */
  lock?: string[];
  /** Delegates a subtask first (`orchard-agent subtask`); works once answered. */
  subtask?: { ticket: AgentTicketRequest; wait?: boolean };
  /** Reports this as soon as it starts (`orchard-agent progress`). */
  report?: AgentReport;
}

export interface FakeWorld {
  clock: VirtualClock;
  state: MemoryState;
  ports: Ports;
  /** Per ticket, the script of each attempt (the last one repeats). */
  scripts: Record<string, AgentScript[]>;
  /** Per ticket, what its next merges return (in order; default merged). */
  merges: Record<string, MergeResult['kind'][]>;
  /** The target branch's history: ticket ids in merge order. */
  target: string[];
  /** Agents started, in order: `<ticket>#<attempt>`. */
  started: string[];
  /**
   * Runs whose agent outlived Orchard (a restart adopts them): run id → the files it changed; its
   * handle has already ended (exit 0) when adopted, as an agent that finished while Orchard was down.
   */
  finishedWhileDown: Record<string, string[]>;
  /** What each attempt was handed in its prompt (the previous attempt's feedback), by `<ticket>#<attempt>`. */
  handedOver: Record<string, string | undefined>;
  /** What each attempt was told back (answers to its question, lock and subtask requests), by `<ticket>#<attempt>`. */
  told: Record<
    string,
    Array<
      | { question: string; answer: { option?: string; guidance?: string } }
      | { lock: string; answer: LockAnswer }
      | { request: string; answer: TicketRequestAnswer }
    >
  >;
  /** Refs Orchard kept work on (WIP, discarded): name → the files of the work kept there. */
  refs: Record<string, string[]>;
  /** Each interrupted attempt put back to where it began: `<ticket>#<attempt>` → the commit it was put back at. */
  restarted: Record<string, string>;
  /** The ticket whose conflict is open in the integration worktree, if any. */
  openConflict: { ticketId?: string };
  log: string[];
  open(settings?: Partial<Settings>): Promise<Orchestrator>;
}

export function fakeWorld(): FakeWorld {
  const clock = new VirtualClock();
  const state = new MemoryState();
  const scripts: Record<string, AgentScript[]> = {};
  const merges: Record<string, MergeResult['kind'][]> = {};
  const target: string[] = [];
  const started: string[] = [];
  const handedOver: Record<string, string | undefined> = {};
  const finishedWhileDown: Record<string, string[]> = {};
  const told: FakeWorld['told'] = {};
  const refs: Record<string, string[]> = {};
  const restarted: Record<string, string> = {};
  const openConflict: FakeWorld['openConflict'] = {};
  const log: string[] = [];
  const changed = new Map<string, string[]>(); // run id → files its agent changed
  const tips: Record<string, string> = {}; // ticket id → its branch's tip
  const conflicted = new Set<string>(); // tickets whose branch conflicts with the target until merged
  const breaking = new Set<string>(); // tickets whose branch fails the tests after merge until their next attempt's work
  let commits = 0;
  let ids = 0;
  const scriptOf = (t: Ticket, attempt: number): AgentScript => {
    const list = scripts[t.id] ?? [{ files: [`src/${t.id}.txt`] }];
    return list[Math.min(attempt - 1, list.length - 1)] ?? {};
  };
  const mergeOne = (t: Ticket): MergeResult => {
    if (breaking.has(t.id)) return { kind: 'test-failed', output: `tests failed with ${t.id}` };
    const kind = merges[t.id]?.shift() ?? 'merged';
    if (kind === 'merged') {
      target.push(t.id);
      conflicted.delete(t.id);
      return { kind, commit: `c${target.length}-${t.id}` };
    }
    if (kind === 'conflict') {
      conflicted.add(t.id);
      return { kind, files: [`src/${t.id}.txt`] };
    }
    if (kind === 'test-failed') {
      breaking.add(t.id);
      return { kind, output: `tests failed with ${t.id}` };
    }
    if (kind === 'target-dirty') return { kind, checkout: '/checkout' };
    return { kind: 'nothing-to-merge' };
  };
  const workspace: WorkspacePort = {
    async prepareWorktree(t) {
      const base = `base-${target.length}`;
      return { path: `/wt/${t.id}`, branch: `orchard/${t.id}`, base, head: (tips[t.id] ??= base) };
    },
    async collectChanges(run): Promise<ChangeSummary> {
      const files = changed.get(run.id) ?? [];
      if (files.length) {
        tips[run.ticketId] = `commit-${++commits}`;
        breaking.delete(run.ticketId);
      }
      return { files, commits: files.length ? 1 : 0 };
    },
    async bringUpToDate(run) {
      if (conflicted.has(run.ticketId)) return { kind: 'conflict', files: [`src/${run.ticketId}.txt`] };
      return run.base === `base-${target.length}` ? { kind: 'up-to-date' } : { kind: 'rebased' };
    },
    async saveWip(run) {
      if (!run.worktree) return undefined;
      const ref = `refs/orchard/wip/${run.ticketId}/${run.attempt}`;
      refs[ref] = [...(changed.get(run.id) ?? [])];
      return ref;
    },
    async restartAttempt(run, to) {
      const ref = await workspace.saveWip(run, `restart ${run.ticketId}`);
      if (!ref) return undefined;
      tips[run.ticketId] = to;
      restarted[`${run.ticketId}#${run.attempt}`] = to;
      return ref;
    },
    async discard(run) {
      const ref = `refs/orchard/discarded/${run.ticketId}/${clock.now()}`;
      refs[ref] = [...(changed.get(run.id) ?? [])];
      delete tips[run.ticketId];
      return ref;
    },
    async inspectRun() {
      return { problems: [], repaired: [] };
    },
    async merge(t: Ticket): Promise<MergeResult> {
      return mergeOne(t);
    },
    /**
     * The chain stops at the first item that conflicts; the top is tested once (it fails while any
     * item breaks the tests); the target moves only when every item merged and the tests passed.
     */
    async mergeBatch(items): Promise<BatchMergeResult> {
      for (const { ticket } of items) {
        const next = merges[ticket.id]?.[0] ?? 'merged';
        if (next === 'conflict') {
          merges[ticket.id]!.shift();
          conflicted.add(ticket.id);
          return { kind: 'conflict', ticketId: ticket.id, files: [`src/${ticket.id}.txt`] };
        }
        if (next === 'test-failed') {
          merges[ticket.id]!.shift();
          breaking.add(ticket.id);
        }
        if (next === 'target-dirty') return { kind: 'target-dirty', checkout: '/checkout' };
      }
      const broken = items.filter(({ ticket }) => breaking.has(ticket.id)).map(({ ticket }) => ticket.id);
      if (broken.length) return { kind: 'test-failed', output: `tests failed with ${broken.join(', ')}` };
      const commitsOf: Record<string, string> = {};
      for (const { ticket } of items) {
        const r = mergeOne(ticket);
        commitsOf[ticket.id] = r.kind === 'merged' ? r.commit : '';
      }
      return { kind: 'merged', commits: commitsOf, top: `c${target.length}` };
    },
    async predictConflict(branch) {
      const id = branch.replace(/^orchard\//, '');
      return conflicted.has(id) || merges[id]?.[0] === 'conflict' ? [`src/${id}.txt`] : undefined;
    },
    async openConflict(t) {
      if (!conflicted.has(t.id)) return { dir: '/integration', files: [] };
      openConflict.ticketId = t.id;
      return { dir: '/integration', files: [`src/${t.id}.txt`] };
    },
    /** The human resolved it: the resolution merges (and its tests pass). */
    async continueMerge(t) {
      if (openConflict.ticketId !== t.id) return { kind: 'conflict', files: [`src/${t.id}.txt`] };
      openConflict.ticketId = undefined;
      conflicted.delete(t.id);
      target.push(t.id);
      return { kind: 'merged', commit: `c${target.length}-${t.id}` };
    },
    async abandonConflict(ticketId) {
      if (openConflict.ticketId === ticketId) openConflict.ticketId = undefined;
    },
  };
  const agents = {
    adopt(run: Run): AgentHandle | undefined {
      const files = finishedWhileDown[run.id];
      if (!files) return undefined;
      changed.set(run.id, files);
      return { pid: 4242, onQuestion: new Emitter<AgentQuestion>().event, answer: () => {}, exited: Promise.resolve({ exitCode: 0 }), stop: async () => {} };
    },
    async start(t: Ticket, run: Run): Promise<AgentHandle> {
      const key = `${t.id}#${run.attempt}`;
      started.push(key);
      handedOver[key] = run.context;
      const script = scriptOf(t, run.attempt);
      const question = new Emitter<AgentQuestion>();
      const lockRequest = new Emitter<AgentLockRequest>();
      const ticketRequest = new Emitter<AgentTicketRequestMessage>();
      const report = new Emitter<AgentReport>();
      const tell = (what: FakeWorld['told'][string][number]) => void (told[key] ??= []).push(what);
      let finish!: (e: AgentExit) => void;
      const exited = new Promise<AgentExit>((r) => (finish = r));
      let ended = false;
      const end = (e: AgentExit) => {
        if (ended) return;
        ended = true;
        finish(e);
      };
      const work = () => {
        if (script.hang || ended) return;
        clock.setTimer(script.ms ?? 1000, () => {
          changed.set(run.id, script.files ?? []);
          end({ exitCode: 0, ...script.exit });
        });
      };
      // What it says comes once Orchard listens (after start() returns); a request holds its work until answered.
      if (script.report) clock.setTimer(10, () => report.fire(script.report!));
      if (script.ask) clock.setTimer(10, () => question.fire({ id: 'q1', ...script.ask! }));
      else if (script.lock) clock.setTimer(10, () => lockRequest.fire({ id: 'l1', patterns: script.lock! }));
      else if (script.subtask) clock.setTimer(10, () => ticketRequest.fire({ id: 's1', kind: 'subtask', ...script.subtask! }));
      else work();
      return {
        onQuestion: question.event,
        onLockRequest: lockRequest.event,
        onTicketRequest: ticketRequest.event,
        onReport: report.event,
        answer: (questionId, answer) => {
          tell({ question: questionId, answer });
          work();
        },
        answerLock: (requestId, answer) => {
          tell({ lock: requestId, answer });
          work();
        },
        answerTicketRequest: (requestId, answer) => {
          // One answer per request: at once (refused, or not waiting), or once the subtask it waits for is settled.
          tell({ request: requestId, answer });
          work();
        },
        exited,
        async stop(reason: string) {
          end({ exitCode: null, signal: 'SIGTERM', stoppedByOrchard: reason });
        },
      };
    },
  };
  const ports: Ports = {
    clock,
    ids: { next: (p) => `${p}-${++ids}` },
    log: { debug: () => {}, info: (m) => void log.push(m), warn: (m) => void log.push(`warn: ${m}`), error: (m) => void log.push(`error: ${m}`) },
    state,
    workspace,
    agents,
  };
  const defaults: Settings = {
    maxAgents: 2,
    mode: 'locking',
    overlapThreshold: 0,
    targetBranch: 'main',
    lockLeaseMinutes: 30,
    runTimeoutMinutes: 30,
    maxRetries: 2,
    defaultAgent: 'fake',
    predictConflicts: false,
  };
  return {
    clock,
    state,
    ports,
    scripts,
    merges,
    target,
    started,
    handedOver,
    told,
    refs,
    restarted,
    openConflict,
    finishedWhileDown,
    log,
    open: (s = {}) => Orchestrator.open(ports, { ...defaults, ...s }),
  };
}

/** Advances the virtual clock until `done` holds (or throws after `limitMs` of virtual time, naming `what`). */
export async function advanceUntil(w: FakeWorld, done: () => boolean, what: string, limitMs = 60 * 60_000, stepMs = 1000): Promise<void> {
  for (let t = 0; t < limitMs && !done(); t += stepMs) await w.clock.advance(stepMs);
  await settle();
  if (!done()) throw new Error(`${what}: not reached after ${limitMs / 60_000} virtual minutes`);
}

/** Advances the virtual clock until the orchestrator is idle (or throws after `limitMs` of virtual time). */
export async function runUntilIdle(w: FakeWorld, o: Orchestrator, limitMs = 60 * 60_000, stepMs = 1000): Promise<void> {
  let idle = false;
  void o.whenIdle().then(() => (idle = true));
  for (let t = 0; t < limitMs && !idle; t += stepMs) await w.clock.advance(stepMs);
  await settle();
  if (!idle)
    throw new Error(
      `not idle after ${limitMs / 60_000} virtual minutes: ${Object.values(o.snapshot.tickets)
        .map((t) => `${t.id}:${t.status}`)
        .join(', ')}`,
    );
}

/** A ticket whose files are `src/<id>.txt`, as the fake agents change them by default. */
export const spec = (id: string, over: Partial<TicketSpec> = {}): TicketSpec => ({
  id,
  title: `ticket ${id}`,
  prompt: `do ${id}`,
  priority: 'P2',
  dependsOn: [],
  files: [`src/${id}.txt`],
  labels: [],
  estimate: 10,
  ...over,
});
