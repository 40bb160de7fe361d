// The commands of the palette (category "Orchard"), typed with their arguments. Every
// command has an argument form that asks nothing (tests, other extensions, tree items);
// called from the palette without arguments it asks through quick picks and input boxes.
// Each area's commands live in their own unit; this file puts them together and reports errors.
import { errorText } from '../core/errors';
import * as vscode from 'vscode';
import { ImportError } from '../core/importers';
import { agentCommands } from './agentCommands';
import { batchCommands } from './batchCommands';
import type { CommandDeps } from './commandArgs';
import type { CommandId, CommandTypes } from './commandTypes';
import { mergeCommands } from './mergeCommands';
import { ticketCommands } from './ticketCommands';
import { viewCommands } from './viewCommands';

export type * from './commandTypes';
export type { CommandDeps } from './commandArgs';
export { runCommand } from './commandTypes';
export { askForAnswer } from './agentCommands';
export { KNOWN_PROFILES } from './ticketCommands';

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const ctx = { ...deps, writer: () => deps.controller.writer() };
  const handlers: CommandTypes = {
    ...ticketCommands(ctx),
    ...batchCommands(ctx),
    ...agentCommands(ctx),
    ...mergeCommands(ctx),
    ...viewCommands(ctx),
  };
  const { log } = deps;
  return (Object.keys(handlers) as CommandId[]).map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handlers[id] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        const message = ImportError.is(e) ? e.message : errorText(e);
        log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`Orchard: ${message}`);
        // Callers from code (tests, other extensions) get the error too.
        if (args.length) throw e;
        return undefined;
      }
    }),
  );
}
