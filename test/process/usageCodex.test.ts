// Codex CLI 0.171.0: usage, signals and the preparation of a worktree, on output recorded from the
// real CLI against the scripted Responses API server (test/agents/try-codex.ts --save-log /
// --save-screen; fixtures in test/fixtures/agent-output/codex-0.171.0-*).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { codex, codexNotifyArgv } from '../../src/infra/agents/clis/codex';
import { ANSI } from '../../src/infra/agents/clis/common';
import { detectSignals } from '../../src/infra/agents/profiles';

const FIX = path.join(__dirname, '../fixtures/agent-output');
const rec = (name: string) => fs.readFileSync(path.join(FIX, `codex-0.171.0-${name}.txt`), 'utf8');
const parse = (text: string) => codex.parseUsage!(text.replace(ANSI, ''));

describe('Codex usage from its real output', () => {
  it('exec --json: in/out tokens of turn.completed', () => {
    assert.deepEqual(parse(rec('exec-json')), { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
  });
  it('exec --json: the turn.completed of several turns are summed; a line cut short is skipped', () => {
    const line = (i: number, o: number) =>
      `{"type":"turn.completed","usage":{"input_tokens":${i},"cached_input_tokens":0,"output_tokens":${o},"reasoning_output_tokens":0}}`;
    assert.deepEqual(parse(`${line(100, 10)}\n${line(200, 20)}\n{"type":"turn.completed","usage":{"input_tok`), {
      inputTokens: 300,
      outputTokens: 30,
      tokens: 330,
    });
  });
  it('the TUI prints its usage when it exits', () => {
    assert.deepEqual(parse(rec('tui-exit')), { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
    assert.deepEqual(parse('Token usage: total=5,262 input=4,800 (+ 1,024 cached) output=462 (reasoning 12)\n'), {
      inputTokens: 4800,
      outputTokens: 462,
      tokens: 5262,
    });
  });
  it('plain exec output still gives the total', () => {
    assert.deepEqual(parse('codex\nDone.\ntokens used\n4,050\nDone.\n'), { tokens: 4050 });
  });
  it('no usage in a failed run (429, 503)', () => {
    assert.equal(parse(rec('exec-json-429')), undefined);
    assert.equal(parse(rec('exec-json-503')), undefined);
  });
});

describe('Codex signals on its real output', () => {
  it('429 and 503 after its own retries are rate limits; a finished run is done and neither', () => {
    assert.equal(detectSignals(codex.profile, rec('exec-json-429')).rateLimited, true);
    assert.equal(detectSignals(codex.profile, rec('exec-json-503')).rateLimited, true);
    const ok = detectSignals(codex.profile, rec('exec-json'));
    assert.equal(ok.rateLimited, false);
    assert.equal(ok.needsInput, false);
    assert.equal(ok.done, true);
  });
  it('the TUI approval questions need input', () => {
    assert.equal(detectSignals(codex.profile, '  Would you like to run the following command?\n  $ git push\n').needsInput, true);
  });
});

describe('Codex preparation of a worktree', () => {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-codex-prep-'));
  const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, encoding: 'utf8' }).trim();
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, '-c', 'user.email=o@example.com', '-c', 'user.name=o', 'commit', '-q', '--allow-empty', '-m', 'init');
  const wt = path.join(`${repo}.orchard`, 'worktrees', 'T1');
  git(repo, 'worktree', 'add', '-q', '-b', 'orchard/T1', wt);
  const runDir = path.join(repo, '.git', 'orchard', 'runs', 'T1-r1');
  const agent = path.join(runDir, 'bin', 'orchard-agent');
  after(() => {
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(`${repo}.orchard`, { recursive: true, force: true });
  });
  const prep = (interactive: boolean) =>
    codex.prepare!({ worktree: wt, runDir, orchardAgent: agent, interactive, env: {}, trustWorktrees: false, log: () => undefined }).args!;
  const values = (args: string[], flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));

  it('the run folder and both git dirs are writable; PATH survives; trust is for the session only', () => {
    const args = prep(false);
    const common = fs.realpathSync(path.join(repo, '.git'));
    assert.deepEqual(
      values(args, '--add-dir').map((d) => (fs.existsSync(d) ? fs.realpathSync(d) : d)),
      [runDir, path.join(common, 'worktrees', 'T1'), common],
    );
    const cfg = values(args, '-c');
    assert.ok(cfg.includes('allow_login_shell=false'));
    assert.ok(cfg.includes('check_for_update_on_startup=false'));
    const projects = cfg.find((c) => c.startsWith('projects='))!;
    // One inline table (a dotted -c key would split "repo.orchard" at its dot).
    assert.match(projects, /^projects=\{".*"=\{trust_level="trusted"\},".*"=\{trust_level="trusted"\}\}$/);
    assert.ok(projects.includes(JSON.stringify(wt)) && projects.includes(JSON.stringify(path.dirname(common))));
    assert.ok(!cfg.some((c) => c.startsWith('notify=')), 'headless runs end when exec exits: no notify');
  });
  it('in a terminal: notify calls orchard-agent hook turn-end, and Enter after typed text submits', () => {
    const cfg = values(prep(true), '-c');
    const notify = cfg.find((c) => c.startsWith('notify='))!;
    assert.deepEqual(JSON.parse(notify.slice('notify='.length)), codexNotifyArgv(agent));
    assert.ok(cfg.includes('disable_paste_burst=true'));
  });
  it("the notify filter passes the agent's turns to orchard-agent and drops Codex's own title turn", () => {
    const out = path.join(repo, 'calls');
    const stub = path.join(repo, 'stub');
    fs.writeFileSync(stub, `#!/bin/sh\nprintf '%s|' "$@" >> "${out}"\necho >> "${out}"\n`, { mode: 0o755 });
    const [cmd, ...rest] = codexNotifyArgv(stub);
    const agentTurn = JSON.stringify({
      type: 'agent-turn-complete',
      'thread-id': 'a',
      'input-messages': ['Create hello.txt'],
      'last-assistant-message': 'Which greeting?',
    });
    const titleTurn = JSON.stringify({
      type: 'agent-turn-complete',
      'thread-id': 'b',
      'input-messages': ['Generate a concise, single-line task title of at most 36 characters'],
      'last-assistant-message': 'ok',
    });
    execFileSync(cmd!, [...rest, titleTurn]);
    execFileSync(cmd!, [...rest, agentTurn]);
    assert.equal(fs.readFileSync(out, 'utf8'), `hook|turn-end|${agentTurn}|\n`);
  });
});
