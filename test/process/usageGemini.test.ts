// Gemini CLI 0.61.0: usage read from its real headless output (recorded against the scripted
// model server, test/agents/try-gemini.ts), and the worktree preparation (hooks, git hiding).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gemini, parseUsage } from '../../src/infra/agents/clis/gemini';
import { detectSignals } from '../../src/infra/agents/profiles';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'agent-output', name), 'utf8');

describe('Gemini CLI usage', () => {
  it('reads the result event of --output-format stream-json (the profile headless format)', () => {
    // Three model turns of 1200 in / 150 out each, as the scripted server reported them.
    assert.deepEqual(parseUsage(fixture('gemini-0.61.0-headless-stream-json.txt')), { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
    assert.ok(gemini.profile.argv.join(' ').includes('--output-format stream-json'));
  });
  it('reads stats.models[*].tokens of --output-format json', () => {
    assert.deepEqual(parseUsage(fixture('gemini-0.61.0-headless-json.txt')), { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
  });
  it('counts thinking tokens as output', () => {
    const streamed = '{"type":"result","status":"success","stats":{"total_tokens":1500,"input_tokens":1000,"output_tokens":300,"cached":200,"input":800}}';
    assert.deepEqual(parseUsage(streamed), { inputTokens: 1000, outputTokens: 500, tokens: 1500 });
    const json = JSON.stringify(
      {
        response: 'x',
        stats: {
          models: {
            a: { tokens: { prompt: 1000, candidates: 300, thoughts: 200, total: 1500 } },
            b: { tokens: { prompt: 10, candidates: 5, thoughts: 0, total: 15 } },
          },
        },
      },
      null,
      2,
    );
    assert.deepEqual(parseUsage(`warning\n${json}\n`), { inputTokens: 1010, outputTokens: 505, tokens: 1515 });
  });
  it('a failed run still has a result event (zero tokens); no JSON, no usage', () => {
    assert.deepEqual(parseUsage(fixture('gemini-0.61.0-fault-429-stream-json.txt')), { inputTokens: 0, outputTokens: 0, tokens: 0 });
    assert.equal(parseUsage('Error: something\n'), undefined);
  });
  it('the profile reads usage, done and rate limits from that output', () => {
    const ok = detectSignals(gemini.profile, fixture('gemini-0.61.0-headless-stream-json.txt'));
    assert.equal(ok.done, true);
    assert.equal(ok.rateLimited, false);
    assert.equal(ok.needsInput, false);
    assert.deepEqual(ok.usage, { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
    for (const f of [
      'gemini-0.61.0-fault-429-stream-json.txt',
      'gemini-0.61.0-fault-503-stream-json.txt',
      'gemini-0.61.0-fault-429-json.txt',
      'gemini-0.61.0-fault-503-json.txt',
    ]) {
      assert.equal(detectSignals(gemini.profile, fixture(f)).rateLimited, true, f);
    }
  });
});

describe('Gemini CLI screens (tmux capture-pane text)', () => {
  const match = (text: string) => (gemini.screens ?? []).filter((r) => new RegExp(r.pattern, 'i').test(text)).map((r) => r.name);
  it('the quota/overload dialog after its retries becomes an escalation', () => {
    const hits = match(fixture('gemini-0.61.0-tmux-503-dialog.txt'));
    assert.equal(hits.length, 1);
    assert.match(hits[0]!, /rate limit/);
    assert.equal(gemini.screens!.find((r) => r.name === hits[0])!.keys, undefined);
  });
  it('a turn that ended (hooks warning, tool boxes, prompt) matches no rule', () => {
    assert.deepEqual(match(fixture('gemini-0.61.0-tmux-turn-end.txt')), []);
  });
});

describe('Gemini CLI worktree preparation', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const setup = () => {
    const root = mkdtempSync(join(tmpdir(), 'gemini-prep-'));
    const repo = join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init');
    const wt = join(root, 'wt');
    git(repo, 'worktree', 'add', '-q', '-b', 'orchard/T1', wt);
    const runDir = join(repo, '.git', 'orchard', 'runs', 'T1-r1');
    const logs: string[] = [];
    const ctx = (interactive: boolean) => ({
      worktree: wt,
      runDir,
      orchardAgent: join(runDir, 'bin', 'orchard-agent'),
      interactive,
      env: {},
      trustWorktrees: false,
      log: (m: string) => logs.push(m),
    });
    return { root, repo, wt, ctx, logs };
  };
  const settings = (wt: string) => JSON.parse(readFileSync(join(wt, '.gemini', 'settings.json'), 'utf8'));

  it('interactive: AfterAgent and Notification hooks call orchard-agent; the file stays out of git', () => {
    const s = setup();
    try {
      const prepared = gemini.prepare!(s.ctx(true));
      assert.deepEqual(prepared.env, { GEMINI_CLI_TRUST_WORKSPACE: 'true' });
      const h = settings(s.wt).hooks;
      assert.match(h.AfterAgent[0].hooks[0].command, /orchard-agent' hook turn-end --stdin$/);
      assert.match(h.Notification[0].hooks[0].command, /orchard-agent' hook needs-input --stdin$/);
      assert.equal(settings(s.wt).ui.errorVerbosity, 'full');
      assert.equal(git(s.wt, 'status', '--porcelain'), '');
      assert.ok(s.logs.some((l) => l.includes('info/exclude')));
      // Again (a retry in the same worktree): still one of each.
      gemini.prepare!(s.ctx(true));
      assert.equal(settings(s.wt).hooks.AfterAgent.length, 1);
      // Headless: ours go, the rest stays.
      gemini.prepare!(s.ctx(false));
      assert.equal(settings(s.wt).hooks, undefined);
    } finally {
      rmSync(s.root, { recursive: true, force: true });
    }
  });

  it("a tracked .gemini/settings.json keeps the repository's settings and hooks, and is never committed", () => {
    const s = setup();
    try {
      mkdirSync(join(s.wt, '.gemini'));
      const theirs = { model: { name: 'x' }, hooks: { AfterAgent: [{ hooks: [{ type: 'command', command: 'echo mine' }] }] } };
      writeFileSync(join(s.wt, '.gemini', 'settings.json'), '// comment\n' + JSON.stringify(theirs));
      git(s.wt, 'add', '.gemini/settings.json');
      git(s.wt, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'settings');
      gemini.prepare!(s.ctx(true));
      const now = settings(s.wt);
      assert.deepEqual(now.model, { name: 'x' });
      assert.equal(now.hooks.AfterAgent.length, 2);
      assert.equal(now.hooks.AfterAgent[0].hooks[0].command, 'echo mine');
      assert.equal(git(s.wt, 'status', '--porcelain'), '');
      git(s.wt, 'add', '-A');
      assert.equal(git(s.wt, 'diff', '--cached', '--name-only'), '');
      assert.ok(!readFileSync(join(s.repo, '.git', 'info', 'exclude'), 'utf8').includes('.gemini'));
    } finally {
      rmSync(s.root, { recursive: true, force: true });
    }
  });

  it('headless in a fresh worktree writes nothing', () => {
    const s = setup();
    try {
      gemini.prepare!(s.ctx(false));
      assert.equal(existsSync(join(s.wt, '.gemini')), false);
    } finally {
      rmSync(s.root, { recursive: true, force: true });
    }
  });
});
