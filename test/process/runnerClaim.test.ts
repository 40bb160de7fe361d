// The claim handshake between a restarted Orchard and a runner that was still starting when
// the old Orchard died: exactly one of them gets the run. Orchard giving a run up means its
// runner never starts the agent (no two agents in one worktree); a runner that got there first
// is adopted while it starts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, it } from 'node:test';
import type { Run } from '../../src/core/model';
import type { AgentLauncher } from '../../src/infra/agents/launcher';
import { loadSrc } from '../helpers/bundle';
import { buildDist, DIST, quietLog } from '../helpers/repo';

before(() => buildDist());
const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A run folder as the launcher writes it, for an "agent" that leaves a marker file. */
function runFolder(id: string): { stateDir: string; dir: string; marker: string; run: Run; launcher: AgentLauncher } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-claim-'));
  roots.push(root);
  const stateDir = path.join(root, 'state');
  const dir = path.join(stateDir, 'runs', id);
  fs.mkdirSync(dir, { recursive: true });
  const marker = path.join(root, 'agent-ran');
  const spec = {
    runId: id,
    ticketId: 'T',
    argv: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`],
    cwd: root,
    env: {},
  };
  fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  fs.writeFileSync(path.join(dir, 'token.sha256'), 'x');
  const launcher = new (loadSrc().AgentLauncher)({
    stateDir,
    distDir: DIST,
    host: new (loadSrc().HeadlessRunnerHost)(),
    defaultProfile: 'fake',
    log: quietLog(),
    pollMs: 20,
  }) as AgentLauncher;
  const run: Run = { id, ticketId: 'T', slot: 1, attempt: 1, branch: 'orchard/T', worktree: root, startedAt: Date.now() };
  return { stateDir, dir, marker, run, launcher };
}

const runner = (dir: string) => spawnSync(process.execPath, [path.join(DIST, 'runner.js'), dir], { encoding: 'utf8', timeout: 20_000 });

it('a run given up by the restarted Orchard (no runner seen yet): the late runner does not start its agent', () => {
  const f = runFolder('T-r1');
  assert.equal(f.launcher.adopt(f.run), undefined, 'not adopted: nothing runs it');
  assert.ok(fs.existsSync(path.join(f.dir, 'claimed')));
  const late = runner(f.dir);
  assert.equal(late.status, 3, late.stderr);
  assert.match(late.stderr, /given up by Orchard; not starting the agent/);
  assert.equal(fs.existsSync(f.marker), false, 'the agent never ran');
});

it('a runner that claimed the run first is adopted while it starts, and its exit is read', async () => {
  const f = runFolder('T-r2');
  const r = runner(f.dir); // claims, runs the agent to its end, writes exit.json
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(f.marker, 'utf8'), 'ran');
  fs.rmSync(path.join(f.dir, 'exit.json'));
  fs.rmSync(path.join(f.dir, 'status.json'), { force: true });
  // As Orchard sees a runner between its claim and its first status: adopted, not given up.
  const h = f.launcher.adopt(f.run);
  assert.ok(h, 'adopted');
  fs.writeFileSync(path.join(f.dir, 'exit.json'), JSON.stringify({ exitCode: 0, endedAt: Date.now() }));
  const exit = await h!.exited;
  assert.equal(exit.exitCode, 0);
});

it(
  "a status whose runner pid now belongs to another process (pid reuse) is not adopted; the real runner's is",
  { skip: !fs.existsSync('/proc/self/stat') },
  () => {
    const f = runFolder('T-r3');
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    try {
      const stat = fs.readFileSync(`/proc/${other.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      const status = (startToken: string) =>
        fs.writeFileSync(path.join(f.dir, 'status.json'), JSON.stringify({ runnerPid: other.pid, startToken, startedAt: Date.now(), heartbeatAt: Date.now() }));
      status(`${start}0`);
      assert.equal(f.launcher.adopt(f.run), undefined, 'a reused pid is not the runner');
      status(start);
      const h = f.launcher.adopt(f.run);
      assert.ok(h, 'the same process is adopted');
      void h!.stop('test over');
    } finally {
      other.kill('SIGKILL');
    }
  },
);
