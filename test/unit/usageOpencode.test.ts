// OpenCode 1.18.33: usage from its real headless output (`opencode run --format json`), recorded
// against the scripted Chat Completions server (test/agents/try-opencode.ts). Orchard's plugin,
// which runs a process per call, is tested in test/process/usageOpencode.test.ts.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { opencode, parseUsage as parseOpencodeUsage } from '../../src/infra/agents/clis/opencode';
import { detectSignals, expandArgv, parseUsage } from '../../src/infra/agents/profiles';

const fixture = (what: string) => readFileSync(join(__dirname, '..', 'fixtures', 'agent-output', `opencode-1.18.33-${what}.txt`), 'utf8');

describe('OpenCode usage (1.18.33 run --format json)', () => {
  it('sums the step_finish tokens of a finished run (3 steps of 1200 in / 150 out)', () => {
    assert.deepEqual(parseOpencodeUsage(fixture('headless-commit')), { inputTokens: 3600, outputTokens: 450, tokens: 4050, costUsd: 0 });
  });
  it('counts cache reads/writes as input, reasoning as output, and sums the cost', () => {
    const step = (tokens: unknown, cost: number) =>
      JSON.stringify({ type: 'step_finish', timestamp: 1, sessionID: 's', part: { type: 'step-finish', reason: 'stop', tokens, cost } });
    const text = [
      'some log line',
      step({ total: 1500, input: 1000, output: 100, reasoning: 50, cache: { read: 300, write: 50 } }, 0.0125),
      '{"type":"text","part":{"text":"step_finish in a text is not a step"}}',
      step({ total: 230, input: 200, output: 30, reasoning: 0, cache: { read: 0, write: 0 } }, 0.0025),
    ].join('\n');
    assert.deepEqual(parseOpencodeUsage(text), { inputTokens: 1000 + 300 + 50 + 200, outputTokens: 150 + 30, tokens: 1730, costUsd: 0.015 });
  });
  it('no step at all (an error before the first answer): no usage', () => {
    assert.equal(parseOpencodeUsage(fixture('headless-ratelimit')), undefined);
    assert.equal(parseOpencodeUsage('plain text\n'), undefined);
  });
  it('the error event of exhausted retries is a rate limit (429, and 503 overloaded)', () => {
    assert.equal(detectSignals(opencode.profile, fixture('headless-ratelimit')).rateLimited, true);
    if (existsSync(join(__dirname, '..', 'fixtures', 'agent-output', 'opencode-1.18.33-headless-overloaded.txt'))) {
      assert.equal(detectSignals(opencode.profile, fixture('headless-overloaded')).rateLimited, true);
    }
    assert.equal(detectSignals(opencode.profile, fixture('headless-commit')).rateLimited, false);
    assert.equal(detectSignals(opencode.profile, fixture('headless-commit')).needsInput, false);
  });
  it('is the parser of the opencode format', () => {
    assert.equal(parseUsage('opencode', fixture('headless-commit'))?.tokens, 4050);
  });
  it('headless argv: run --auto --format json, the prompt one element', () => {
    const ticket = {
      id: 'T1',
      title: 't',
      prompt: 'p',
      priority: 'P2' as const,
      dependsOn: [],
      files: [],
      labels: [],
      status: 'running' as const,
      createdAt: 0,
      attempts: 1,
    };
    const run = { id: 'T1-r1', ticketId: 'T1', slot: 1, attempt: 1, branch: 'orchard/T1', worktree: '/w', startedAt: 0 };
    assert.deepEqual(expandArgv(opencode.profile.argv, ticket, run, '--help me', 'p/m'), [
      'opencode',
      'run',
      '--auto',
      '--format',
      'json',
      '--model',
      'p/m',
      '--help me',
    ]);
  });
});
