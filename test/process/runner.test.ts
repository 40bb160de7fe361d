// dist/runner.js started directly on a run folder.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDist, DIST, pidAlive, waitFor } from '../helpers/repo';

before(() => buildDist());
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function runDir(argv: string[], env: Record<string, string> = {}): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-runner-'));
  dirs.push(d);
  fs.writeFileSync(path.join(d, 'spec.json'), JSON.stringify({ runId: 'R-r1', ticketId: 'R', argv, cwd: d, env }));
  return d;
}
function startRunner(dir: string) {
  const child = spawn(process.execPath, [path.join(DIST, 'runner.js'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, exited };
}
const readJson = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

describe('runner', { timeout: 600_000 }, () => {
  it('records the agent exit code in exit.json and exits with it', async () => {
    const d = runDir([process.execPath, '-e', 'process.exit(7)']);
    const { exited } = startRunner(d);
    assert.deepEqual(await exited, { code: 7, signal: null });
    const exit = readJson(path.join(d, 'exit.json'));
    assert.equal(exit.exitCode, 7);
    assert.equal(typeof exit.endedAt, 'number');
    const status = readJson(path.join(d, 'status.json'));
    assert.ok(status.runnerPid > 0 && status.agentPid > 0);
  });

  it('passes spec.env and cwd to the agent, argv untouched by any shell', async () => {
    const out = path.join(os.tmpdir(), `orchard-runner-out-${process.pid}.json`);
    const weird = '$(touch PWNED_RUNNER) `id` ; "q"';
    const d = runDir(
      [
        process.execPath,
        '-e',
        'require("fs").writeFileSync(process.argv[1], JSON.stringify({a: process.argv[2], e: process.env.MY_VAR, cwd: process.cwd()}))',
        out,
        weird,
      ],
      { MY_VAR: 'v1' },
    );
    const { exited } = startRunner(d);
    assert.equal((await exited).code, 0);
    const got = readJson(out);
    fs.rmSync(out, { force: true });
    assert.deepEqual(got, { a: weird, e: 'v1', cwd: fs.realpathSync(d) });
    assert.equal(fs.existsSync(path.join(d, 'PWNED_RUNNER')), false);
  });

  it('an agent that cannot start: exit.json says so, exit code 127', async () => {
    const d = runDir(['/nonexistent/agent-binary', 'x']);
    const { exited } = startRunner(d);
    assert.equal((await exited).code, 127);
    const exit = readJson(path.join(d, 'exit.json'));
    assert.equal(exit.exitCode, 127);
    assert.match(exit.error, /could not start \/nonexistent\/agent-binary/);
  });

  it('SIGTERM to the runner stops a sleeping agent', async () => {
    const d = runDir([process.execPath, '-e', 'setTimeout(() => {}, 60000)']);
    const { child, exited } = startRunner(d);
    await waitFor(() => fs.existsSync(path.join(d, 'status.json')), 5000, 'status.json');
    const { agentPid } = readJson(path.join(d, 'status.json'));
    assert.ok(pidAlive(agentPid));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const r = await exited;
    assert.ok(Date.now() - t0 < 4000, 'stopped with TERM, not after the KILL grace period');
    assert.notEqual(r.code, 0);
    const exit = readJson(path.join(d, 'exit.json'));
    assert.equal(exit.signal, 'SIGTERM');
    await waitFor(() => !pidAlive(agentPid), 3000, 'the agent to be gone');
  });

  it('a SIGTERM at any moment of the start leaves no agent behind', async () => {
    // The runner registered its handlers only after spawning the agent and writing status.json:
    // a TERM in between ended the runner at once and the agent ran on (1 of 40 of these on an
    // idle machine). Each try signals at a different moment of the start.
    const orphans: number[] = [];
    for (let i = 0; i < 40; i++) {
      const pidFile = path.join(os.tmpdir(), `orchard-runner-early-${process.pid}-${i}.txt`);
      const d = runDir([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`]);
      const { child, exited } = startRunner(d);
      await new Promise((r) => setTimeout(r, 5 + ((i * 7) % 100)));
      child.kill('SIGTERM');
      await exited;
      // An agent the runner left running writes its pid soon after; one it stopped never does again.
      for (let t = 0; t < 15 && !fs.existsSync(pidFile); t++) await new Promise((r) => setTimeout(r, 20));
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
      fs.rmSync(pidFile, { force: true });
      if (pid && pidAlive(pid)) {
        orphans.push(pid);
        process.kill(pid, 'SIGKILL');
      }
    }
    assert.deepEqual(orphans, [], 'agents left running by a runner stopped while it started');
  });

  it("stopping the runner stops the agent's whole process tree (TERM, then KILL for what ignores it)", async () => {
    const pidFile = path.join(os.tmpdir(), `orchard-runner-tree-${process.pid}.txt`);
    const script = `const {spawn}=require('child_process');
      const c=spawn(process.execPath,['-e','process.on("SIGTERM",()=>{});setInterval(()=>{},1000)'],{stdio:'ignore'});
      require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(()=>{},1000);`;
    const d = runDir([process.execPath, '-e', script]);
    fs.writeFileSync(path.join(d, 'spec.json'), JSON.stringify({ ...readJson(path.join(d, 'spec.json')), killGraceMs: 500 }));
    const { child, exited } = startRunner(d);
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').length > 0, 5000, 'the grandchild');
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    fs.rmSync(pidFile, { force: true });
    assert.ok(pidAlive(grandchild));
    child.kill('SIGTERM');
    await exited;
    await waitFor(() => !pidAlive(grandchild), 4000, 'the grandchild (which ignores TERM) to be killed');
  });

  it("the token comes from a file the runner deletes, into the agent's environment only", async () => {
    const out = path.join(os.tmpdir(), `orchard-runner-token-${process.pid}.txt`);
    const d = runDir([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.ORCHARD_TOKEN || '')`]);
    fs.writeFileSync(path.join(d, 'token'), 'secret-token');
    const { exited } = startRunner(d);
    assert.equal((await exited).code, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), 'secret-token');
    fs.rmSync(out, { force: true });
    assert.equal(fs.existsSync(path.join(d, 'token')), false);
    assert.ok(!fs.readFileSync(path.join(d, 'spec.json'), 'utf8').includes('secret-token'));
  });

  it('a runner whose run folder is deleted stops its agent (no orphan after a repository is removed)', async () => {
    const d = runDir([process.execPath, '-e', 'setInterval(() => {}, 1000)']);
    const { exited } = startRunner(d);
    await waitFor(() => fs.existsSync(path.join(d, 'status.json')), 5000, 'status.json');
    const { agentPid } = readJson(path.join(d, 'status.json'));
    fs.rmSync(d, { recursive: true, force: true });
    await exited;
    await waitFor(() => !pidAlive(agentPid), 8000, 'the agent to be gone');
  });
});
