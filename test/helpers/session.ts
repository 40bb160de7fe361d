// Opens a writer session on a temp repo with the fake agent and fast settings.
import type { OrchardEvent } from '../../src/core/events';
import type { TicketSpec } from '../../src/core/model';
import type { AgentProfile } from '../../src/infra/agents/profiles';
import type { OrchardConfig } from '../../src/infra/config';
import type { Session } from '../../src/infra/session';
import { after, afterEach } from 'node:test';
import { loadSrc } from './bundle';
import { DIST, quietLog, recordEvents, type CapturedLog } from './repo';

/**
 * Sessions a test opened and did not close (it failed before its close()): closed after the
 * file's tests, so their agents and timers cannot keep the file from exiting (a failed
 * assertion once made a whole file time out).
 */
const stillOpen = new Set<() => Promise<void>>();
after(async () => {
  for (const close of [...stillOpen]) await close().catch(() => undefined);
});

function tracked(close: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => (done ??= close().finally(() => stillOpen.delete(once)));
  stillOpen.add(once);
  return once;
}

export type WriterSession = Extract<Session, { role: 'writer' }>;

export interface OpenedWriter {
  s: WriterSession;
  events: OrchardEvent[];
  log: CapturedLog;
  close(): Promise<void>;
}

export async function openWriter(
  repo: string,
  config: Partial<OrchardConfig> = {},
  msPerMinute = '5',
  profiles?: Record<string, AgentProfile>,
): Promise<OpenedWriter> {
  const log = quietLog();
  const s = await loadSrc().openSession({
    cwd: repo,
    owner: 'unit test',
    distDir: DIST,
    log,
    agentEnv: { ORCHARD_FAKE_MS_PER_MINUTE: msPerMinute },
    config: { defaultAgent: 'fake', maxAgents: 2, ...config },
    ...(profiles && { profiles }),
  });
  if (s.role !== 'writer') throw new Error(`expected a writer session, got follower: ${s.message}`);
  s.orchestrator.retryScale = 0.0001;
  const events = recordEvents(s.orchestrator);
  return {
    s,
    events,
    log,
    close: tracked(async () => {
      await s.orchestrator.stopAll('test over').catch(() => undefined);
      await s.close();
    }),
  };
}

/**
 * Opens writer sessions for the tests of the file (or describe block) it is called in; each one
 * is closed after the test that opened it.
 */
export function writerPerTest(): (...args: Parameters<typeof openWriter>) => Promise<OpenedWriter> {
  const open: OpenedWriter[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });
  return async (...args) => {
    const w = await openWriter(...args);
    open.push(w);
    return w;
  };
}

/** Adds tickets to the repository's state in a short writer session, for a test whose Orchard then runs as a process. */
export async function seedTickets(repo: string, specs: TicketSpec[], config: Partial<OrchardConfig> = {}): Promise<void> {
  const s = await loadSrc().openSession({ cwd: repo, owner: 'setup', distDir: DIST, log: quietLog(), config: { defaultAgent: 'fake', ...config } });
  if (s.role !== 'writer') throw new Error(`expected a writer session, got follower: ${s.message}`);
  await s.orchestrator.addTickets(specs);
  await s.close();
}

export function spec(id: string, over: Partial<TicketSpec> = {}): TicketSpec {
  return { id, title: `ticket ${id}`, prompt: `do ${id}`, priority: 'P2', dependsOn: [], files: [`src/${id}.txt`], labels: [], estimate: 10, ...over };
}

export interface TestSessionOptions {
  owner: string;
  config?: Partial<OrchardConfig>;
  profiles?: Record<string, AgentProfile>;
  /** Launcher limits (pollMs defaults to 50 ms here). */
  launcher?: Record<string, unknown>;
  agentEnv?: Record<string, string>;
  /** Where runners start (default: headless). */
  host?: import('../../src/infra/agents/launcher').RunnerHost;
}

/** A writer session with fast settings and the handles the agent-run tests use. */
export async function openTestSession(repo: string, opts: TestSessionOptions) {
  const log = quietLog();
  const s = (await loadSrc().openSession({
    cwd: repo,
    owner: opts.owner,
    distDir: DIST,
    log,
    agentEnv: { ORCHARD_FAKE_MS_PER_MINUTE: '5', ...opts.agentEnv },
    config: { defaultAgent: 'fake', maxAgents: 2, maxRetries: 0, ...opts.config },
    profiles: opts.profiles ?? {},
    launcher: { pollMs: 50, ...opts.launcher },
    ...(opts.host && { host: opts.host }),
  })) as WriterSession;
  s.orchestrator.retryScale = 0.0001;
  const events = recordEvents(s.orchestrator);
  return {
    s,
    o: s.orchestrator,
    events,
    log,
    runDir: (runId: string) => s.launcher.runDir(runId),
    close: tracked(async () => {
      await s.orchestrator.stopAll('test over').catch(() => undefined);
      await s.close();
    }),
  };
}
