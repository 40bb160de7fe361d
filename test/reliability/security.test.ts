// Security at the edges: escalation answers, run tokens, webview messages, secrets and bad
// settings at the point of use. Covered elsewhere, not repeated here:
//   - a forged token acts on nothing of a run: test/unit/agents.test.ts "a token of one run acts on nothing of another run"
//   - an untrusted workspace runs nothing: `npm run test:untrusted` (test/e2e/untrusted.mjs, a real VS Code host)
//   - an env key through the CLI is nowhere in state/logs/status/report: test/reliability/stateAndWriters.test.ts
//   - bad config.json values name the field: test/unit/cli.test.ts, test/reliability/badInput.test.ts
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OrchardConfig } from '../../src/infra/config';
import type { AgentProfile } from '../../src/infra/agents/profiles';
import { LIMITS, parseWebviewMessage } from '../../src/shared/protocol';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, DIST, makeRepo, quietLog, waitFor, within } from '../helpers/repo';
import { openTestSession, spec } from '../helpers/session';
import { cliSync, count, printFigures, rng, stateDir } from './helpers';

before(() => buildDist());
after(() => {
  cleanupRepos();
  printFigures('security');
});

function open(repo: string, config: Partial<OrchardConfig> = {}, profiles: Record<string, AgentProfile> = {}, agentEnv: Record<string, string> = {}) {
  return openTestSession(repo, { owner: 'security test', config, profiles, agentEnv });
}

const nodeProfile = (name: string, script: string): AgentProfile => ({ name, description: name, argv: [process.execPath, '-e', script, '{prompt}'] });

describe('security', { timeout: 600_000 }, () => {
  it('a run cannot answer its own escalation; a human can, and the agent resumes', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([spec('Q', { prompt: '@ask proceed?' })]);
    await w.o.start();
    await waitFor(() => w.o.openEscalations().length === 1, 20_000, 'the question');
    const e = w.o.openEscalations()[0]!;
    await assert.rejects(w.o.answer(e.id, { by: e.askedBy!, option: 'yes' }), /cannot answer|itself|own/i);
    assert.equal(w.o.openEscalations().length, 1, 'still open');
    await w.o.answer(e.id, { by: 'human', option: 'yes' });
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('Q').status, 'done', w.o.ticket('Q').reason);
    await w.close();
    count('security', true);
  });

  it("one run's real token used on another run's folder: its done, lock and progress are ignored", async () => {
    const r = makeRepo();
    // B is hostile: it aims orchard-agent, with its own valid token, at A's run folder.
    const hostile = `const {execFileSync}=require('child_process');const path=require('path');const fs=require('fs');
      const other=path.join(path.dirname(process.env.ORCHARD_RUN_DIR),'A-r1');
      const env={...process.env,ORCHARD_RUN_DIR:other};
      const go=(a)=>{try{return execFileSync('orchard-agent',a,{env,encoding:'utf8',stdio:['ignore','pipe','pipe'],timeout:5000})}catch(e){return 'refused: '+String(e.stderr||e.message)}};
      console.log('progress', go(['progress','0.99','stolen']));
      console.log('lock', go(['lock','--no-wait','secret/**']));
      console.log('done', go(['done','stolen done']));
      fs.writeFileSync(path.join(process.env.ORCHARD_RUN_DIR,'hostile.done'),'1');`;
    const w = await open(r.repo, {}, { hostile: nodeProfile('hostile', hostile) });
    await w.o.addTickets([spec('A', { prompt: '@hang' }), spec('B', { agent: 'hostile' } as never)]);
    await w.o.start();
    await waitFor(() => fs.existsSync(path.join(w.runDir('B-r1'), 'hostile.done')), 30_000, 'the hostile agent');
    // What is awaited: the refusal in B's log and the launcher's; then nothing forged may have landed.
    await waitFor(
      () => /lock refused: .*does not carry this run's token/.test(fs.readFileSync(path.join(w.runDir('B-r1'), 'agent.log'), 'utf8')),
      30_000,
      "the lock refusal in B's agent.log",
    );
    await waitFor(
      () => w.log.lines.some((l) => /ignored .* in .*A-r1: it does not carry this run's token/.test(l)),
      30_000,
      'the launcher logging the forged requests as ignored',
    );
    const aEvents = w.events.filter((e) => (e as { runId?: string }).runId === 'A-r1');
    assert.ok(!aEvents.some((e) => e.type === 'run-progress' && /stolen/.test(JSON.stringify(e))), 'no forged progress on A');
    assert.ok(!w.o.snapshot.locks.some((l) => l.pattern === 'secret/**'), 'no lock taken for A');
    assert.equal(w.o.ticket('A').status, 'running', 'A is not marked done');
    assert.match(fs.readFileSync(path.join(w.runDir('B-r1'), 'agent.log'), 'utf8'), /lock refused: .*does not carry this run's token/);
    assert.ok(w.log.lines.some((l) => /ignored .* in .*A-r1: it does not carry this run's token/.test(l)));
    // There is no orchard-agent verb to release a lock: a run's locks go only when its run ends.
    await w.close();
    count('security', true);
  });

  it('the webview parser: 1,000 random and malformed messages never throw; every malformed one is rejected', () => {
    const g = rng(4242);
    const junk = (depth = 0): unknown => {
      const k = g.int(0, depth > 2 ? 6 : 8);
      const gen = [
        () => null,
        () => g.int(-5, 5) + g.next(),
        () => 'x'.repeat(g.int(0, 3)),
        () => true,
        () => NaN,
        () => Infinity,
        () => -1,
        () => [junk(depth + 1)],
        () => JSON.parse(`{"${g.pick(['type', 'id', 'kind', '__proto__', 'constructor'])}": ${JSON.stringify(junk(depth + 1)) ?? 'null'}}`) as unknown,
      ];
      return gen[k]!();
    };
    const valid: Record<string, unknown>[] = [
      { type: 'ready', protocol: 1, lastVersion: 3 },
      { type: 'request', id: 2, request: { kind: 'answerEscalation', escalationId: 'e1', option: 'yes', guidance: 'ok' } },
      { type: 'request', id: 3, request: { kind: 'cancelTicket', ticketId: 'T1' } },
      { type: 'rendered', version: 1, eventAt: 2, visibleAt: 3, renderMs: 4 },
      { type: 'select', ticketId: 'T1' },
    ];
    // A bad value for each required field, by what the field holds.
    const badInt = [-1, 1.5, NaN, Infinity, '1', null, {}, [], true, 2 ** 60];
    const badNum = [NaN, Infinity, -Infinity, '1', null, {}, [], false];
    const badId = ['', 'x'.repeat(LIMITS.id + 1), 5, null, {}, [], true];
    const breakOne = (m: Record<string, unknown>): unknown => {
      const c = structuredClone(m) as Record<string, unknown>;
      const req = c.request as Record<string, unknown> | undefined;
      const choice = g.int(0, 3);
      if (choice === 0) return { ...c, type: g.pick(['Ready', 'run', '', 'request ', 'rendered\u0000', 7, null]) };
      if (choice === 1 && req) return { ...c, request: { ...req, kind: g.pick(['runShell', 'eval', 'answerescalation', '', 1]) } };
      switch (c.type) {
        case 'ready':
          return g.next() < 0.5 ? { ...c, protocol: g.pick(badInt) } : { ...c, lastVersion: g.pick(badInt) };
        case 'request':
          if (g.next() < 0.3) return { ...c, id: g.pick(badInt) };
          if (g.next() < 0.2) return { ...c, request: g.pick([null, 'x', [], 3]) };
          if (req!.kind === 'answerEscalation') {
            const f = g.pick(['escalationId', 'option', 'guidance']);
            const bad = f === 'escalationId' ? g.pick(badId) : g.pick([3, {}, [], true, 'x'.repeat((f === 'option' ? LIMITS.option : LIMITS.guidance) + 1)]);
            return { ...c, request: { ...req, [f]: bad } };
          }
          return { ...c, request: { ...req, ticketId: g.pick(badId) } };
        case 'rendered': {
          const f = g.pick(['version', 'eventAt', 'visibleAt', 'renderMs']);
          return { ...c, [f]: f === 'version' ? g.pick(badInt) : g.pick(badNum) };
        }
        default:
          return { ...c, ticketId: g.pick(badId) };
      }
    };
    let malformed = 0;
    let accepted = 0;
    for (let i = 0; i < 1000; i++) {
      const kind = i % 4;
      let m: unknown;
      if (kind === 0) m = junk();
      else if (kind === 1) m = breakOne(g.pick(valid));
      else if (kind === 2) m = { ...g.pick(valid), [g.pick(['evil', 'command', 'argv'])]: junk() };
      else
        m = JSON.parse(
          JSON.stringify({
            type: g.pick(['ready', 'request', 'rendered', 'select', 'resync', 'nope']),
            id: junk(),
            request: junk(),
            ticketId: junk(),
            protocol: junk(),
          }) ?? 'null',
        );
      let out: ReturnType<typeof parseWebviewMessage>;
      assert.doesNotThrow(() => (out = parseWebviewMessage(m)), JSON.stringify(m));
      if (kind === 1) {
        malformed++;
        assert.equal(out!, undefined, `accepted a malformed message: ${JSON.stringify(m)}`);
      }
      if (out!) {
        accepted++;
        // What is accepted is well formed: parsing it again gives the same, with no field it does not know.
        assert.deepEqual(parseWebviewMessage(out), out);
        assert.ok(!('evil' in out) && !('command' in out) && !('argv' in out), JSON.stringify(out));
      }
    }
    assert.equal(malformed, 250);
    console.log(`[reliability] webview fuzz: 1000 messages, ${malformed} malformed by construction all rejected, ${accepted} accepted and well formed`);
    count('security', true);
  });

  it("a secret in the agents' environment, printed by a failing agent, is not in Orchard's own files or output", async () => {
    const key = 'sk-test-123456';
    const r = makeRepo();
    const leaky = nodeProfile('leaky', `console.log(JSON.stringify(process.env)); console.error('FAKE_KEY=' + process.env.FAKE_KEY); process.exit(1)`);
    // In Orchard's own environment (as a user's shell would have it), inherited by runner and agent.
    // (The launcher's `env` option, used by tests and the demo only, is written into runs/*/spec.json.)
    process.env.FAKE_KEY = key;
    const w = await open(r.repo, { maxRetries: 1 }, { leaky });
    await w.o.addTickets([spec('S', { agent: 'leaky' } as never), spec('OK', { prompt: '@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('S').status, 'failed');
    assert.ok(fs.readFileSync(path.join(w.runDir('S-r1'), 'agent.log'), 'utf8').includes(key), "the agent's own log is the agent's business");
    await w.close();
    delete process.env.FAKE_KEY;
    const hits: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && e.name !== 'agent.log' && fs.readFileSync(p).includes(key)) hits.push(p);
      }
    };
    walk(stateDir(r.repo));
    for (const args of [['status', '--json'], ['report'], ['status']]) {
      const out = cliSync(r.repo, args);
      if ((out.out + out.err).includes(key)) hits.push(`orchard ${args.join(' ')}`);
    }
    assert.deepEqual(hits, []);
    count('security', true);
  });

  it('bad settings at the point of use: negative agents, an unknown profile, a gate command that does not exist', async () => {
    const r = makeRepo();
    // Negative agents (a VS Code setting or override): refused when the session opens, naming it.
    await assert.rejects(
      loadSrc().openSession({ cwd: r.repo, owner: 'security test', distDir: DIST, log: quietLog(), config: { defaultAgent: 'fake', maxAgents: -1 } }),
      /maxAgents is -1; use a whole number from 1 to 64/,
    );
    fs.mkdirSync(stateDir(r.repo), { recursive: true });
    fs.writeFileSync(path.join(stateDir(r.repo), 'config.json'), JSON.stringify({ maxAgents: -2 }));
    const cli = cliSync(r.repo, ['status']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.err, /config\.json: maxAgents is -2; use a whole number from 1 to 64/);
    fs.rmSync(path.join(stateDir(r.repo), 'config.json'));

    const w = await open(r.repo, { gates: [{ name: 'lint', kind: 'command', argv: ['no-such-linter-xyz', '--check'], timeoutSeconds: 20 }] });
    await w.o.addTickets([spec('P', { agent: 'nosuch' } as never), spec('G', { prompt: '@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const p = w.o.ticket('P');
    assert.equal(p.status, 'failed');
    assert.match(p.reason ?? '', /Unknown agent profile "nosuch"; use one of .*fake.*or define it in orchard\.agentProfiles/);
    const gt = w.o.ticket('G');
    assert.equal(gt.status, 'failed');
    assert.match(gt.reason ?? '', /gate lint could not run/);
    assert.match(gt.handoff ?? '', /ENOENT: no-such-linter-xyz/);
    assert.ok(r.git('rev-parse', 'orchard/G'), "the agent's work stays on its branch");
    await w.close();
    count('security', true);
  });
});
