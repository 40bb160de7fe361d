// Files of a run folder (`<common dir>/orchard/runs/<run id>/`) shared by the launcher,
// the runner and orchard-agent.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

export interface RunSpec {
  runId: string;
  ticketId: string;
  /** The agent's argv; argv[0] is looked up on PATH. Never passed through a shell. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Grace between SIGTERM and SIGKILL of the agent's process tree (ms). */
  killGraceMs?: number;
  /** The runner keeps its terminal open (and readable) after the agent exits, until a key is pressed. */
  keepOpen?: boolean;
  /** How a finished interactive session is ended (clis/types.ts CliDefinition.endSession). */
  endSession?: { keys?: string[]; graceMs?: number };
}

export interface RunnerStatus {
  runnerPid: number;
  /** The runner's start time (Linux, /proc): tells it from a later process with the same pid. */
  startToken?: string;
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

/** How often the runner rewrites status.json; a heartbeat older than 3 beats means it is gone. */
export const HEARTBEAT_MS = 2000;
export const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_MS + 1000;

/** Takes the run's claim file; false when someone else has it. */
export function takeClaim(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export const runFiles = (runDir: string) => ({
  spec: join(runDir, 'spec.json'),
  status: join(runDir, 'status.json'),
  exit: join(runDir, 'exit.json'),
  log: join(runDir, 'agent.log'),
  stop: join(runDir, 'stop-requested'),
  /**
   * Created exclusively (O_EXCL) by whoever gets there first: the runner just before it starts
   * the agent, or a restarted Orchard giving up a run whose runner it cannot see. The loser
   * knows: a runner that finds it taken never starts its agent; Orchard that finds it taken
   * knows the runner is starting and waits for it.
   */
  claim: join(runDir, 'claimed'),
  bin: join(runDir, 'bin'),
  /** The run's token, read and removed by the runner when it starts the agent. */
  token: join(runDir, 'token'),
  /** sha256 of the token: what the launcher checks agents' requests against (also after a reload). */
  tokenHash: join(runDir, 'token.sha256'),
  progress: join(runDir, 'progress.jsonl'),
  usage: join(runDir, 'usage.json'),
});
