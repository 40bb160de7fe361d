// The gate desk owns what happens between "the agent finished with work" and "it may merge":
// it runs the ticket's gates (commands and reviewer agents) in order, then sends the ticket to
// review or to the merge queue, back to its agent (a reviewer's rejection), to a retry (a
// failed check) or to the human (a required gate missing, reviewer rounds used up).
import type { DeskContext } from './deskContext';
import { createEscalation, type EscalationTrigger } from './escalations';
import { errorText } from './errors';
import { decideGates, DEFAULT_REVIEWER_ROUNDS, describeGate, feedbackContext, gatesFor, missingRequiredGates } from './gates';
import type { MergeDesk } from './mergeDesk';
import type { GatePort, Logger } from './ports';
import { failureContext, type FailureKind } from './retry';
import type { ReviewDesk } from './reviewDesk';
import { GATE_WAYS } from './waysOut';

/** What the desk needs of the orchestrator beyond every desk's context. */
export interface GateDeskContext extends DeskContext {
  /** The gate runner, where this workspace has one. */
  gates(): GatePort | undefined;
  log: Logger;
  afterFailure(ticketId: string, runId: string, kind: FailureKind, why: string, output?: string): Promise<void>;
  reviews: ReviewDesk;
  merges: MergeDesk;
}

export class GateDesk {
  constructor(private readonly ctx: GateDeskContext) {}

  /** Runs the gates of a finished run (its ticket is gating); a gate that cannot run escalates. */
  async gateRun(ticketId: string, runId: string): Promise<void> {
    try {
      await this.runGates(ticketId, runId);
    } catch (err) {
      this.ctx.log.error(`Gates of ${ticketId} failed to run: ${errorText(err)}`);
      if (this.ctx.state().tickets[ticketId]?.status === 'gating')
        await this.escalateGates(ticketId, runId, `its gates could not run: ${errorText(err)}`, errorText(err), 'agent-failed');
    }
  }

  /** Runs the ticket's gates after a successful run: pass → merge queue; else back, retry or the human. */
  private async runGates(ticketId: string, runId: string): Promise<void> {
    const t = this.ctx.ticket(ticketId);
    const run = this.ctx.state().runs[runId]!;
    const gates = this.ctx.settings().gates ?? [];
    const required = this.ctx.settings().requiredGatesByLabel ?? {};
    const maxRounds = this.ctx.settings().reviewerRounds ?? DEFAULT_REVIEWER_ROUNDS;
    const missing = missingRequiredGates(t, gates, required);
    const applicable = gatesFor(t, run.filesChanged ?? [], gates, required);
    if (missing.length || (applicable.length && !this.ctx.gates())) {
      const why = missing.length
        ? `required gate${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (for label${t.labels.length > 1 ? 's' : ''} ${t.labels.join(', ')}) ${missing.length > 1 ? 'are' : 'is'} not configured`
        : 'gates are configured but no gate runner is available';
      await this.escalateGates(
        ticketId,
        runId,
        why,
        'Configure the gate (or remove the label), then choose Merge Now or retry the ticket.',
        missing.length ? 'security' : 'agent-failed',
      );
      return;
    }
    const round = (t.reviewRounds ?? 0) + 1;
    const results = [];
    for (const g of applicable) {
      if (this.ctx.state().tickets[ticketId]?.status !== 'gating') return; // cancelled meanwhile
      await this.ctx.commit([{ type: 'gate-started', runId, gate: g.name, kind: g.kind }]);
      const r = await this.ctx.gates()!.run(g, this.ctx.ticket(ticketId), this.ctx.state().runs[runId]!, round);
      await this.ctx.commit([{ type: 'gate-finished', runId, result: r }]);
      this.ctx.log.info(`${ticketId}: gate ${describeGate(r)}`);
      results.push(r);
      // Reviewers do not look at work whose checks fail.
      if (g.kind === 'command' && !r.passed) break;
    }
    if (this.ctx.state().tickets[ticketId]?.status !== 'gating') return;
    const d = decideGates(results, t.reviewRounds ?? 0, maxRounds);
    if (d.kind === 'pass') {
      if (await this.ctx.reviews.sendToReviewIfNeeded(this.ctx.ticket(ticketId), this.ctx.state().runs[runId]!)) return;
      await this.ctx.transition(ticketId, 'queued-for-merge', results.length ? `gates passed: ${results.map((r) => r.name).join(', ')}` : 'no gates apply');
      this.ctx.merges.enqueue(ticketId);
    } else if (d.kind === 'failed') {
      await this.ctx.commit([
        {
          type: 'ticket-handoff',
          id: ticketId,
          context: failureContext({ kind: 'gate-failed', message: `gate ${d.gate} ${d.output.split('\n')[0]}`, output: d.output }, run.attempt),
        },
      ]);
      await this.ctx.afterFailure(ticketId, runId, 'gate-failed', `gate ${d.gate} ${d.output.split('\n')[0]}`, d.output);
    } else if (d.kind === 'send-back') {
      await this.ctx.commit([
        { type: 'review-rejected', id: ticketId, runId, gate: d.gate, round: d.round, feedback: d.feedback },
        { type: 'ticket-handoff', id: ticketId, context: feedbackContext(d.gate, d.round, maxRounds, d.feedback) },
        { type: 'lock-released', runId, reason: `sent back by reviewer ${d.gate}` },
      ]);
      await this.ctx.transition(
        ticketId,
        'ready',
        `reviewer ${d.gate} rejected (round ${d.round}/${maxRounds}): ${d.feedback.split('\n')[0]?.slice(0, 200) ?? ''}`,
      );
    } else {
      await this.escalateGates(ticketId, runId, d.reason, d.context, 'agent-failed');
    }
  }

  private async escalateGates(ticketId: string, runId: string, why: string, context: string, trigger: EscalationTrigger): Promise<void> {
    const e = createEscalation(
      { ticketId, runId, trigger, question: `${ticketId} cannot merge: ${why}`, context, ways: GATE_WAYS },
      `${runId}-gates-${this.ctx.state().seq}`,
      this.ctx.ports.clock.now(),
    );
    await this.ctx.commit([{ type: 'escalation-raised', escalation: e }]);
    await this.ctx.transition(ticketId, 'escalated', why);
  }
}
