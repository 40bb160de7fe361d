// GitHub Copilot CLI 1.0.102: usage, signals, screens and the preparation of a run, on output
// recorded from the real CLI against the scripted Chat Completions server
// (test/agents/try-copilot.ts --record / --save-screen; fixtures in
// test/fixtures/agent-output/copilot-1.0.102-*).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { copilot, writeCopilotPlugin } from '../../src/infra/agents/clis/copilot';
import { ANSI } from '../../src/infra/agents/clis/common';
import { detectSignals } from '../../src/infra/agents/profiles';

const FIX = path.join(__dirname, '../fixtures/agent-output');
const rec = (name: string) => fs.readFileSync(path.join(FIX, `copilot-1.0.102-${name}${name.startsWith('transcript') ? '.jsonl' : '.txt'}`), 'utf8');
const parse = (text: string) => copilot.parseUsage!(text.replace(ANSI, ''));

describe('Copilot CLI usage from its real output', () => {
  it('headless: the Tokens line of its stats ("↑ 3.6k • ↓ 450")', () => {
    assert.deepEqual(parse(rec('headless')), { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
    assert.deepEqual(parse(rec('headless-ask')), { inputTokens: 1200, outputTokens: 150, tokens: 1350 });
  });
  it('cached prompt tokens are a part of ↑; reasoning tokens a part of ↓; m and k suffixes', () => {
    assert.deepEqual(parse(rec('headless-cached')), { inputTokens: 1_200_000, outputTokens: 2500, tokens: 1_202_500 });
    assert.deepEqual(parse(rec('headless-reasoning')), { inputTokens: 999, outputTokens: 1500, tokens: 2499 });
  });
  it('the terminal UI prints the same stats beside its logo after /exit', () => {
    assert.deepEqual(parse(rec('tui-exit')), { inputTokens: 3600, outputTokens: 450, tokens: 4050 });
  });
  it('two runs in one log add up', () => {
    assert.deepEqual(parse(`${rec('headless')}\n${rec('headless-ask')}`), { inputTokens: 4800, outputTokens: 600, tokens: 5400 });
  });
  it('no usage when no model call succeeded (429, 503 after its retries)', () => {
    assert.equal(parse(rec('fault-429')), undefined);
    assert.equal(parse(rec('fault-503')), undefined);
  });
});

describe('Copilot CLI signals on its real output', () => {
  it('429 and 503 after its own retries are rate limits; a finished run is done and neither', () => {
    for (const f of ['fault-429', 'fault-503']) {
      const s = detectSignals(copilot.profile, rec(f));
      assert.equal(s.rateLimited, true, f);
      assert.equal(s.done, false, f);
    }
    const ok = detectSignals(copilot.profile, rec('headless'));
    assert.deepEqual([ok.rateLimited, ok.needsInput, ok.done], [false, false, true]);
  });
  it('the agent asking a question headless is not "needs input" (it has no ask_user tool and exits)', () => {
    assert.equal(detectSignals(copilot.profile, rec('headless-ask')).needsInput, false);
  });
});

describe('Copilot CLI screens', () => {
  it('folder trust is answered "1. Yes" (this session only); a path permission is not a screen rule', () => {
    const match = (screen: string) => (copilot.screens ?? []).filter((r) => new RegExp(r.pattern, 'i').test(screen));
    const trust = match(rec('tui-folder-trust'));
    assert.equal(trust.length, 1);
    assert.deepEqual(trust[0]!.keys, ['1']);
    assert.equal(match(rec('tui-path-permission')).length, 0);
    assert.equal(match(rec('tui-exit')).length, 0);
  });
});

describe('Copilot CLI prepare()', () => {
  const base = () => fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-copilot-unit-'));
  const ctx = (dir: string, interactive: boolean, logs: string[] = []) => ({
    worktree: path.join(dir, 'wt'),
    runDir: path.join(dir, 'run'),
    orchardAgent: path.join(dir, 'bin', 'orchard-agent'),
    interactive,
    env: {},
    trustWorktrees: false,
    log: (m: string) => logs.push(m),
  });

  it('the flags prepare() adds are in the recorded --help of 1.0.102', () => {
    const help = fs.readFileSync(path.join(__dirname, '../fixtures/cli-help/copilot-1.0.102.txt'), 'utf8');
    for (const f of ['--add-dir', '--plugin-dir']) assert.match(help, new RegExp(`^\\s+${f} <directory>`, 'm'), f);
  });

  it('headless: only the run folder is added (no hooks, nothing written)', () => {
    const dir = base();
    try {
      const c = ctx(dir, false);
      assert.deepEqual(copilot.prepare!(c), { args: ['--add-dir', c.runDir] });
      assert.equal(fs.existsSync(c.runDir), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('terminal: a plugin in the run folder, the worktree trusted for this process; the worktree untouched', () => {
    const dir = base();
    try {
      const logs: string[] = [];
      const c = ctx(dir, true, logs);
      fs.mkdirSync(c.worktree, { recursive: true });
      const p = copilot.prepare!(c);
      const plugin = path.join(c.runDir, 'copilot-plugin');
      assert.deepEqual(p.args, ['--add-dir', c.runDir, '--plugin-dir', plugin]);
      assert.deepEqual(p.env, { COPILOT_ALLOW_ALL: 'true' });
      assert.deepEqual(fs.readdirSync(c.worktree), []);
      const manifest = JSON.parse(fs.readFileSync(path.join(plugin, '.plugin', 'plugin.json'), 'utf8'));
      assert.equal(manifest.hooks, 'hooks.json');
      const hooks = JSON.parse(fs.readFileSync(path.join(plugin, 'hooks.json'), 'utf8')).hooks;
      assert.deepEqual(Object.keys(hooks).sort(), ['agentStop', 'notification']);
      assert.match(hooks.agentStop[0].bash, / turn-end /);
      assert.match(hooks.notification[0].bash, / needs-input /);
      assert.equal(logs.length, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // The relay run as Copilot runs the hook: `bash -c <command>`, the payload on stdin.
  const relay = (kind: 'agentStop' | 'notification', payload: unknown) => {
    const dir = base();
    const calls = path.join(dir, 'calls.log');
    const agent = path.join(dir, "bin o'dd", 'orchard-agent');
    fs.mkdirSync(path.dirname(agent), { recursive: true });
    fs.writeFileSync(agent, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> '${calls}'\n`, { mode: 0o755 });
    const plugin = writeCopilotPlugin(path.join(dir, 'run'), agent);
    const command = JSON.parse(fs.readFileSync(path.join(plugin, 'hooks.json'), 'utf8')).hooks[kind][0].bash as string;
    const r = spawnSync('bash', ['-c', command], { input: typeof payload === 'string' ? payload : JSON.stringify(payload), encoding: 'utf8', timeout: 10_000 });
    const argv = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
    return { dir, r, argv };
  };

  it('agentStop: turn-end with the last assistant message of the transcript', () => {
    const dir0 = base();
    try {
      const transcript = path.join(dir0, 'events.jsonl');
      const ev = (type: string, data: unknown) => JSON.stringify({ type, data });
      fs.writeFileSync(
        transcript,
        [
          ev('user.message', { content: 'Add hello' }),
          ev('assistant.message', { content: 'first' }),
          ev('assistant.message', { content: '', toolRequests: [{}] }),
          ev('assistant.message', { content: 'Which greeting do you want?' }),
          ev('assistant.turn_end', {}),
        ].join('\n') + '\n',
      );
      const { dir, r, argv } = relay('agentStop', { sessionId: 's1', cwd: '/w', transcriptPath: transcript, stopReason: 'end_turn', stop_hook_active: false });
      try {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), '{}');
        assert.deepEqual(argv.slice(0, 2), ['hook', 'turn-end']);
        const sent = JSON.parse(argv[2]!);
        assert.equal(sent.last_assistant_message, 'Which greeting do you want?');
        assert.equal(sent.sessionId, 's1');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(dir0, { recursive: true, force: true });
    }
  });

  it("agentStop: a sub-agent's message is not the agent's; a message in chunks is joined", () => {
    const dir0 = base();
    try {
      const transcript = path.join(dir0, 'events.jsonl');
      const lines = [
        { type: 'assistant.message', data: { messageId: 'm1', content: 'Part one, ', chunkIndex: 0, chunkCount: 2 } },
        { type: 'assistant.message', data: { messageId: 'm1', content: 'part two.', chunkIndex: 1, chunkCount: 2 } },
        { type: 'assistant.message', agentId: 'sub-1', data: { messageId: 'm2', content: 'sub-agent report' } },
      ];
      fs.writeFileSync(transcript, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const { dir, argv } = relay('agentStop', { transcriptPath: transcript });
      try {
        assert.equal(JSON.parse(argv[2]!).last_assistant_message, 'Part one, part two.');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(dir0, { recursive: true, force: true });
    }
  });

  // A real transcript (events.jsonl of 1.0.102 in a terminal): the bash tool gave up waiting on
  // `orchard-agent escalate` after 30 s, the agent ended its turn ("Waiting for it."), the CLI
  // woke it when the command completed, and it ended with "Done.".
  it('agentStop while an orchard-agent call still runs in the background is not reported; after it completes it is', () => {
    const lines = rec('transcript-background-shell').split('\n').filter(Boolean);
    const firstStop = lines.findIndex((l) => l.includes('"Waiting for it."')) + 2;
    const check = (transcriptLines: string[], expect: string | undefined, edit = (l: string) => l) => {
      const dir0 = base();
      try {
        const transcript = path.join(dir0, 'events.jsonl');
        fs.writeFileSync(transcript, transcriptLines.map(edit).join('\n') + '\n');
        const { dir, argv } = relay('agentStop', { transcriptPath: transcript, stopReason: 'end_turn' });
        try {
          if (expect === undefined) assert.deepEqual(argv, []);
          else assert.equal(JSON.parse(argv[2]!).last_assistant_message, expect);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      } finally {
        fs.rmSync(dir0, { recursive: true, force: true });
      }
    };
    check(lines.slice(0, firstStop), undefined);
    check(lines, 'Done.');
    // Any other command left running (a dev server, a slow build) does not hide a turn end.
    check(lines.slice(0, firstStop), 'Waiting for it.', (l) => l.replace(/orchard-agent escalate \\"Which greeting\?\\" --option hello/g, 'npm run dev'));
  });

  it('agentStop without a readable transcript or payload still reports the turn end', () => {
    const { dir, r, argv } = relay('agentStop', 'not json');
    try {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(argv, ['hook', 'turn-end', '{}']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('notification: a permission prompt is needs-input with its message; a completion is not', () => {
    const perm = relay('notification', {
      message: 'Path permission needed: /etc/hostname',
      title: 'Permission needed',
      hook_event_name: 'Notification',
      notification_type: 'permission_prompt',
    });
    try {
      assert.deepEqual(perm.argv.slice(0, 2), ['hook', 'needs-input']);
      // The choices come from clis/copilot.ts notices (sent as the choice's number), not from the message.
      assert.equal(JSON.parse(perm.argv[2]!).message, 'Path permission needed: /etc/hostname');
      assert.ok(copilot.notices!.some((n) => new RegExp(n.pattern, 'i').test('Path permission needed: /etc/hostname')));
    } finally {
      fs.rmSync(perm.dir, { recursive: true, force: true });
    }
    const done = relay('notification', { message: 'Copilot finished', notification_type: 'agent_completed' });
    try {
      assert.equal(done.r.status, 0);
      assert.deepEqual(done.argv, []);
    } finally {
      fs.rmSync(done.dir, { recursive: true, force: true });
    }
  });
});
