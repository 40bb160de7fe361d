import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  ESCALATION_TRIGGERS,
  answerEscalation,
  answerProblems,
  createEscalation,
  escalationQueue,
  escalationScore,
  isHumanParty,
  repeatedEscalationCheck,
  repeatedEscalationFor,
  resumeText,
  type Escalation,
} from '../../src/core/escalations';
import { OrchardError } from '../../src/core/errors';
import type { Priority } from '../../src/core/model';

const MIN = 60_000;
let n = 0;
const esc = (over: Partial<Parameters<typeof createEscalation>[0]> = {}, at = 0): Escalation =>
  createEscalation(
    { ticketId: 'T1', runId: 'run-1', askedBy: 'run-1', trigger: 'architecture', question: 'Which DB?', options: ['Postgres', 'SQLite'], ...over },
    `e${++n}`,
    at,
  );

describe('createEscalation', () => {
  test('has the escalation queue fields', () => {
    const e = esc({ context: 'tried both' }, 5);
    assert.deepEqual(e, {
      id: e.id,
      ticketId: 'T1',
      runId: 'run-1',
      askedBy: 'run-1',
      trigger: 'architecture',
      question: 'Which DB?',
      context: 'tried both',
      options: ['Postgres', 'SQLite'],
      createdAt: 5,
    });
    assert.equal(ESCALATION_TRIGGERS.length, 8);
  });

  test('rejects bad input with one message naming every problem', () => {
    assert.throws(
      () => esc({ trigger: 'vibes' as never, question: '  ', options: ['a', 'a', ''] }),
      (e: unknown) =>
        OrchardError.is(e, 'escalation-invalid') &&
        /trigger "vibes"/.test(e.message) &&
        /question is empty/.test(e.message) &&
        /listed twice/.test(e.message) &&
        /option is empty/.test(e.message),
    );
  });
});

describe('queue priority', () => {
  test('score = 60 × (3 − rank) + minutes waited + trigger boost', () => {
    assert.equal(escalationScore(esc({}, 0), 'P0', 0), 180);
    assert.equal(escalationScore(esc({}, 0), 'P3', 10 * MIN), 10);
    assert.equal(escalationScore(esc({ trigger: 'security' }, 0), 'P2', 0), 90);
  });

  test('orders by priority class and wait time; answered ones are left out', () => {
    const pri: Record<string, Priority> = { A: 'P1', B: 'P2', C: 'P2', D: 'P0' };
    const a = esc({ ticketId: 'A' }, 100 * MIN); // fresh P1: 120
    const b = esc({ ticketId: 'B' }, 30 * MIN); // P2 waited 70 min: 130
    const c = esc({ ticketId: 'C' }, 90 * MIN); // P2 waited 10: 70
    const d = answerEscalation(esc({ ticketId: 'D' }, 0), { option: 'Postgres', by: 'human' }, 1);
    const u = esc({ ticketId: 'unknown' }, 100 * MIN); // counts as P2: 60
    const q = escalationQueue([c, a, d, u, b], (id) => pri[id], 100 * MIN);
    assert.deepEqual(
      q.map((x) => x.escalation.ticketId),
      ['B', 'A', 'C', 'unknown'],
    );
    assert.equal(q[0]!.waitedMs, 70 * MIN);
  });

  test('ties: older first, then id', () => {
    const x = esc({ ticketId: 'X' }, 0);
    const y = esc({ ticketId: 'Y' }, 0);
    const q = escalationQueue([y, x], () => 'P1', 0);
    assert.deepEqual(
      q.map((e) => e.escalation.id),
      [x.id, y.id].sort(),
    );
  });
});

describe('answers', () => {
  test('a human picks an option with guidance', () => {
    const e = answerEscalation(esc(), { option: ' SQLite ', guidance: 'keep it simple', by: 'human:ana' }, 42);
    assert.deepEqual(e.answer, { option: 'SQLite', guidance: 'keep it simple', by: 'human:ana' });
    assert.equal(e.answeredAt, 42);
    assert.equal(resumeText(e), 'Decision: SQLite\nGuidance: keep it simple');
  });

  test('the asking run cannot answer itself; another run may', () => {
    assert.throws(() => answerEscalation(esc(), { option: 'SQLite', by: 'run-1' }, 1), /run run-1 cannot answer its own escalation/);
    assert.equal(answerEscalation(esc(), { option: 'SQLite', by: 'run-2' }, 1).answer?.by, 'run-2');
  });

  test('other answer problems', () => {
    const e = esc();
    assert.deepEqual(answerProblems(e, { by: 'human' }), ['choose an option or give guidance']);
    assert.match(answerProblems(e, { option: 'MySQL', by: 'human' })[0]!, /"MySQL" is not one of the options \("Postgres", "SQLite"\)/);
    assert.deepEqual(answerProblems(e, { guidance: 'x', by: ' ' }), ['the answer does not say who gave it']);
    const done = answerEscalation(e, { guidance: 'Postgres, with migrations', by: 'human' }, 1);
    assert.match(answerProblems(done, { guidance: 'again', by: 'human' })[0]!, /already answered/);
    const noOpts = esc({ options: [] });
    assert.match(answerProblems(noOpts, { option: 'x', by: 'human' })[0]!, /there are none/);
  });

  test('requiresHuman refuses agents', () => {
    const e = esc({ requiresHuman: true });
    assert.match(answerProblems(e, { guidance: 'go', by: 'run-9' })[0]!, /needs a human decision/);
    assert.deepEqual(answerProblems(e, { guidance: 'go', by: 'human' }), []);
    assert.equal(isHumanParty('human:bob'), true);
    assert.equal(isHumanParty('humane'), false);
  });
});

describe('repeated escalations', () => {
  test('three counted escalations flag the ticket complex; lock waits do not count', () => {
    const list = [
      esc({ ticketId: 'R' }),
      esc({ ticketId: 'R', trigger: 'lock-wait' }),
      esc({ ticketId: 'R', trigger: 'input-needed' }),
      esc({ ticketId: 'other' }),
    ];
    assert.deepEqual(repeatedEscalationCheck(list, 'R'), { count: 2, complex: false, alreadyFlagged: false });
    assert.equal(repeatedEscalationFor(list, 'R'), undefined);
    list.push(esc({ ticketId: 'R', trigger: 'agent-failed' }));
    assert.deepEqual(repeatedEscalationCheck(list, 'R'), { count: 3, complex: true, alreadyFlagged: false });
    const next = repeatedEscalationFor(list, 'R');
    assert.ok(next);
    assert.equal(next.trigger, 'repeated-escalation');
    assert.equal(next.requiresHuman, true);
    assert.match(next.question, /escalated 3 times/);
    const flagged = createEscalation(next, 'rep', 0);
    list.push(flagged);
    assert.equal(repeatedEscalationFor(list, 'R'), undefined, 'not raised twice while open');
    assert.equal(repeatedEscalationCheck(list, 'R', 5).complex, false, 'threshold is configurable');
  });
});
