import { createHost, launchBrowser } from '../host/codeServer.mjs';
import { runCommand } from './steps.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const H = await import('../reliability/helpers.ts');
const R = await import('../unit/helpers/repo.ts');
const persist = process.argv[2] === 'on';
const r = R.makeRepo('orchard-exp-');
const file = join(r.root, 't.json');
H.writeTickets(file, H.ticketGraph(4, 7).map((t) => ({ ...t, prompt: 'x\n@sleep 3000' })));
H.cliSync(r.repo, ['init', '--agent', 'fake']); H.cliSync(r.repo, ['import', file]);
const host = await createHost({ settings: { 'orchard.defaultAgent': 'fake', 'terminal.integrated.enablePersistentSessions': persist }, env: { ...R.GIT_ENV } });
host.installExtension('/tmp/orchard-exp.vsix');
await host.start();
const b = await launchBrowser({ root: host.root, onConsole: (m) => { if (/terminal|pty/i.test(m.text())) console.log('[console]', m.text().slice(0, 300)); } });
const page = b.page;
await page.goto(host.url({ folder: r.repo }));
await page.locator('.part.activitybar').waitFor({ timeout: 60000 });
await page.waitForTimeout(Number(process.env.W ?? 3000));
const icon = page.locator('.part.activitybar li[role="tab"]:has(a.action-label[aria-label^="Orchard"])').first(); await icon.waitFor({timeout:30000}); if ((await icon.getAttribute('aria-selected')) !== 'true') await icon.click(); await page.waitForTimeout(Number(process.env.W ?? 2000));
await runCommand(page, 'Orchard: Start');
const t0 = Date.now();
for (let i = 0; i < 30; i++) {
  await page.waitForTimeout(1000);
  const ev = readFileSync(join(r.repo, '.git/orchard/events.jsonl'), 'utf8').split('\n').filter(Boolean).map(JSON.parse);
  const started = ev.filter((e) => e.type === 'run-started').length, ended = ev.filter((e) => e.type === 'run-ended').length;
  console.log(`${((Date.now() - t0) / 1000).toFixed(0)}s started ${started} ended ${ended}`);
  if (i === 12) { console.log('opening terminal panel'); await page.keyboard.press('Control+Backquote'); }
  if (ended >= 4) break;
}
await page.screenshot({ path: '/tmp/exp.png' });
await b.close(); await host.stop(); R.cleanupRepos();
