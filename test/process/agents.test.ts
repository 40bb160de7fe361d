// Agents end to end through openSession with real processes: ticket text never reaches a
// shell, orchard-agent (progress fractions, escalate --type/--context, lock, done), tokens,
// agent-status.json, Claude Code hooks, timeout with the process tree, misbehaving agents.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OrchardConfig } from '../../src/infra/config';
import type { AgentProfile } from '../../src/infra/agents/profiles';
import { progressPercent } from '../../src/infra/agentCli/main';
import { buildDist, cleanupRepos, DIST, makeRepo, pidAlive, sleep, waitFor, within } from '../helpers/repo';
import { openTestSession, spec } from '../helpers/session';

before(() => buildDist());
after(() => cleanupRepos());

function open(repo: string, config: Partial<OrchardConfig> = {}, profiles: Record<string, AgentProfile> = {}, launcher = {}) {
  return openTestSession(repo, { owner: 'agents test', config: { maxAgents: 3, ...config }, profiles, launcher });
}

const ended = (events: { type: string }[], runId: string) =>
  events.find((e) => e.type === 'run-ended' && (e as unknown as { runId: string }).runId === runId) as
    { outcome: string; message?: string; filesChanged?: string[] } | undefined;

function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += String(d)));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('exit', (code, sig) => {
      clearTimeout(t);
      resolve({ status: sig ? null : code, stderr });
    });
  });
}

/** A profile running a Node script (argv, no shell) with the prompt as its last argument. */
const nodeProfile = (name: string, script: string, extra: Partial<AgentProfile> = {}): AgentProfile => ({
  name,
  description: name,
  argv: [process.execPath, '-e', script, '{prompt}', '{ticketId}', '{branch}', '{worktree}'],
  ...extra,
});

describe('agents', { timeout: 600_000 }, () => {
  it('orchard-agent progress: 0..1 is a fraction, above 1 a percentage', () => {
    assert.equal(progressPercent('0.25'), 25);
    assert.equal(progressPercent('1'), 100);
    assert.equal(progressPercent('0'), 0);
    assert.equal(progressPercent('40'), 40);
    assert.equal(progressPercent('100'), 100);
    for (const bad of ['-0.1', '101', 'half', '', undefined]) assert.equal(progressPercent(bad), undefined, String(bad));
  });

  it('ticket text with $(…), ; rm -rf ~, backticks and quotes is one argv element and creates nothing', async () => {
    const r = makeRepo();
    const out = path.join(r.root, 'argv.jsonl');
    const texts = ['$(touch pwned)', '; rm -rf ~ ; touch pwned2', '`touch pwned3` "q" \'s\' && touch pwned4 | tee pwned5 > pwned6'];
    const w = await open(
      r.repo,
      { mode: 'isolation' },
      {
        echo: nodeProfile('echo', `require('fs').appendFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1)) + '\\n')`),
      },
    );
    await w.o.addTickets(texts.map((t, i) => spec(`I${i}`, { title: t, prompt: i === 2 ? `${t}\n$(touch pwned7)` : '', agent: 'echo', files: [] })));
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const lines = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.equal(lines.length, 3);
    for (const [i, t] of texts.entries()) {
      const argv = lines.find((a) => a[1] === `I${i}`)!;
      assert.equal(argv.length, 4, JSON.stringify(argv));
      assert.ok(argv[0]!.startsWith(t), `prompt arrived whole: ${argv[0]}`);
    }
    const find = spawnSync('find', [r.root, os.homedir(), process.cwd(), '-maxdepth', '4', '-name', 'pwned*'], { encoding: 'utf8' });
    assert.equal(find.stdout.trim(), '', 'no file was created by the ticket text');
    await w.close();
  });

  it('lock: granted for free files, refused naming the holder; requestLocks returns the same', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([
      spec('A', { prompt: '@hang', files: ['src/a/**'] }),
      spec('B', { prompt: '@lock src/a/x.ts\n@sleep 100', files: ['src/b.txt'] }),
      spec('C', { prompt: '@lock docs/**\n@sleep 100', files: ['src/c.txt'] }),
    ]);
    await w.o.start();
    await waitFor(() => !!ended(w.events, 'B-r1') && !!ended(w.events, 'C-r1'), 20_000, 'B and C');
    assert.match(fs.readFileSync(path.join(w.runDir('B-r1'), 'agent.log'), 'utf8'), /lock refused: src\/a\/\*\* is held by A/);
    assert.match(fs.readFileSync(path.join(w.runDir('C-r1'), 'agent.log'), 'utf8'), /fake-agent: lock locked docs\/\*\*/);
    assert.ok(w.events.some((e) => e.type === 'lock-acquired' && (e as { lock: { pattern: string; runId: string } }).lock.pattern === 'docs/**'));
    assert.deepEqual(await w.o.requestLocks('A-r1', ['src/a/**', 'lib/**']), { granted: true });
    const refused = await w.o.requestLocks('nope', ['x']);
    assert.equal(refused.granted, false);
    await w.close();
  });

  it('a token of one run acts on nothing of another run', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([spec('A', { prompt: '@hang' })]);
    await w.o.start();
    await waitFor(() => fs.existsSync(path.join(w.runDir('A-r1'), 'status.json')), 10_000, 'A to run');
    const env = { ...process.env, ORCHARD_RUN_DIR: w.runDir('A-r1'), ORCHARD_TOKEN: 'token-of-another-run' };
    const cli = path.join(DIST, 'orchard-agent.js');
    // Async: the launcher answering the requests runs in this process.
    const lock = await runAsync(process.execPath, [cli, 'lock', '--no-wait', 'src/**'], env);
    assert.equal(lock.status, 1);
    assert.match(lock.stderr, /does not carry this run's token/);
    await runAsync(process.execPath, [cli, 'progress', '0.9', 'forged'], env);
    const esc = await runAsync(process.execPath, [cli, 'escalate', '--context', 'forged?', '--option', 'x'], env, 1500);
    assert.equal(esc.status, null, 'a forged question waits forever: nobody takes it');
    await sleep(300);
    assert.ok(!w.events.some((e) => e.type === 'run-progress' && (e as { message?: string }).message === 'forged'));
    assert.equal(w.o.openEscalations().length, 0);
    assert.ok(!w.o.snapshot.locks.some((l) => l.pattern === 'src/**'));
    assert.ok(w.log.lines.some((l) => /does not carry this run's token/.test(l)));
    await w.close();
  });

  it('escalate --type --context --option blocks until answered and prints the guidance', async () => {
    const r = makeRepo();
    const out = path.join(r.root, 'answer.txt');
    const script = `const {execFileSync}=require('child_process');const fs=require('fs');
      const a=execFileSync('orchard-agent',['escalate','--type','security','--context','Store the key in the repo?','--option','yes','--option','no'],{encoding:'utf8'});
      fs.writeFileSync(${JSON.stringify(out)}, a); fs.writeFileSync('k.txt','k'); execFileSync('orchard-agent',['done','--summary','wrote k']);`;
    const w = await open(r.repo, {}, { ask: nodeProfile('ask', script) });
    await w.o.addTickets([spec('E', { agent: 'ask' })]);
    await w.o.start();
    await waitFor(() => w.o.openEscalations().length === 1, 10_000, 'the escalation');
    const e = w.o.openEscalations()[0]!;
    assert.equal(e.trigger, 'security');
    assert.equal(e.question, 'Store the key in the repo?');
    assert.deepEqual(e.options, ['yes', 'no']);
    assert.equal(w.o.ticket('E').status, 'escalated');
    await w.o.answer(e.id, { option: 'no', guidance: 'use the vault', by: 'test' } as never);
    await waitFor(() => !!ended(w.events, 'E-r1'), 10_000, 'the run to end');
    assert.equal(fs.readFileSync(out, 'utf8'), 'no\nuse the vault\n');
    assert.ok(w.events.some((e) => e.type === 'run-progress' && (e as { message?: string }).message === 'wrote k'));
    assert.equal(ended(w.events, 'E-r1')!.outcome, 'succeeded', 'uncommitted work was committed by Orchard');
    assert.equal(r.git('log', '-1', '--format=%s', 'orchard/E'), 'E: ticket E');
    await w.close();
  });

  it('agent-status.json is read through a watcher; a malformed one is reported and ignored; files come from git', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([
      spec('S', { prompt: '@status-file {"status":"working","progress":0.5,"filesChanged":["made/up.ts"]}\n@sleep 400' }),
      spec('M', { prompt: '@status-file {"status": working\n@sleep 400' }),
    ]);
    await w.o.start();
    await waitFor(() => !!ended(w.events, 'S-r1') && !!ended(w.events, 'M-r1'), 20_000, 'both runs');
    assert.ok(w.events.some((e) => e.type === 'run-progress' && (e as { runId: string }).runId === 'S-r1' && (e as { progress?: number }).progress === 50));
    assert.ok(w.events.some((e) => e.type === 'run-progress' && (e as { message?: string }).message?.startsWith('agent-status.json ignored: not JSON')));
    assert.ok(w.log.lines.some((l) => /M-r1: agent-status.json ignored/.test(l)));
    const files = ended(w.events, 'S-r1')!.filesChanged!;
    assert.deepEqual(files, ['src/S.txt'], 'from git: not the agent’s claim, and agent-status.json is never committed');
    await w.close();
  });

  it("other CLIs: the profile's needs-input pattern on the run's output raises an escalation", async () => {
    const r = makeRepo();
    const script = `console.log('Apply these edits to src/x.ts? (y/n)'); setTimeout(() => { require('fs').writeFileSync('y.txt','y'); }, 800);`;
    const w = await open(r.repo, {}, { asker: nodeProfile('asker', script, { needsInputPatterns: ['\\(y/n\\)'] }) });
    await w.o.addTickets([spec('Q', { agent: 'asker' })]);
    await w.o.start();
    await waitFor(() => !!ended(w.events, 'Q-r1'), 15_000, 'the run');
    const raised = w.events.find((e) => e.type === 'escalation-raised') as unknown as { escalation: { question: string; trigger: string } } | undefined;
    assert.equal(raised?.escalation.trigger, 'input-needed');
    assert.match(raised!.escalation.question, /asker is waiting for input: Apply these edits to src\/x\.ts\? \(y\/n\)/);
    await w.close();
  });

  it('cost and tokens printed by the CLI are parsed from the run log (profile usage parser)', async () => {
    const r = makeRepo();
    const script = `require('fs').writeFileSync('u.txt','u'); console.log('[ts] codex\\ndone\\ntokens used\\n12,345');`;
    const w = await open(r.repo, {}, { codexish: nodeProfile('codexish', script, { usage: 'codex' }) });
    await w.o.addTickets([spec('U', { agent: 'codexish' })]);
    await w.o.start();
    await waitFor(() => !!ended(w.events, 'U-r1'), 15_000, 'the run');
    const u = w.events.find((e) => e.type === 'run-usage') as unknown as { usage: { inputTokens?: number } } | undefined;
    assert.equal(u?.usage.inputTokens, 12345);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(w.runDir('U-r1'), 'usage.json'), 'utf8')), { tokens: 12345 });
    await w.close();
  });

  it('Claude Code: Notification and Stop hooks in .claude/settings.local.json reach Orchard without screen scraping', async () => {
    const r = makeRepo();
    const script = `const fs=require('fs');const {execSync}=require('child_process');
      const s=JSON.parse(fs.readFileSync('.claude/settings.local.json','utf8'));
      execSync(s.hooks.Notification[0].hooks[0].command,{input:JSON.stringify({hook_event_name:'Notification',message:'Claude needs your permission to use Bash'})});
      fs.writeFileSync('c.txt','c');
      execSync(s.hooks.Stop[0].hooks[0].command,{input:'{}'});`;
    const w = await open(r.repo, {}, { claudeish: nodeProfile('claudeish', script, { hooks: 'claude' }) });
    await w.o.addTickets([spec('H', { agent: 'claudeish' })]);
    await w.o.start();
    await waitFor(() => !!ended(w.events, 'H-r1'), 15_000, 'the run');
    assert.ok(
      w.events.some(
        (e) =>
          e.type === 'escalation-raised' &&
          (e as { escalation: { question: string; trigger: string } }).escalation.question === 'Claude needs your permission to use Bash',
      ),
    );
    // Headless, the turn's end is the process's exit; the Stop hook's line is recorded for an interactive session.
    assert.match(fs.readFileSync(path.join(w.runDir('H-r1'), 'progress.jsonl'), 'utf8'), /"turnEnded":true/);
    const committed = r.git('show', '--name-only', '--format=', 'orchard/H');
    assert.ok(committed.includes('c.txt') && !committed.includes('.claude'), committed);
    await w.close();
  });

  it("an agent working in the user's checkout is caught within seconds, stopped and reported; nothing of the user's is touched", async () => {
    const r = makeRepo();
    fs.writeFileSync(path.join(r.repo, 'mine.txt'), 'my uncommitted work\n');
    const w = await open(r.repo, {}, {}, { killGraceMs: 500 });
    await w.o.addTickets([spec('O', { prompt: '@work-in-checkout' })]);
    const t0 = Date.now();
    await w.o.start();
    try {
      await waitFor(() => !!ended(w.events, 'O-r1') && w.o.ticket('O').status !== 'running', 15_000, 'the run to be stopped');
    } finally {
      await w.close();
    }
    assert.ok(Date.now() - t0 < 15_000);
    const t = w.o.ticket('O');
    assert.equal(t.status, 'failed', 'not retried: a retry would work in the checkout again');
    assert.match(t.reason ?? '', /worked in your checkout \(.*\), outside its worktree/);
    // The user's files are as they were (Orchard neither reverts nor deletes anything there).
    assert.equal(fs.readFileSync(path.join(r.repo, 'mine.txt'), 'utf8'), 'my uncommitted work\n');
    assert.ok(fs.existsSync(path.join(r.repo, 'agent-in-checkout.txt')), "the agent's stray file is left for the user to see");
  });

  it('timeout: the whole process tree is stopped, partial work kept on a WIP ref, worktree kept', async () => {
    const r = makeRepo();
    const w = await open(r.repo, {}, {}, { killGraceMs: 1000 });
    // 7 s: long enough for the agent to start and spawn its child on a loaded machine.
    await w.o.addTickets([spec('T', { prompt: '@spawn-child\n@write partial.txt\n@hang', timeoutMinutes: 0.12 } as never)]);
    await w.o.start();
    // The file exists a moment before the agent's write fills it: wait for the pid, not the file.
    const pidFile = path.join(w.runDir('T-r1'), 'grandchild.pid');
    const pidIn = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0);
    await waitFor(() => pidIn() > 0, 10_000, "the grandchild's pid");
    const grandchild = pidIn();
    // Alive until the timeout (on a loaded machine the timeout may already have come by now).
    assert.ok(pidAlive(grandchild) || !!ended(w.events, 'T-r1'), 'the grandchild lives while the run does');
    await waitFor(() => !!ended(w.events, 'T-r1'), 15_000, 'the timeout');
    assert.equal(ended(w.events, 'T-r1')!.outcome, 'timeout');
    await waitFor(() => !pidAlive(grandchild), 5000, 'the grandchild to be gone');
    assert.ok(r.git('rev-parse', 'refs/orchard/wip/T/1'));
    assert.ok(fs.existsSync(w.s.workspace.worktreePath('T')), 'the worktree is kept');
    // The ticket's move (and its reason) is committed after the run's end: awaited, not assumed.
    await waitFor(() => w.o.ticket('T').status !== 'running', 15_000, "the ticket's move after the timeout");
    assert.match(w.o.ticket('T').reason ?? '', /timed out.*refs\/orchard\/wip\/T\/1/);
    await w.close();
  });

  it('an agent that loops printing output, deletes its worktree or moves the target branch is caught; nothing is lost', async () => {
    const r = makeRepo();
    const mainBefore = r.git('rev-parse', 'main');
    const w = await open(r.repo, { mode: 'isolation' }, {}, { maxLogBytes: 200_000, killGraceMs: 500 });
    await w.o.addTickets([spec('L', { prompt: '@loop' }), spec('D', { prompt: '@delete-worktree' }), spec('G', { prompt: '@commit-to-target main' })]);
    await w.o.start();
    await waitFor(() => ['L-r1', 'D-r1', 'G-r1'].every((id) => ended(w.events, id)), 30_000, 'all three');
    assert.match(ended(w.events, 'L-r1')!.message ?? '', /looped printing output/);
    assert.equal(ended(w.events, 'L-r1')!.outcome, 'failed');
    assert.match(ended(w.events, 'D-r1')!.message ?? '', /deleted its worktree/);
    assert.match(ended(w.events, 'G-r1')!.message ?? '', /changed the target branch main directly/);
    const stray = r.git('rev-parse', 'refs/orchard/target/G/1');
    assert.equal(r.git('show', `${stray}:stray.txt`), 'stray');
    assert.notEqual(r.git('rev-parse', 'main'), mainBefore, 'Orchard does not move main back (it might hold the user’s work)');
    await w.close();
  });

  it('an agent that deletes its worktree and its run folder is stopped by signal; the orchestrator does not crash', async () => {
    const r = makeRepo();
    // Deletes both, then hangs: the stop request cannot be written, so the stop goes by signal.
    const script = `const fs = require('fs'); fs.rmSync(process.argv.at(-1), { recursive: true, force: true }); fs.rmSync(process.env.ORCHARD_RUN_DIR, { recursive: true, force: true }); setInterval(() => {}, 1000);`;
    const w = await open(r.repo, { mode: 'isolation', defaultAgent: 'wreck' }, { wreck: nodeProfile('wreck', script) }, { killGraceMs: 300 });
    const crashes: unknown[] = [];
    const onCrash = (e: unknown) => crashes.push(e);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    try {
      await w.o.addTickets([spec('W', { prompt: 'wreck it' })]);
      await w.o.start();
      await waitFor(() => !!ended(w.events, 'W-r1'), 30_000, 'W-r1 to end');
      assert.match(ended(w.events, 'W-r1')!.message ?? '', /deleted its worktree/);
      assert.deepEqual(crashes, [], 'no uncaught exception while stopping');
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      await w.close();
    }
  });
});
