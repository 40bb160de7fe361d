// Another repository for the e2e steps: made, seeded with tickets by the headless CLI
// (orchard init + import), and opened in the same browser page with the Orchard view shown.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGitWorkspace } from '../host/codeServer.mjs';
import { showOrchard } from './waits.mjs';

/** Returns the repository's path, or undefined when the CLI is not built. */
export async function openSeededWorkspace({ page, host, scratch, repoRoot }, name, tickets, files) {
  const cli = join(repoRoot, 'dist', 'cli.js');
  if (!existsSync(cli)) return undefined;
  const ws = createGitWorkspace({ root: scratch, name, ...(files && { files }) });
  const file = join(scratch, `${name}-tickets.json`);
  writeFileSync(file, JSON.stringify({ tickets }, null, 2));
  for (const args of [['init'], ['import', file]]) {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: ws, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`orchard ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  await page.goto(host.url({ folder: ws }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.waitForFunction((n) => document.title.includes(n), name, { timeout: 60_000 });
  await showOrchard(page, 60_000);
  return ws;
}
