// End-to-end steps for the review desk (spread into steps.mjs): with `orchard.review: human`
// in the user settings, a ticket added and started from the side bar waits in the Review
// Queue view; its inline Open Review shows the change in the multi-file diff editor; its
// inline Approve sends it to the merge queue and it is merged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './steps.mjs';
import { until } from './treeSteps.mjs';

const TITLE = 'Polish the greeting';
const sidebar = (page) => page.locator('#workbench\\.parts\\.sidebar');
const pane = (page, name) => sidebar(page).locator('.pane', { has: page.locator('.pane-header', { hasText: name }) }).first();
const quickInput = (page) => page.locator('.quick-input-widget .quick-input-box input');

async function answerInput(page, text, expectTitle) {
  await quickInput(page).waitFor({ state: 'visible', timeout: 10_000 });
  await page.locator('.quick-input-widget .quick-input-title', { hasText: expectTitle }).waitFor({ state: 'visible', timeout: 10_000 });
  if (text) await page.keyboard.type(text, { delay: 5 });
  await page.waitForTimeout(150);
  await page.keyboard.press('Enter');
}

/** Clicks a row's inline action (shown on hover). */
async function inlineAction(page, row, label) {
  await row.hover();
  const action = row.locator(`.action-label[aria-label^="${label}"]`);
  await action.waitFor({ state: 'visible', timeout: 10_000 });
  await action.click();
}

const reviewRow = (page) => pane(page, 'Review Queue').locator('.monaco-list-row', { hasText: TITLE }).first();

/** Sets orchard.review as a user does it: in settings.json, through the editor (a write behind code-server's back is not seen). */
async function setReviewSetting(page, host, value) {
  const file = join(host.dirs.userData, 'User', 'settings.json');
  const settings = { ...JSON.parse(readFileSync(file, 'utf8')), 'orchard.review': value };
  await page.keyboard.press('Escape');
  await runCommand(page, 'View: Close All Editors');
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  // The editor of settings.json itself (a modal or another editor may be in front of the others).
  const editor = page.locator('.monaco-editor[data-uri$="settings.json"]').first();
  await editor.waitFor({ state: 'visible', timeout: 20_000 });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(JSON.stringify(settings));
  // What the editor closed on its own (a bracket, a quote) after the text goes.
  await page.keyboard.press('Control+Shift+End');
  await page.keyboard.press('Delete');
  await page.keyboard.press('Control+S');
  await until(page, `orchard.review "${value}" saved`, async () => JSON.parse(readFileSync(file, 'utf8'))['orchard.review'] === value, 20_000);
  await runCommand(page, 'View: Close All Editors');
}

export const reviewSteps = [
  {
    name: 'review: with orchard.review human, a started ticket waits in the Review Queue view',
    async run({ page, host, shot }) {
      // The Review Queue view is hidden while nothing waits: it comes once the ticket does.
      await setReviewSetting(page, host, 'human');
      await runCommand(page, 'Orchard: Add Ticket');
      await answerInput(page, TITLE, '1/6');
      await answerInput(page, '@sleep 500', '2/6');
      await answerInput(page, '', '3/6');
      await answerInput(page, '', '4/6');
      await answerInput(page, 'greeting.txt, docs/greeting.md', '5/6');
      await answerInput(page, 'fake', '6/6');
      const ticketRow = pane(page, 'Tickets').locator('.monaco-list-row', { hasText: TITLE }).first();
      await ticketRow.waitFor({ state: 'visible', timeout: 20_000 });
      // A batch still going picks the ticket up by itself; else it is started from its row.
      await page.waitForTimeout(1_000);
      const started = await pane(page, 'Tickets').locator('.monaco-list-row', { hasText: 'Waiting for review' }).count().catch(() => 0);
      if (!started) await inlineAction(page, ticketRow, 'Start Ticket').catch(() => undefined);
      await reviewRow(page).waitFor({ state: 'visible', timeout: 90_000 });
      await page.mouse.move(700, 400);
      await page.waitForTimeout(500);
      const text = (await reviewRow(page).innerText()).replace(/\s+/g, ' ');
      if (!/waiting .* · 2 files · /.test(text)) throw new Error(`the row does not say how long it waits and how many files: ${text}`);
      await shot('20-review-queue');
      await reviewRow(page).hover();
      const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'Waiting for review since' }).first();
      const tip = await hover.waitFor({ state: 'visible', timeout: 8_000 }).then(
        async () => (await hover.innerText()).replace(/\s+/g, ' '),
        () => '(no tooltip shown)',
      );
      await shot('21-review-tooltip');
      await page.mouse.move(700, 400);
      return { note: `row "${text}"; tooltip: ${tip.slice(0, 200)}` };
    },
  },
  {
    name: 'review: Open Review (inline) shows the change in the multi-file diff editor',
    async run({ page, shot }) {
      await runCommand(page, 'View: Close Panel').catch(() => {});
      await inlineAction(page, reviewRow(page), 'Open Review');
      const tab = page.locator('.tabs-container .tab', { hasText: `: ${TITLE}` }).first();
      await tab.waitFor({ state: 'visible', timeout: 20_000 });
      const editor = page.locator('.editor-instance .multiDiffEditor, .monaco-component.multiDiffEditor').first();
      await editor.waitFor({ state: 'visible', timeout: 20_000 });
      await until(page, 'both files in the multi-diff editor', async () => {
        const t = await editor.innerText();
        return t.includes('greeting.txt') && t.includes('greeting.md') ? true : t.slice(0, 200);
      });
      await page.waitForTimeout(1_000);
      await shot('22-review-multidiff');
      return { note: `tab "${(await tab.innerText()).replace(/\s+/g, ' ')}"` };
    },
  },
  {
    name: 'review: Approve (inline) sends it to the merge queue; it is merged',
    async run({ page, shot }) {
      await inlineAction(page, reviewRow(page), 'Approve');
      await until(page, 'the ticket to leave the Review Queue', async () => (await reviewRow(page).count()) === 0, 30_000);
      await until(page, 'the ticket to be merged (Done)', async () => {
        const rows = await pane(page, 'Tickets').locator('.monaco-list-row').evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('aria-level')), r.innerText.replace(/\s+/g, ' ').trim()]));
        let group = '';
        for (const [level, text] of rows) {
          if (level === 1) group = text;
          else if (text.includes(TITLE)) return /^Done/.test(group) ? true : group;
        }
        return 'not visible';
      }, 90_000);
      await shot('23-review-approved');
    },
  },
  {
    name: 'review: nothing waits any more, so the Review Queue view is hidden; orchard.review back to auto',
    async run({ page, host }) {
      await until(page, 'the Review Queue view to hide', async () => (await sidebar(page).locator('.pane-header', { hasText: 'Review Queue' }).count()) === 0 || 'still shown', 30_000);
      await setReviewSetting(page, host, 'auto');
    },
  },
];
