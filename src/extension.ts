// The composition root: builds the VS Code layer around one Orchard session and registers
// everything with the extension context. Nothing else happens here.
import * as vscode from 'vscode';
import { registerCommands } from './vscode/commands';
import { OrchardController } from './vscode/controller';
import { DashboardPanel } from './vscode/dashboard';
import { TerminalRunnerHost } from './vscode/terminalHost';
import { TicketsTreeProvider } from './vscode/ticketsTree';

/** What the extension exports (used by the integration tests and other extensions). */
export interface OrchardApi {
  controller: OrchardController;
  terminals: TerminalRunnerHost;
}

export function activate(context: vscode.ExtensionContext): OrchardApi {
  const log = vscode.window.createOutputChannel('Orchard', { log: true });
  const terminals = new TerminalRunnerHost();
  const controller = new OrchardController(vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath, terminals, log);
  const tree = new TicketsTreeProvider(() => controller.state());
  const view = vscode.window.createTreeView('orchard.tickets', { treeDataProvider: tree, showCollapseAll: true });
  // Eager: it registers the side-bar view provider and the panel serializer.
  const dashboard = new DashboardPanel(context.extensionUri, controller);
  const getDashboard = () => dashboard;
  context.subscriptions.push(
    log,
    terminals,
    controller,
    tree,
    view,
    controller.onDidChangeState(() => tree.refresh()),
    ...registerCommands(controller, getDashboard),
    dashboard,
    controller.onDidRaiseEscalation(async (e) => {
      const choice = await vscode.window.showWarningMessage(`Orchard: ${e.ticketId} asks: ${e.question}`, 'Answer…');
      if (choice) await vscode.commands.executeCommand('orchard.answerEscalation', e.id);
    }),
  );
  void controller.open();
  return { controller, terminals };
}

export function deactivate(): void {}
