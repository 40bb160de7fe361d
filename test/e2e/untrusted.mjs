#!/usr/bin/env node
// Restricted Mode check: code-server with workspace trust on, the folder opened without
// trusting it. Orchard's Tickets view must explain why it is disabled, and nothing runs
// (no .git/orchard state is created). Screenshot: test-results/e2e-untrusted.png.
// Usage: node test/e2e/untrusted.mjs [path/to/orchard.vsix]   (default dist/orchard.vsix)
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGitWorkspace, createHost, launchBrowser } from '../host/codeServer.mjs';
import { repoRoot } from '../host/paths.mjs';
import { painted, showOrchard } from './waits.mjs';

const vsix = resolve(process.argv[2] ?? join(repoRoot, 'dist', 'orchard.vsix'));
const shots = join(repoRoot, 'test-results');
mkdirSync(shots, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'orchard-untrusted-'));
const host = await createHost({
  trust: true,
  settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' },
  prefix: 'orchard-untrusted-host-',
});
let browser;
let failed = '';
try {
  host.installExtension(vsix);
  const ws = createGitWorkspace({ root: scratch, name: 'untrusted' });
  await host.start();
  browser = await launchBrowser({ root: host.root });
  const page = browser.page;
  await page.goto(host.url({ folder: ws }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.part.activitybar').waitFor({ state: 'visible', timeout: 60_000 });
  await showOrchard(page, 30_000);
  const welcome = page.locator('#workbench\\.parts\\.sidebar .welcome-view-content', { hasText: 'Restricted Mode' }).first();
  await welcome.waitFor({ state: 'visible', timeout: 20_000 }).catch((e) => (failed = `no Restricted Mode welcome: ${e.message.split('\n')[0]}`));
  // Let activation finish (views registered) before the picture.
  await page
    .waitForFunction(() => !/no data provider/.test(document.querySelector('#workbench\\.parts\\.sidebar')?.innerText ?? ''), null, { timeout: 10_000 })
    .catch(() => undefined);
  await painted(page);
  await page.screenshot({ path: join(shots, 'e2e-untrusted.png') });
  const text = (await page.locator('#workbench\\.parts\\.sidebar').innerText()).replace(/\s+/g, ' ');
  console.log(`side bar: ${text.slice(0, 400)}`);
  if (existsSync(join(ws, '.git', 'orchard'))) failed ||= 'Orchard created .git/orchard in an untrusted workspace';
} catch (e) {
  failed = e instanceof Error ? e.message : String(e);
} finally {
  await browser?.close();
  await host.stop();
  rmSync(scratch, { recursive: true, force: true });
}
console.log(failed ? `untrusted: FAIL ${failed}` : 'untrusted: ok (views explain Restricted Mode; no state created)');
process.exit(failed ? 1 : 0);
