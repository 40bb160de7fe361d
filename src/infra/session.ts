// Composition of the headless pieces around one repository: state store with its writer
// lease, git workspace, agent launcher and the orchestrator. The CLI, the demo, the tests
// and the VS Code layer all open Orchard through here.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Disposable, Event } from '../core/emitter';
import type { OrchardState } from '../core/model';
import { Orchestrator } from '../core/orchestrator';
import type { Clock, Logger, Ports } from '../core/ports';
import { AgentLauncher, HeadlessRunnerHost, type LauncherOptions, type RunnerHost } from './agents/launcher';
import { customProfiles, fakeProfile, type AgentProfile } from './agents/profiles';
import { ConfigError, readConfig, type OrchardConfig } from './config';
import { commonDir, currentBranch, repoRoot } from './git/git';
import { GitWorkspace } from './git/workspace';
import { GateRunner } from './gates/runner';
import { watchInbox } from './inbox';
import { FileStateStore, openState, type LeaseHolder, type WriterLease } from './store';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return { dispose: () => clearTimeout(t) };
  },
};

export const consoleLogger = (quiet = false): Logger => ({
  debug: () => undefined,
  info: (m) => (quiet ? undefined : console.error(m)),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
});

export interface RepoPaths {
  repo: string;
  commonDir: string;
  /** `<common dir>/orchard` */
  stateDir: string;
  branch?: string;
}

export class NotARepositoryError extends Error {
  readonly reason = 'not-a-repository';
  static is(e: unknown): e is NotARepositoryError {
    return e instanceof NotARepositoryError;
  }
}

export async function locateRepo(cwd: string): Promise<RepoPaths> {
  let repo: string;
  try {
    repo = await repoRoot(cwd);
  } catch {
    throw new NotARepositoryError(`${cwd} is not inside a git repository; run "git init" there first, or open a repository.`);
  }
  const common = await commonDir(repo);
  return { repo, commonDir: common, stateDir: join(common, 'orchard'), branch: await currentBranch(repo) };
}

export interface SessionOptions {
  cwd: string;
  /** Who holds the writer lease, shown to other windows ("orchard CLI", "VS Code window"). */
  owner: string;
  /** Folder holding the bundles (runner.js, orchard-agent.js, fake-agent.js). */
  distDir: string;
  host?: RunnerHost;
  log?: Logger;
  clock?: Clock;
  /** Overrides on top of the repository's config. */
  config?: Partial<OrchardConfig>;
  profiles?: Record<string, AgentProfile>;
  /** Extra environment for agents. */
  agentEnv?: Record<string, string>;
  /** Launcher limits (tests shrink them): output-loop size, TERM→KILL grace, poll interval. */
  launcher?: Partial<Pick<LauncherOptions, 'maxLogBytes' | 'killGraceMs' | 'pollMs' | 'trustWorktrees'>>;
}

export type Session =
  | ({ role: 'writer'; orchestrator: Orchestrator; workspace: GitWorkspace; launcher: AgentLauncher; config: OrchardConfig } & SessionBase)
  | ({ role: 'follower'; holder: LeaseHolder; message: string; state: () => OrchardState; onDidChange: Event<OrchardState> } & SessionBase);

interface SessionBase extends Disposable {
  /** Stops, waits until every event is on disk, writes the snapshot and releases the lease. */
  close(): Promise<void>;
  paths: RepoPaths;
  store: FileStateStore;
  lease: WriterLease;
}

/** The agent launcher of a repository: built-in, fake and configured profiles. Needs no writer lease (the planner runs without one). */
export function agentLauncher(
  paths: Pick<RepoPaths, 'stateDir'>,
  config: Pick<OrchardConfig, 'defaultAgent' | 'agentProfiles' | 'trustWorktrees'>,
  opts: Pick<SessionOptions, 'distDir' | 'host' | 'profiles' | 'agentEnv' | 'launcher'> & { log: Logger },
): AgentLauncher {
  return new AgentLauncher({
    stateDir: paths.stateDir,
    distDir: opts.distDir,
    host: opts.host ?? new HeadlessRunnerHost(),
    defaultProfile: config.defaultAgent,
    profiles: { fake: fakeProfile(opts.distDir), ...customProfiles(config.agentProfiles), ...opts.profiles },
    log: opts.log,
    env: opts.agentEnv,
    trustWorktrees: config.trustWorktrees === true,
    ...opts.launcher,
  });
}

export async function openSession(opts: SessionOptions): Promise<Session> {
  const log = opts.log ?? consoleLogger();
  const paths = await locateRepo(opts.cwd);
  mkdirSync(paths.stateDir, { recursive: true });
  const config = { ...readConfig(paths.stateDir, paths.branch ?? 'main'), ...opts.config };
  // Overrides (VS Code settings) skip config.json's checks: a slot count that would run nothing is named here.
  if (!Number.isInteger(config.maxAgents) || config.maxAgents < 1 || config.maxAgents > 64)
    throw new ConfigError(`Orchard settings: maxAgents is ${JSON.stringify(config.maxAgents)}; use a whole number from 1 to 64`);
  const opened = await openState(paths.stateDir, { owner: opts.owner, log });
  if (opened.role === 'follower') {
    return {
      role: 'follower',
      paths,
      store: opened.store,
      lease: opened.lease,
      holder: opened.holder,
      message: opened.message,
      state: () => opened.watcher.state,
      onDidChange: opened.watcher.onDidChange,
      dispose: () => {
        opened.watcher.dispose();
        opened.lease.dispose();
      },
      close: async () => {
        opened.watcher.dispose();
        opened.lease.dispose();
      },
    };
  }
  const workspace = new GitWorkspace({
    repo: paths.repo,
    targetBranch: config.targetBranch,
    testCommand: config.testCommand,
    worktreesDir: config.worktreeRoot || undefined,
    worktreeSetup: config.setup,
    worktreePool: config.worktreePool,
    commonDir: paths.commonDir,
    log,
  });
  // Orchard's own files in worktrees (agent-status.json, Claude hook settings) never get committed.
  workspace.worktrees.excludeOrchardFiles();
  // Warm pool: prepared worktrees left by an earlier process are reused, then topped up.
  if (config.worktreePool) void workspace.worktrees.adoptPool().then(() => workspace.worktrees.refillPool());
  const launcher = agentLauncher(paths, config, { ...opts, log });
  let nextId = 0;
  const ports: Ports = {
    clock: opts.clock ?? systemClock,
    ids: { next: (prefix) => `${prefix}-${Date.now().toString(36)}-${nextId++}` },
    log,
    state: opened.store,
    workspace,
    agents: launcher,
    gates: new GateRunner({ stateDir: paths.stateDir, agents: launcher, log, clock: opts.clock ?? systemClock }),
  };
  const orchestrator = await Orchestrator.open(ports, config);
  // `orchard answer` and `orchard review` from another process reach this writer through the inbox.
  const inbox = watchInbox(paths.stateDir, { answer: (id, a) => orchestrator.answer(id, a), review: (r) => orchestrator.review(r.decision, r.ids, r) }, log);
  // Test hook for process-level tests (crash soak): shortens every retry backoff by this factor.
  const retryScale = Number(process.env.ORCHARD_TEST_RETRY_SCALE);
  if (retryScale > 0 && retryScale <= 1) orchestrator.retryScale = retryScale;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      inbox.dispose();
      await orchestrator.settled();
      orchestrator.dispose();
      // Everything is on disk before the lease goes: the next writer reads it whole.
      await opened.store.close().catch((e) => log.error(`Could not write the snapshot: ${String(e)}`));
      opened.lease.dispose();
    })());
  return {
    role: 'writer',
    paths,
    store: opened.store,
    lease: opened.lease,
    orchestrator,
    workspace,
    launcher,
    config,
    dispose: () => void close(),
    close,
  };
}
