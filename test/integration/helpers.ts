// Shared helpers for integration tests (run inside the real extension host).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { OrchardState } from '../../src/core/model';
import type { OrchardApi } from '../../src/extension';

export const EXTENSION_ID = 'orchard-dev.orchard';

export const COMMANDS = [
  'orchard.addTicket',
  'orchard.editTicket',
  'orchard.importTickets',
  'orchard.start',
  'orchard.pause',
  'orchard.resume',
  'orchard.stopAll',
  'orchard.startTicket',
  'orchard.cancelTicket',
  'orchard.retryTicket',
  'orchard.openTerminal',
  'orchard.openWorktree',
  'orchard.showDiff',
  'orchard.answerEscalation',
  'orchard.releaseLock',
  'orchard.mergeNow',
  'orchard.continueMerge',
  'orchard.openConflicts',
  'orchard.sendBack',
  'orchard.keepForLater',
  'orchard.discard',
  'orchard.stashAndUpdate',
  'orchard.showDashboard',
  'orchard.generateReport',
  'orchard.cleanUpWorktrees',
  'orchard.showLog',
  'orchard.refresh',
] as const;

/** The extension, activated. Fails the test if it is missing or activation throws. */
export async function activatedExtension(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this host`);
  if (!ext.isActive) await ext.activate();
  assert.ok(ext.isActive, 'extension did not become active');
  return ext;
}

/** The single workspace folder's path (the launcher opens a temp git repo). */
export function workspaceRoot(): string {
  const folders = vscode.workspace.workspaceFolders ?? [];
  assert.equal(folders.length, 1, `expected one workspace folder, got ${folders.length}`);
  return folders[0]!.uri.fsPath;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

/**
 * Polls `probe` until it returns a truthy value or `timeoutMs` passes (at least a minute: limits
 * are for hangs, and a loaded 2-core machine runs the host several times slower).
 */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 100): Promise<NonNullable<T>> {
  timeoutMs = Math.max(timeoutMs, 60_000);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until a terminal whose name contains `text` exists. */
export function waitForTerminal(text: string, timeoutMs = 15_000): Promise<vscode.Terminal> {
  return waitFor(() => vscode.window.terminals.find((t) => t.name.includes(text)), `a terminal named like "${text}"`, timeoutMs);
}

/** All tabs, in all groups. */
export function allTabs(): readonly vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

/** Closes every editor, so each test starts from the same layout. */
export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** The extension's API, once its session for the workspace is open. */
export async function orchardApi(): Promise<OrchardApi> {
  const ext = await activatedExtension();
  const a = ext.exports as OrchardApi;
  await waitFor(() => a.controller.current, 'the Orchard session', 15_000);
  return a;
}

export const orchardState = (a: OrchardApi): OrchardState => a.controller.state()!;
