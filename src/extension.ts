// The composition root: builds the VS Code layer around one Orchard session and registers
// everything with the extension context. Nothing else happens here. The session opens
// lazily (after activate() returns), so activation stays a few milliseconds.
import * as vscode from 'vscode';
import { registerCommands } from './vscode/commands';
import { OrchardController } from './vscode/controller';
import { DashboardPanel } from './vscode/dashboard';
import { EtaService } from './vscode/eta';
import { GIT_SCHEME, GitContentProvider } from './vscode/git';
import { EscalationNotifier } from './vscode/prompts';
import { registerReviewCommands } from './vscode/reviewCommands';
import { ReviewComments, reviewDraftStore } from './vscode/reviewComments';
import { configOverrides } from './vscode/settings';
import { OrchardStatusBar } from './vscode/statusBar';
import { TerminalRunnerHost } from './vscode/terminalHost';
import { TerminalWatcher } from './vscode/terminals';
import { TicketFilterControl } from './vscode/ticketFilterCommands';
import { ReviewQueueView } from './vscode/treeNodes/reviewQueue';
import { OrchardViews } from './vscode/views';
import { WaitSignals } from './vscode/waitSignals';
import { registerWorkflowCommands } from './vscode/workflowCommands';

/** What the extension exports (used by the integration tests and other extensions). */
export interface OrchardApi {
  controller: OrchardController;
  terminals: TerminalRunnerHost;
  views: OrchardViews;
  /** The host's throttled prediction of when the batch and each ticket will be done. */
  eta: EtaService;
  statusBar: OrchardStatusBar;
  notifier: EscalationNotifier;
  /** The Tickets view's filter. */
  ticketFilter: TicketFilterControl;
  /** Badge, status-bar item and sound while something waits for the human. */
  waits: WaitSignals;
  /** The review desk: the Review Queue view and the draft line comments. */
  review: { queue: ReviewQueueView; comments: ReviewComments };
  /** Time spent in activate() (ms). */
  activationMs: number;
}

/** Set by activate: deactivate waits for it (the snapshot written, the writer lease released). */
let closeSession: (() => Promise<void>) | undefined;

export function activate(context: vscode.ExtensionContext): OrchardApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Orchard', { log: true });
  const terminals = new TerminalRunnerHost();
  const controller = new OrchardController(vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath, terminals, log, context.workspaceState);
  const eta = new EtaService(controller);
  const ticketFilter = new TicketFilterControl(controller, context.workspaceState);
  const views = new OrchardViews(controller, eta, ticketFilter);
  const waits = new WaitSignals(controller, views.ticketsView);
  const statusBar = new OrchardStatusBar(controller);
  const notifier = new EscalationNotifier(controller);
  const review = { queue: new ReviewQueueView(controller), comments: new ReviewComments(() => controller.state(), reviewDraftStore(controller, log)) };
  // Eager: it registers the side-bar view provider and the panel serializer.
  const dashboard = new DashboardPanel(context.extensionUri, controller, eta);
  const getDashboard = () => dashboard;
  const open = () => {
    if (vscode.workspace.isTrusted) void controller.open();
  };
  context.subscriptions.push(
    log,
    terminals,
    controller,
    eta,
    ticketFilter,
    views,
    waits,
    statusBar,
    notifier,
    review.queue,
    review.comments,
    controller.onDidChangeState(() => review.comments.sync()),
    new TerminalWatcher(controller),
    vscode.workspace.registerTextDocumentContentProvider(GIT_SCHEME, new GitContentProvider()),
    ...registerCommands({ controller, terminals, dashboard: getDashboard, log, selectedTickets: () => views.selectedTickets() }),
    ...registerWorkflowCommands(controller, log),
    ...registerReviewCommands({ controller, comments: review.comments, selected: () => review.queue.selected(), log }),
    dashboard,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('orchard')) controller.applySettings(configOverrides());
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(open),
  );
  open();
  closeSession = () => controller.close();
  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return { controller, terminals, views, eta, statusBar, notifier, ticketFilter, waits, review, activationMs };
}

/** A window reload or close: the session is closed before the extension host ends, not left to a stale lease. */
export function deactivate(): Promise<void> | undefined {
  return closeSession?.();
}
