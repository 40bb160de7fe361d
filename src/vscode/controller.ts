// Holds the Orchard session of the workspace's repository and tells the views when state
// changes. Opening is lazy: the first view or command that needs it opens it.
import { errorText } from '../core/errors';
import { hostname } from 'node:os';
import * as vscode from 'vscode';
import { escalationQueue, type Escalation } from '../core/escalations';
import type { OrchardEvent } from '../core/events';
import type { OrchardState } from '../core/model';
import { openSession, type Session } from '../infra/session';
import { configOverrides, customProfiles } from './settings';
import type { TerminalRunnerHost } from './terminalHost';
import { isSameProcess } from '../infra/process';
import { checkCliVersion } from '../infra/agents/versionCheck';

/** CLIs whose folder trust lives only in the user's own config (clis/<name>.ts uses ctx.trustWorktrees). */
const TRUST_ASKING_CLIS = new Set(['claude']);

export const UNTRUSTED =
  'Orchard is disabled in Restricted Mode: it starts agent processes and git commands in this repository. Trust the workspace to use it.';

export type WriterSession = Extract<Session, { role: 'writer' }>;

export class OrchardController implements vscode.Disposable {
  private session: Session | undefined;
  private opening: Promise<Session | undefined> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeState = this.changed.event;
  private readonly raised = new vscode.EventEmitter<Escalation>();
  /** An agent asked the human something (writer window only). */
  readonly onDidRaiseEscalation = this.raised.event;
  private readonly committed = new vscode.EventEmitter<readonly OrchardEvent[]>();
  /** The events of each commit (writer window only): prompts react to what just happened. */
  readonly onDidCommit = this.committed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly notNow = new Map<string, boolean>();

  constructor(
    private readonly distDir: string,
    private readonly host: TerminalRunnerHost,
    private readonly log: vscode.LogOutputChannel,
    /** Per-workspace memory (the worktree-trust answer); absent in tests that build a controller bare. */
    private readonly memory?: vscode.Memento,
  ) {}

  get current(): Session | undefined {
    return this.session;
  }

  state(): OrchardState | undefined {
    const s = this.session;
    if (!s) return undefined;
    return s.role === 'writer' ? s.orchestrator.snapshot : s.state();
  }

  /** Whether the batch assigns work (false when paused, stopped or a follower). */
  isActive(): boolean {
    const s = this.session;
    return s?.role === 'writer' ? s.orchestrator.isActive : false;
  }

  maxAgents(): number {
    const s = this.session;
    return s?.role === 'writer' ? s.orchestrator.settings.maxAgents : vscode.workspace.getConfiguration('orchard').get<number>('maxAgents', 3);
  }

  defaultAgent(): string | undefined {
    const s = this.session;
    return s?.role === 'writer' ? s.config.defaultAgent : vscode.workspace.getConfiguration('orchard').get<string>('defaultAgent');
  }

  /** Open escalations, most urgent first (in a viewer window too). */
  openEscalations(): Escalation[] {
    const s = this.session;
    if (!s) return [];
    if (s.role === 'writer') return s.orchestrator.openEscalations();
    const st = s.state();
    return escalationQueue(Object.values(st.escalations ?? {}), (id) => st.tickets[id]?.priority ?? 'P2', Date.now()).map((q) => q.escalation);
  }

  /** Applies changed VS Code settings to the running orchestrator. */
  applySettings(overrides: Partial<WriterSession['config']>): void {
    const s = this.session;
    if (s?.role !== 'writer') return;
    s.orchestrator.settings = { ...s.orchestrator.settings, ...overrides };
    this.changed.fire();
  }

  /** Starts (or resumes) the batch; once nothing more can run, its end is recorded (batch-ended). */
  async startBatch(s: WriterSession, interactive = true): Promise<void> {
    if (interactive) await this.beforeAgents(s);
    await s.orchestrator.start();
    void s.orchestrator.whenIdle();
  }

  /**
   * Before agents start: the agent CLIs the batch will use are checked against the versions
   * Orchard is tested with (a warning per CLI and version, once), and the user is asked once
   * per repository whether the CLIs may treat its worktrees as trusted where only their own
   * config can say so (the folder is trusted in VS Code already).
   */
  private async beforeAgents(s: WriterSession): Promise<void> {
    const st = s.orchestrator.snapshot;
    const profiles = new Set(
      Object.values(st.tickets)
        .filter((t) => !['done', 'cancelled', 'failed'].includes(t.status))
        .map((t) => t.agent ?? s.config.defaultAgent),
    );
    const checks = (await Promise.all([...profiles].map((p) => checkCliVersion(p)))).filter((v) => v !== undefined);
    for (const v of checks) {
      if (!v.warning) continue;
      const key = `orchard.versionWarned.${v.profile}.${v.installed ?? 'none'}`;
      this.log.warn(v.warning);
      if (this.memory?.get(key)) continue;
      void this.memory?.update(key, true);
      void vscode.window.showWarningMessage(v.warning);
    }
    const installed = new Set(checks.filter((v) => v.installed).map((v) => v.profile));
    const key = `orchard.trustWorktrees.${s.paths.repo}`;
    let trust = s.config.trustWorktrees ?? this.memory?.get<boolean>(key) ?? this.notNow.get(key);
    if (trust === undefined && [...installed].some((p) => TRUST_ASKING_CLIS.has(p))) {
      const yes = 'Trust Its Worktrees';
      const pick = await vscode.window.showInformationMessage(
        `Let the agent CLIs trust this repository's worktrees?`,
        {
          modal: true,
          detail: `Each ticket runs in a new folder under ${s.workspace.worktrees.worktreesDir}. Agent CLIs ask to trust every new folder, which would block them. You trust this repository in VS Code already; with your consent Orchard answers for its worktrees, with flags where the CLI has one and, for Claude Code, by marking this repository trusted in ~/.claude.json, which its worktrees inherit (every write is logged in Orchard's output). Asked once for this repository; without it, each CLI's trust screen comes to you as a question.`,
        },
        yes,
        'Not Now',
      );
      trust = pick === yes;
      // "Trust" is remembered for the repository; "Not Now" for this window only.
      if (trust) await this.memory?.update(key, true);
      else this.notNow.set(key, false);
    }
    s.launcher.setTrustWorktrees(trust === true);
  }

  /** Opens the session for the first workspace folder (once). */
  open(): Promise<Session | undefined> {
    this.opening ??= this.doOpen();
    return this.opening;
  }

  /** The writer session, or an error message the user can act on. */
  async writer(): Promise<WriterSession> {
    if (!vscode.workspace.isTrusted) throw new Error(UNTRUSTED);
    const s = await this.open();
    if (!s) throw new Error('Open a folder that is a git repository to use Orchard.');
    if (s.role !== 'writer') throw new Error(s.message);
    return s;
  }

  private async doOpen(): Promise<Session | undefined> {
    // In Restricted Mode nothing runs: no git, no agents, no state.
    if (!vscode.workspace.isTrusted) {
      this.opening = undefined;
      return undefined;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') return undefined;
    const log = {
      debug: (m: string) => this.log.debug(m),
      info: (m: string) => this.log.info(m),
      warn: (m: string) => this.log.warn(m),
      error: (m: string) => this.log.error(m),
    };
    try {
      const s = await openSession({
        cwd: folder.uri.fsPath,
        owner: `VS Code window (pid ${process.pid})`,
        distDir: this.distDir,
        host: this.host,
        log,
        config: configOverrides(),
        profiles: customProfiles(),
      });
      this.session = s;
      if (s.role === 'writer') {
        this.subscriptions.push(
          s.orchestrator.onDidChange(({ events }) => {
            this.changed.fire();
            if (events.length) this.committed.fire(events);
            for (const e of events) if (e.type === 'escalation-raised') this.raised.fire(e.escalation);
          }),
        );
        this.log.info(`Orchard opened ${s.paths.repo} (state in ${s.paths.stateDir})`);
        // A window reload (or a crash) in the middle of a batch: go on with it, as the user left it.
        const b = s.orchestrator.snapshot.batch;
        if (b && b.endedAt === undefined && b.pausedAt === undefined) {
          this.log.info('Resuming the batch that was running when the window closed');
          void this.startBatch(s, false).catch((e) => this.log.error(`Could not resume the batch: ${errorText(e)}`));
        }
      } else {
        this.subscriptions.push(s.onDidChange(() => this.changed.fire()));
        this.log.info(s.message);
        void vscode.window.showInformationMessage(s.message);
        this.takeOverWhenWriterGone(s);
      }
      this.changed.fire();
      return s;
    } catch (e) {
      this.opening = undefined;
      this.log.error(`Could not open Orchard: ${errorText(e)}`);
      return undefined;
    }
  }

  /**
   * A viewer window becomes the writer once the writer is gone. After a window reload the old
   * window's extension host can still hold the lease for a few seconds while the new one opens;
   * without this the reloaded window stayed a read-only viewer and the batch stood still.
   */
  private takeOverWhenWriterGone(s: Extract<Session, { role: 'follower' }>, everyMs = 2000): void {
    const timer = setInterval(() => {
      if (this.session !== s) return clearInterval(timer);
      const h = s.lease.holder();
      const gone = !h || (h.hostname === hostname() && !isSameProcess(h.pid, h.pidStart)) || Date.now() - h.heartbeatAt > 30_000;
      if (!gone) return;
      clearInterval(timer);
      this.log.info(`The window that ran Orchard (${h?.owner ?? 'released its lease'}) is gone; this window takes over.`);
      s.dispose();
      this.session = undefined;
      this.opening = undefined;
      void this.open();
    }, everyMs);
    this.subscriptions.push({ dispose: () => clearInterval(timer) });
  }

  /** Closes the session: every event on disk, the snapshot written, the writer lease released. */
  async close(): Promise<void> {
    await this.session?.close();
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.session?.dispose();
    this.changed.dispose();
    this.raised.dispose();
    this.committed.dispose();
  }
}
