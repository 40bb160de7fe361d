import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkBudget, costReportLines, costSummary, mergeRunUsage, parseUsage, readUsage } from '../../src/core/budget';
import { emptyState, type OrchardState, type Run } from '../../src/core/model';

function state(): OrchardState {
  const s = emptyState();
  s.batch = { startedAt: 100 };
  const t = (id: string, role?: string) => ({
    id,
    title: id,
    prompt: id,
    priority: 'P2' as const,
    dependsOn: [],
    files: [],
    labels: [],
    status: 'done' as const,
    createdAt: 0,
    attempts: 1,
    ...(role && { role }),
  });
  s.tickets = { A: t('A', 'developer'), B: t('B', 'reviewer'), C: t('C') };
  const r = (id: string, ticketId: string, usd: number | undefined, startedAt = 200): Run => ({
    id,
    ticketId,
    slot: 1,
    attempt: 1,
    branch: '',
    worktree: '',
    startedAt,
    profile: 'claude',
    ...(usd !== undefined && { usage: { usd, inputTokens: 10, outputTokens: 5 } }),
  });
  s.runs = { a: r('a', 'A', 0.5), a2: r('a2', 'A', 0.25), b: r('b', 'B', 1), c: r('c', 'C', undefined), old: r('old', 'A', 9, 50) };
  return s;
}

describe('budget: cost per role and ticket, budget check', () => {
  it('sums cost per ticket, role and profile', () => {
    const c = costSummary(state());
    assert.equal(c.byTicket.A!.usd, 9.75);
    assert.equal(c.byRole.reviewer!.usd, 1);
    assert.equal(c.reported, 4);
    assert.equal(c.runs, 5);
    assert.equal(c.byRole.developer!.inputTokens, 30);
  });
  it('the batch budget counts runs of this batch only, and pauses at the limit with a reason', () => {
    assert.deepEqual(checkBudget(state(), {}), { ok: true, spent: 1.75 });
    assert.equal(checkBudget(state(), { budgetUsd: 2 }).ok, true);
    const over = checkBudget(state(), { budgetUsd: 1.5 });
    assert.equal(over.ok, false);
    assert.match(!over.ok ? over.reason : '', /budget reached: this batch has cost \$1\.75 of its \$1\.50 budget/);
  });
  it('reads usage from agent CLI output (Claude JSON, Aider, generic)', () => {
    assert.deepEqual(parseUsage('{"type":"result","total_cost_usd":0.0421,"usage":{"input_tokens":1200,"output_tokens":340}}'), {
      usd: 0.0421,
      inputTokens: 1200,
      outputTokens: 340,
    });
    assert.deepEqual(parseUsage('Tokens: 12k sent, 1.5k received. Cost: $0.02 message, $0.15 session.'), { usd: 0.15, inputTokens: 12000, outputTokens: 1500 });
    assert.equal(parseUsage('nothing here'), undefined);
  });
  it('usage reports are cumulative per run; bad values are dropped', () => {
    assert.deepEqual(mergeRunUsage({ usd: 0.2, inputTokens: 10 }, { usd: 0.1, outputTokens: 3 }), { usd: 0.2, inputTokens: 10, outputTokens: 3 });
    assert.equal(readUsage({ usd: -1, inputTokens: 'x' }), undefined);
  });
  it('report lines name the cost by role and the budget', () => {
    const lines = costReportLines(state(), { budgetUsd: 5 });
    assert.match(lines[0]!, /developer \$9\.75/);
    assert.match(lines[1]!, /\$1\.75 of \$5\.00/);
  });
});
