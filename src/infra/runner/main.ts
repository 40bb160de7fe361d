// Orchard's runner: the process a VS Code terminal (or the headless launcher) starts. It
// starts the agent with its own stdio (the terminal's pty, so interactive agents work),
// records pid and a heartbeat in the run folder, writes the exit code, and exits with it.
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { runFiles, type RunSpec, type RunnerExit, type RunnerStatus } from './protocol';

const HEARTBEAT_MS = 2000;

function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

function main(): void {
  const runDir = process.argv[2];
  if (!runDir) {
    process.stderr.write('usage: runner <run folder>\n');
    process.exit(2);
  }
  const files = runFiles(runDir);
  const spec = JSON.parse(readFileSync(files.spec, 'utf8')) as RunSpec;
  const startedAt = Date.now();
  const [cmd, ...args] = spec.argv;
  const child = spawn(cmd!, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: 'inherit',
    shell: false,
  });
  const status: RunnerStatus = { runnerPid: process.pid, agentPid: child.pid, startedAt, heartbeatAt: startedAt };
  writeJson(files.status, status);
  const beat = setInterval(() => writeJson(files.status, { ...status, heartbeatAt: Date.now() }), HEARTBEAT_MS);

  let finished = false;
  const finish = (exit: RunnerExit): void => {
    if (finished) return;
    finished = true;
    clearInterval(beat);
    writeJson(files.exit, exit);
    process.exit(exit.exitCode ?? 1);
  };
  child.on('error', (err) => finish({ exitCode: 127, endedAt: Date.now(), error: `could not start ${cmd}: ${err.message}` }));
  child.on('exit', (code, signal) => finish({ exitCode: code, signal: signal ?? undefined, endedAt: Date.now() }));

  // Stopping the runner stops the agent: TERM first, KILL if it does not go.
  const stop = (sig: NodeJS.Signals): void => {
    if (!child.pid || child.exitCode !== null) return;
    child.kill(sig);
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGTERM'));
}

main();
