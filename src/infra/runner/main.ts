// Orchard's runner: the process a VS Code terminal (or the headless launcher) starts. It
// starts the agent with its own stdio (the terminal's pty, so interactive agents work; the
// run's log file when headless), records pid and a heartbeat in the run folder, writes the
// exit code, and exits with it. Stopping the runner stops the agent's whole process tree.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { HEARTBEAT_MS, runFiles, takeClaim, type RunSpec, type RunnerExit, type RunnerStatus } from './protocol';
import { descendants, processStartToken } from '../process';

function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* already gone */
    }
  }
}

function main(): void {
  const runDir = process.argv[2];
  if (!runDir) {
    process.stderr.write('usage: runner <run folder>\n');
    process.exit(2);
  }
  // Stop signals are caught from the start. Until a handler is registered a SIGTERM ends the
  // runner at once, leaving its agent running with no exit.json: a stop that came just after
  // status.json named the agent was lost that way. main() runs to its end before any handler
  // does, so `stop` (below) is defined by then.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGTERM'));
  const files = runFiles(runDir);
  const spec = JSON.parse(readFileSync(files.spec, 'utf8')) as RunSpec;
  let token: string | undefined;
  try {
    token = readFileSync(files.token, 'utf8').trim();
    rmSync(files.token, { force: true });
  } catch {
    /* a run without a token file: spec.env may carry it (older launchers) */
  }
  if (!spec.cwd) {
    // An agent without its worktree would run wherever the runner was started.
    process.stderr.write(`runner: ${spec.runId} has no worktree; not starting the agent\n`);
    process.exit(2);
  }
  // An agent works only in its worktree: cwd and PWD both (OpenCode follows $PWD, not its cwd).
  if (!existsSync(spec.cwd) || (spec.env.PWD !== undefined && spec.env.PWD !== spec.cwd)) {
    process.stderr.write(`runner: ${spec.runId}: the worktree ${spec.cwd} is missing or PWD (${spec.env.PWD}) is not it; not starting the agent\n`);
    process.exit(2);
  }
  // Orchard restarted before this runner showed up and gave the run up (it is retried in a new
  // run): starting the agent now would put two agents in one worktree.
  if (!takeClaim(files.claim)) {
    process.stderr.write(`runner: ${spec.runId} was given up by Orchard; not starting the agent\n`);
    process.exit(3);
  }
  const startedAt = Date.now();
  const [cmd, ...args] = spec.argv;
  const child = spawn(cmd!, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env, PWD: spec.cwd, ...(token && { ORCHARD_TOKEN: token }) },
    stdio: 'inherit',
    shell: false,
  });
  const startToken = processStartToken(process.pid);
  const status: RunnerStatus = { runnerPid: process.pid, ...(startToken && { startToken }), agentPid: child.pid, startedAt, heartbeatAt: startedAt };
  writeJson(files.status, status);
  const beat = setInterval(() => {
    // The run folder is gone (repository deleted, temp folder cleaned): nobody will read this run.
    if (!existsSync(runDir)) return stop('SIGTERM');
    try {
      writeJson(files.status, { ...status, heartbeatAt: Date.now() });
    } catch {
      /* a full disk or a vanishing folder must not kill the runner (and orphan the agent) */
    }
  }, HEARTBEAT_MS);

  let finished = false;
  let stopSignal: string | undefined;
  const finish = (exit: RunnerExit): void => {
    if (finished) return;
    finished = true;
    clearInterval(beat);
    try {
      writeJson(files.exit, { ...exit, signal: exit.signal ?? stopSignal });
    } catch {
      /* the run folder is gone */
    }
    const code = exit.exitCode ?? 1;
    if (!spec.keepOpen || !process.stdin.isTTY) process.exit(code);
    // A VS Code terminal closes when its process exits 0: the agent's screen stays readable
    // until the user presses a key or closes the terminal, as VS Code's own tasks do.
    process.stdout.write(
      `\r\n\u001b[2m── Orchard: the agent's session ended (${exit.error ?? (exit.exitCode === null ? `signal ${exit.signal ?? stopSignal ?? '?'}` : `exit ${exit.exitCode}`)}). Press any key to close this terminal. ──\u001b[0m\r\n`,
    );
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.removeAllListeners(sig);
      process.on(sig, () => process.exit(code));
    }
    try {
      process.stdin.setRawMode(true);
    } catch {
      /* not a terminal after all */
    }
    process.stdin.resume();
    process.stdin.once('data', () => process.exit(code));
    process.stdin.once('end', () => process.exit(code));
  };
  child.on('error', (err) => {
    // Said in the terminal too: it stays open and readable after the runner exits.
    const error =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `could not start ${cmd}: it is not on PATH (${spec.env.PATH ?? process.env.PATH ?? ''})`
        : `could not start ${cmd}: ${err.message}`;
    process.stderr.write(`orchard: ${error}\n`);
    finish({ exitCode: 127, endedAt: Date.now(), error });
  });
  child.on('exit', (code, signal) => {
    // The agent is gone; anything it left behind (a dev server, a watcher) goes with it.
    signalAll(tree, 'SIGKILL');
    finish({ exitCode: code, signal: signal ?? undefined, endedAt: Date.now() });
  });

  // Stopping the runner stops the agent and everything it started: TERM first, KILL after the grace.
  let tree: number[] = [];
  const stop = (sig: NodeJS.Signals): void => {
    if (!child.pid || child.exitCode !== null) return;
    stopSignal ??= sig;
    tree = [child.pid, ...descendants(child.pid)];
    signalAll(tree.slice().reverse(), sig);
    setTimeout(() => signalAll([...tree, ...descendants(child.pid!)], 'SIGKILL'), spec.killGraceMs ?? 5000).unref();
  };
}

main();
