// Escalations: questions for the human (who asks, why, the options, when, the answer). Pure: ids and
// time are passed in.
//
// Queue priority (higher = more urgent), in minutes-equivalent:
//     score = 60 × (3 − rank(ticket priority)) + minutes waited + triggerBoost
// so a fresh P0 question scores 180, a P1 120, a P2 60, a P3 0, and every minute of waiting
// adds one point: a P2 question that has waited an hour ranks with a fresh P1 one. Security
// and data questions get +30 (triggerBoost), the others 0. Ties: older first, then id.
//
// Answers: each run has its own token, so the answering party is known; a run may not answer
// its own escalation (by === askedBy is refused). Conventions for `by`: a run id for agents
// ("run-3"), "human" or "human:<name>" for people. Escalations flagged requiresHuman (the
// ticket is complex) accept only human answers.
//
// Repeated escalations: a ticket with `threshold` (3) or more escalations is flagged complex
// and requires the human (trigger "repeated-escalation").
import { labelsOf, type WayOut } from './waysOut';
import { OrchardError } from './errors';
import { priorityRank, type Priority } from './model';

export const ESCALATION_TRIGGERS = [
  'architecture',
  'security',
  'data',
  'input-needed',
  'conflict',
  'agent-failed',
  'repeated-escalation',
  'lock-wait',
] as const;
export type EscalationTrigger = (typeof ESCALATION_TRIGGERS)[number];

export interface EscalationAnswer {
  /** One of the escalation's options, if the human picked one. */
  option?: string;
  /** Free text passed to the agent when it resumes. */
  guidance?: string;
  /** Who answered: "human", "human:<name>", or a run id. */
  by: string;
}

export interface Escalation {
  id: string;
  ticketId: string;
  /** The run that was working on the ticket, if any. */
  runId?: string;
  /** The run whose token raised the question (usually runId; undefined when Orchard raised it). */
  askedBy?: string;
  trigger: EscalationTrigger;
  question: string;
  /** What the agent was doing, what it tried. */
  context: string;
  /** Proposed solutions to choose from. */
  options: string[];
  /** Orchard's own questions: the way out each option stands for, in the same order (core/waysOut.ts). */
  ways?: WayOut[];
  createdAt: number;
  answeredAt?: number;
  answer?: EscalationAnswer;
  /** Only a human may answer (the ticket was flagged complex). */
  requiresHuman?: boolean;
}

export const ESCALATION_LIMITS = { maxQuestionChars: 2000, maxContextChars: 50_000, maxOptions: 10, maxOptionChars: 500, maxGuidanceChars: 20_000 } as const;
export const DEFAULT_REPEAT_THRESHOLD = 3;
export const PRIORITY_CLASS_MINUTES = 60;
export const TRIGGER_BOOST: Readonly<Record<EscalationTrigger, number>> = {
  architecture: 0,
  security: 30,
  data: 30,
  'input-needed': 0,
  conflict: 0,
  'agent-failed': 0,
  'repeated-escalation': 0,
  'lock-wait': 0,
};

export function isHumanParty(by: string): boolean {
  return by === 'human' || by.startsWith('human:');
}

export interface NewEscalation {
  ticketId: string;
  runId?: string;
  askedBy?: string;
  trigger: EscalationTrigger;
  question: string;
  context?: string;
  options?: readonly string[];
  /** Orchard's own questions: the ways out, whose labels become the options. */
  ways?: readonly WayOut[];
  requiresHuman?: boolean;
}

/** Builds an escalation, checking its fields. Throws OrchardError('escalation-invalid'). */
export function createEscalation(input: NewEscalation, id: string, now: number): Escalation {
  const problems: string[] = [];
  if (!(ESCALATION_TRIGGERS as readonly string[]).includes(input.trigger))
    problems.push(`trigger "${String(input.trigger)}" is not one of ${ESCALATION_TRIGGERS.join(', ')}`);
  const question = typeof input.question === 'string' ? input.question.trim() : '';
  if (!question) problems.push('question is empty; say what the human should decide');
  else if (question.length > ESCALATION_LIMITS.maxQuestionChars)
    problems.push(`question is longer than ${ESCALATION_LIMITS.maxQuestionChars} characters; put details in context`);
  const context = input.context ?? '';
  if (context.length > ESCALATION_LIMITS.maxContextChars) problems.push(`context is longer than ${ESCALATION_LIMITS.maxContextChars} characters`);
  const options: string[] = [];
  if (input.ways && (input.askedBy !== undefined || input.options?.length))
    problems.push('ways are for questions Orchard asks itself, without options of their own');
  for (const o of input.ways ? labelsOf(input.ways) : (input.options ?? [])) {
    const t = typeof o === 'string' ? o.trim() : '';
    if (!t) problems.push('an option is empty');
    else if (t.length > ESCALATION_LIMITS.maxOptionChars)
      problems.push(`option "${t.slice(0, 30)}…" is longer than ${ESCALATION_LIMITS.maxOptionChars} characters`);
    else if (options.includes(t)) problems.push(`option "${t}" is listed twice`);
    else options.push(t);
  }
  if (options.length > ESCALATION_LIMITS.maxOptions) problems.push(`${options.length} options (at most ${ESCALATION_LIMITS.maxOptions})`);
  if (problems.length) throw new OrchardError('escalation-invalid', `Escalation for ticket ${input.ticketId} is invalid: ${problems.join('; ')}.`);
  const e: Escalation = { id, ticketId: input.ticketId, trigger: input.trigger, question, context, options, createdAt: now };
  if (input.runId !== undefined) e.runId = input.runId;
  if (input.askedBy !== undefined) e.askedBy = input.askedBy;
  if (input.requiresHuman) e.requiresHuman = true;
  if (input.ways) e.ways = [...input.ways];
  return e;
}

export function isOpen(e: Escalation): boolean {
  return e.answer === undefined;
}

/** Queue score (see the formula at the top of this file). */
export function escalationScore(e: Escalation, ticketPriority: Priority, now: number): number {
  const cls = PRIORITY_CLASS_MINUTES * (3 - priorityRank(ticketPriority));
  const waited = Math.max(0, now - e.createdAt) / 60_000;
  return cls + waited + TRIGGER_BOOST[e.trigger];
}

export interface QueuedEscalation {
  escalation: Escalation;
  score: number;
  waitedMs: number;
}

/**
 * Open escalations, most urgent first. priorityOf gives each ticket's priority (tickets it
 * does not know count as P2).
 */
export function escalationQueue(escalations: readonly Escalation[], priorityOf: (ticketId: string) => Priority | undefined, now: number): QueuedEscalation[] {
  return escalations
    .filter(isOpen)
    .map((escalation) => ({
      escalation,
      score: escalationScore(escalation, priorityOf(escalation.ticketId) ?? 'P2', now),
      waitedMs: Math.max(0, now - escalation.createdAt),
    }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        a.escalation.createdAt - b.escalation.createdAt ||
        (a.escalation.id < b.escalation.id ? -1 : a.escalation.id > b.escalation.id ? 1 : 0),
    );
}

/** Problems with an answer; empty when it is acceptable. */
export function answerProblems(e: Escalation, answer: EscalationAnswer): string[] {
  const p: string[] = [];
  if (!isOpen(e)) p.push(`escalation ${e.id} was already answered`);
  if (typeof answer.by !== 'string' || answer.by.trim() === '') p.push('the answer does not say who gave it');
  else {
    if (e.askedBy !== undefined && answer.by === e.askedBy) p.push(`run ${answer.by} cannot answer its own escalation`);
    if (e.requiresHuman && !isHumanParty(answer.by)) p.push(`ticket ${e.ticketId} needs a human decision; ${answer.by} cannot answer`);
  }
  const option = answer.option?.trim();
  const guidance = answer.guidance?.trim();
  if (!option && !guidance) p.push('choose an option or give guidance');
  if (option && !e.options.includes(option))
    p.push(
      `"${option}" is not one of the options${e.options.length ? ` (${e.options.map((o) => `"${o}"`).join(', ')})` : ' (there are none; give guidance instead)'}`,
    );
  if (guidance && guidance.length > ESCALATION_LIMITS.maxGuidanceChars) p.push(`guidance is longer than ${ESCALATION_LIMITS.maxGuidanceChars} characters`);
  return p;
}

/** Records an answer. Throws OrchardError('escalation-invalid') naming every problem. */
export function answerEscalation(e: Escalation, answer: EscalationAnswer, now: number): Escalation & { answer: EscalationAnswer } {
  const problems = answerProblems(e, answer);
  if (problems.length) throw new OrchardError('escalation-invalid', `Cannot answer escalation ${e.id}: ${problems.join('; ')}.`);
  const a: EscalationAnswer = { by: answer.by };
  if (answer.option?.trim()) a.option = answer.option.trim();
  if (answer.guidance?.trim()) a.guidance = answer.guidance.trim();
  return { ...e, answer: a, answeredAt: now };
}

/** The text an agent resumes with after an answer. */
export function resumeText(e: Escalation): string {
  if (!e.answer) return '';
  const parts: string[] = [];
  if (e.answer.option) parts.push(`Decision: ${e.answer.option}`);
  if (e.answer.guidance) parts.push(`Guidance: ${e.answer.guidance}`);
  return parts.join('\n');
}

/** Triggers that count towards "escalates repeatedly" (scheduling waits do not). */
const COUNTED: ReadonlySet<EscalationTrigger> = new Set(['architecture', 'security', 'data', 'input-needed', 'conflict', 'agent-failed']);

export interface RepeatCheck {
  /** Escalations on the ticket that count towards the threshold. */
  count: number;
  /** The ticket escalates repeatedly: flag it complex and require the human. */
  complex: boolean;
  /** A repeated-escalation question is already open for it. */
  alreadyFlagged: boolean;
}

/** An agent that escalates again and again: its ticket is flagged as complex and needs a human. */
export function repeatedEscalationCheck(escalations: readonly Escalation[], ticketId: string, threshold = DEFAULT_REPEAT_THRESHOLD): RepeatCheck {
  const mine = escalations.filter((e) => e.ticketId === ticketId);
  const count = mine.filter((e) => COUNTED.has(e.trigger)).length;
  return {
    count,
    complex: count >= threshold,
    alreadyFlagged: mine.some((e) => e.trigger === 'repeated-escalation' && isOpen(e)),
  };
}

/**
 * After an escalation on a ticket: the repeated-escalation question to raise, if the ticket
 * has just reached the threshold and none is open. The caller gives it an id and a time.
 */
export function repeatedEscalationFor(escalations: readonly Escalation[], ticketId: string, threshold = DEFAULT_REPEAT_THRESHOLD): NewEscalation | undefined {
  const c = repeatedEscalationCheck(escalations, ticketId, threshold);
  if (!c.complex || c.alreadyFlagged) return undefined;
  const recent = escalations
    .filter((e) => e.ticketId === ticketId && COUNTED.has(e.trigger))
    .map((e) => `- [${e.trigger}] ${e.question}`)
    .join('\n');
  return {
    ticketId,
    trigger: 'repeated-escalation',
    question: `Ticket ${ticketId} has escalated ${c.count} times. It looks too complex for an agent alone: how should it continue?`,
    context: `Earlier escalations:\n${recent}`,
    options: ['Split the ticket', 'Retry with my guidance', 'I will do it myself', 'Cancel the ticket'],
    requiresHuman: true,
  };
}
