// Files of a run folder (`<common dir>/orchard/runs/<run id>/`) shared by the launcher,
// the runner and orchard-agent.
import { join } from 'node:path';

export interface RunSpec {
  runId: string;
  ticketId: string;
  /** The agent's argv; argv[0] is looked up on PATH. Never passed through a shell. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface RunnerStatus {
  runnerPid: number;
  agentPid?: number;
  startedAt: number;
  heartbeatAt: number;
}

export interface RunnerExit {
  exitCode: number | null;
  signal?: string;
  endedAt: number;
  error?: string;
}

export const runFiles = (runDir: string) => ({
  spec: join(runDir, 'spec.json'),
  status: join(runDir, 'status.json'),
  exit: join(runDir, 'exit.json'),
  log: join(runDir, 'agent.log'),
  stop: join(runDir, 'stop-requested'),
  bin: join(runDir, 'bin'),
});
