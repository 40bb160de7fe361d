// Claude Code 2.1.197 usage from its real headless output (`claude -p … --output-format json`),
// recorded against the scripted Anthropic server (test/agents/try-claude.ts).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { transcriptUsage } from '../../src/infra/agentCli/main';
import { claude, parseClaudeUsage } from '../../src/infra/agents/clis/claude';
import { detectSignals, parseUsage } from '../../src/infra/agents/profiles';

const fixture = (what: string) => readFileSync(join(__dirname, '..', 'fixtures', 'agent-output', `claude-2.1.197-${what}.txt`), 'utf8');

describe('Claude Code usage (2.1.197 --output-format json)', () => {
  it('reads tokens and cost of a finished run (3 turns of 1200 in / 150 out)', () => {
    const u = parseClaudeUsage(fixture('headless'));
    assert.deepEqual(u, { costUsd: 0.029249999999999995, inputTokens: 3600, outputTokens: 450, tokens: 4050 });
  });
  it('counts every model of the session (modelUsage), not only the main loop (usage)', () => {
    const text = fixture('subagent');
    // The main loop's `usage` says 2400 in / 300 out; a haiku sub-agent used 9610 / 1202 more.
    assert.match(text, /"usage":\{"input_tokens":2400,/);
    const u = parseClaudeUsage(text);
    assert.equal(u?.inputTokens, 2400 + 9610);
    assert.equal(u?.outputTokens, 300 + 1202);
    assert.equal(u?.tokens, 2400 + 9610 + 300 + 1202);
    assert.equal(u?.costUsd, 0.03512);
  });
  it('reads the output before a stdin warning line or after other log lines', () => {
    const text = `Warning: no stdin data received in 3s, proceeding without it.\n${fixture('headless')}\n`;
    assert.equal(parseClaudeUsage(text)?.tokens, 4050);
  });
  it('an API error result reports zero usage, and is a rate limit for both 429 and 529', () => {
    for (const what of ['rate-limit', 'overloaded']) {
      const text = fixture(what);
      assert.deepEqual(parseClaudeUsage(text), { costUsd: 0, inputTokens: 0, outputTokens: 0, tokens: 0 }, what);
      assert.equal(detectSignals(claude.profile, text).rateLimited, true, what);
    }
    assert.equal(detectSignals(claude.profile, fixture('headless')).rateLimited, false);
  });
  it('is the parser of the claude-json format', () => {
    assert.equal(parseUsage('claude-json', fixture('headless'))?.tokens, 4050);
  });
  it('nothing to read in text without a result object', () => {
    assert.equal(parseClaudeUsage('Error: Invalid API key · Please run /login\n'), undefined);
  });
});

describe('a terminal session: tokens from its transcript at each turn end', () => {
  it("Claude Code's transcript: each message's usage counted once (its lines repeat it), cache tokens as input", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-transcript-'));
    const file = path.join(dir, 'session.jsonl');
    const line = (id: string, u: Record<string, number>) => JSON.stringify({ type: 'assistant', message: { id, role: 'assistant', usage: u } });
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ type: 'user', message: { role: 'user', content: 'go' } }),
        line('msg_1', { input_tokens: 100, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0, output_tokens: 20 }),
        line('msg_1', { input_tokens: 100, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0, output_tokens: 50 }),
        line('msg_2', { input_tokens: 10, cache_read_input_tokens: 1100, output_tokens: 30 }),
        '{"type":"assistant","message":{"id":"msg_3","usage":',
      ].join('\n'),
    );
    try {
      assert.deepEqual(transcriptUsage(file), { inputTokens: 2210, outputTokens: 80, tokens: 2290 });
      assert.equal(transcriptUsage(path.join(dir, 'missing.jsonl')), undefined);
      assert.equal(transcriptUsage(undefined), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
