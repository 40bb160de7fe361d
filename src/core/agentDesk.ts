// The agent desk owns what a running agent says to Orchard through `orchard-agent` and its
// handle: progress and verdicts, usage, questions for the human (and handing back the answer),
// more files to lock, and subtasks (the asking run waits until its subtask is merged).
import type { DeskContext } from './deskContext';
import type { OrchardEventBody } from './events';
import {
  answerEscalation,
  createEscalation,
  ESCALATION_TRIGGERS,
  repeatedEscalationFor,
  resumeText,
  type Escalation,
  type EscalationAnswer,
  type EscalationTrigger,
} from './escalations';
import { errorText } from './errors';
import { parseVerdict } from './gates';
import type { LiveRuns } from './liveRuns';
import { acquireEvents, tryAcquire } from './locks';
import { FINAL_STATUSES, type Ticket, type Usage } from './model';
import type { AgentHandle, AgentQuestion, AgentTicketRequestMessage, LockAnswer, Ports, TicketRequestAnswer } from './ports';
import { mergeRunUsage } from './budget';
import { validateGraph } from './dag';
import { assertTransition } from './transitions';
import { planSubtask } from './workflows/agentTickets';

/** What the desk needs beyond every desk's context: the log and the live agents. */
export interface AgentDeskContext extends DeskContext {
  ports: Pick<Ports, 'workspace' | 'clock' | 'log'>;
  live: LiveRuns;
}

/** A run waiting for its subtask: the run, the subtask and the request to answer. */
export interface SubtaskWait {
  runId: string;
  subtaskId: string;
  requestId: string;
}

export class AgentDesk {
  constructor(private readonly ctx: AgentDeskContext) {}

  /** Listens to everything a live agent (just started, or adopted after a restart) says. */
  listen(runId: string, handle: AgentHandle): void {
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
      if (this.ctx.state().runs[runId]?.endedAt !== undefined) return;
      // A reviewing agent's "VERDICT: APPROVE|REJECT" is kept on the run (a review loop stops on approval).
      const v = r.message ? parseVerdict(r.message).verdict : 'none';
      void this.ctx.commit([
        { type: 'run-progress', runId, progress: r.progress, message: r.message },
        ...(v !== 'none' ? [{ type: 'run-verdict' as const, runId, verdict: v }] : []),
      ]);
    });
  }

  /** Adds usage (cost, tokens) to the run's, as the agent reports it or its exit tells. */
  recordUsage(runId: string, u: Usage): void {
    const r = this.ctx.state().runs[runId];
    if (!r) return;
    void this.ctx.commit([{ type: 'run-usage', runId, usage: mergeRunUsage(r.usage, u) }]);
  }

  /**
   * More files for a running agent (`orchard-agent lock`): granted when no other live run
   * holds an overlapping pattern, otherwise the holder is named. Isolation mode has no locks.
   */
  async requestLocks(runId: string, patterns: readonly string[]): Promise<LockAnswer> {
    const state = this.ctx.state();
    const run = state.runs[runId];
    if (!run || run.endedAt !== undefined) return { granted: false, error: `run ${runId} is not running` };
    if (patterns.length === 0) return { granted: false, error: 'no paths given' };
    if (this.ctx.settings().mode === 'isolation') return { granted: true };
    const got = tryAcquire(
      { locks: state.locks, generation: state.lockGeneration },
      { runId, ticketId: run.ticketId, patterns: [...patterns], now: this.ctx.ports.clock.now(), leaseMs: this.ctx.settings().lockLeaseMinutes * 60_000 },
    );
    if (!got.ok) {
      const h = got.conflicts[0]!.holder;
      return { granted: false, holder: { ticketId: h.ticketId, pattern: h.pattern } };
    }
    await this.ctx.commit(acquireEvents(got, runId));
    this.ctx.requestPump();
    return { granted: true };
  }

  /** `orchard-agent escalate`: one escalation, the ticket escalated with it; its timeout waits. */
  private async onQuestion(runId: string, q: AgentQuestion): Promise<void> {
    const run = this.ctx.state().runs[runId];
    if (!run || run.endedAt) return;
    let e: Escalation;
    try {
      const trigger = (ESCALATION_TRIGGERS as readonly string[]).includes(q.trigger) ? (q.trigger as EscalationTrigger) : 'input-needed';
      e = createEscalation(
        { ticketId: run.ticketId, runId, askedBy: runId, trigger, question: q.question, context: q.context, options: q.options },
        `${runId}-${q.id}`,
        this.ctx.ports.clock.now(),
      );
    } catch (err) {
      this.ctx.ports.log.warn(`${run.ticketId} asked an invalid question: ${errorText(err)}`);
      return;
    }
    this.ctx.live.pauseTimeout(runId);
    const t = this.ctx.ticket(run.ticketId);
    // The question and the ticket's move to "escalated" land together: nobody sees one without the other.
    const moves: OrchardEventBody[] = [];
    if (t.status === 'running') {
      assertTransition(t.id, t.status, 'escalated');
      moves.push({ type: 'ticket-status', id: t.id, from: t.status, to: 'escalated', reason: `asks: ${e.question}` });
    }
    await this.ctx.commit([{ type: 'escalation-raised', escalation: e }, ...moves]);
    // An agent that keeps asking gets the ticket flagged as complex, for a human.
    const repeat = repeatedEscalationFor(Object.values(this.ctx.state().escalations), t.id);
    if (repeat) {
      const flagged = createEscalation({ ...repeat, runId }, `${runId}-complex-${this.ctx.state().seq}`, this.ctx.ports.clock.now());
      await this.ctx.commit([{ type: 'escalation-raised', escalation: flagged }]);
    }
  }

  /** Records the human's answer to a question (not one of Orchard's ways out); the agent that asked it resumes with it. */
  async answer(e: Escalation, answer: EscalationAnswer): Promise<void> {
    const answered = answerEscalation(e, answer, this.ctx.ports.clock.now());
    await this.ctx.commit([{ type: 'escalation-answered', id: e.id, answer: answered.answer }]);
    const run = e.runId ? this.ctx.state().runs[e.runId] : undefined;
    const handle = e.runId ? this.ctx.live.handle(e.runId) : undefined;
    if (run && !run.endedAt && handle?.answer && e.askedBy === run.id) {
      // Escalation ids are `<run id>-<question id>`; the agent waits on its own question id.
      handle.answer(e.id.slice(run.id.length + 1), { option: answered.answer.option, guidance: answered.answer.guidance });
      const t = this.ctx.ticket(e.ticketId);
      if (t.status === 'escalated') await this.ctx.transition(t.id, 'running', `resumed: ${resumeText(answered).split('\n')[0]}`);
      this.ctx.live.armTimeout(run.id, handle);
    }
  }

  /** Runs waiting for a subtask (in the state, so a restart keeps waiting). */
  subtaskWaits(): SubtaskWait[] {
    const out = [];
    for (const r of Object.values(this.ctx.state().runs)) {
      if (r.endedAt !== undefined || !r.waitingFor) continue;
      const requestId = Object.entries(r.subtasks ?? {}).find(([, s]) => s === r.waitingFor)?.[0];
      if (requestId) out.push({ runId: r.id, subtaskId: r.waitingFor, requestId });
    }
    return out;
  }

  /** Runs that hold no slot while they wait for a subtask. */
  waitingRunIds(): Set<string> {
    return new Set(this.subtaskWaits().map((w) => w.runId));
  }

  /** The waiting run whose locks a subtask may use (its parent waits for it). */
  lenderOf(t: Ticket): Set<string> {
    const w = this.subtaskWaits().find((x) => x.subtaskId === t.id);
    return new Set(w ? [w.runId] : []);
  }

  /**
   * `orchard-agent subtask`: a new ticket that the asking ticket depends on; the asking run
   * waits (its slot and its locks are lent to the subtask, its timeout stops) and resumes
   * when the subtask is merged. Refused past the depth and count limits.
   */
  private async onTicketRequest(runId: string, req: AgentTicketRequestMessage): Promise<void> {
    const state = this.ctx.state();
    const run = state.runs[runId];
    const handle = this.ctx.live.handle(runId);
    const reply = (a: TicketRequestAnswer) => handle?.answerTicketRequest?.(req.id, a);
    if (!run || run.endedAt) return;
    if (req.kind !== 'subtask')
      return reply({ ok: false, problems: ['a running ticket can only delegate with `orchard-agent subtask`; add-ticket is for planners'] });
    // A request seen again (the run was adopted after a restart): never a second subtask.
    const known = run.subtasks?.[req.id];
    if (known !== undefined) {
      if (run.waitingFor === known) return; // still waiting; settleSubtasks() answers it
      const sub = state.tickets[known];
      if (sub?.status === 'done') return reply({ ok: true, ticketId: known, ...(sub.mergedAs && { commit: sub.mergedAs }) });
      if (!sub || FINAL_STATUSES.has(sub.status) || sub.status === 'blocked')
        return reply({ ok: false, ticketId: known, problems: [`subtask ${known} is ${sub?.status ?? 'gone'}`] });
      return reply({ ok: true, ticketId: known });
    }
    const plan = planSubtask(state, this.ctx.settings(), run.ticketId, req.ticket);
    if (!plan.ok) return reply({ ok: false, problems: plan.problems });
    const parent = this.ctx.ticket(run.ticketId);
    const wait = req.wait !== false;
    const edited = wait ? { ...parent, dependsOn: [...parent.dependsOn, plan.ticket.id] } : parent;
    const problems = validateGraph([...Object.values(state.tickets).filter((x) => x.id !== parent.id), edited, plan.ticket]);
    if (problems.length) return reply({ ok: false, problems: problems.map((p) => p.message) });
    // The subtask, the parent's new dependency and the wait are one commit: a restart sees all or none.
    await this.ctx.commit([
      { type: 'ticket-added', ticket: plan.ticket },
      ...(wait ? [{ type: 'ticket-edited' as const, id: parent.id, patch: { dependsOn: edited.dependsOn } }] : []),
      { type: 'subtask-requested', runId, requestId: req.id, subtaskId: plan.ticket.id, wait },
    ]);
    if (!wait) {
      reply({ ok: true, ticketId: plan.ticket.id });
    } else {
      this.ctx.live.pauseTimeout(runId);
      await this.ctx.commit([{ type: 'run-progress', runId, message: `waits for subtask ${plan.ticket.id}: ${plan.ticket.title}` }]);
    }
    this.ctx.requestPump();
  }

  /** Answers runs whose subtask is merged (or can no longer be). */
  async settleSubtasks(): Promise<void> {
    for (const w of this.subtaskWaits()) {
      const subId = w.subtaskId;
      const sub = this.ctx.state().tickets[subId];
      const run = this.ctx.state().runs[w.runId]!;
      // Not attached (yet): recovery adopts it or ends it, and an ended run waits for nothing.
      const handle = this.ctx.live.handle(w.runId);
      if (!handle) continue;
      if (!sub || !(sub.status === 'done' || FINAL_STATUSES.has(sub.status) || sub.status === 'blocked')) continue;
      if (sub.status === 'done') {
        await this.ctx.commit([
          { type: 'subtask-settled', runId: w.runId, subtaskId: subId, merged: true },
          { type: 'run-progress', runId: w.runId, message: `subtask ${subId} merged; continuing on top of it` },
        ]);
        handle.answerTicketRequest?.(w.requestId, { ok: true, ticketId: subId, ...(sub.mergedAs && { commit: sub.mergedAs }) });
      } else {
        // The subtask cannot be merged: the parent no longer waits for it and decides what to do.
        const parent = this.ctx.state().tickets[run.ticketId]!;
        await this.ctx.commit([
          { type: 'subtask-settled', runId: w.runId, subtaskId: subId, merged: false },
          { type: 'ticket-edited', id: parent.id, patch: { dependsOn: parent.dependsOn.filter((d) => d !== subId) } },
        ]);
        handle.answerTicketRequest?.(w.requestId, {
          ok: false,
          ticketId: subId,
          problems: [`subtask ${subId} is ${sub.status}${sub.reason ? `: ${sub.reason}` : ''}`],
        });
      }
      this.ctx.live.armTimeout(w.runId, handle);
    }
  }
}
