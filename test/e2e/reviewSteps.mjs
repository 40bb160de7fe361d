// End-to-end steps for the review desk (spread into steps.mjs): with `orchard.review: human`
// in the user settings, a ticket added and started from the side bar waits in the Review
// Queue view; its inline Open Review shows the change in the multi-file diff editor; its
// inline Approve sends it to the merge queue and it is merged.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './steps.mjs';
import { answerInput, inlineAction, painted, showOrchard, until } from './waits.mjs';
import { groupOf, pane, sidebar } from './workbench.mjs';

const TITLE = 'Polish the greeting';

/** Clicks a row's inline action (shown on hover). */
const reviewRow = (page) => pane(page, 'Review Queue').locator('.monaco-list-row', { hasText: TITLE }).first();
const COMMENT = 'Say hello in full';

/** Opens the diff of greeting.txt from its row under the ticket in the Review Queue view; returns its modified side. */
async function openFileDiff(page) {
  const row = reviewRow(page);
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  const fileRow = pane(page, 'Review Queue').locator('.monaco-list-row[aria-level="2"]', { hasText: 'greeting.txt' }).filter({ hasNotText: 'docs' }).first();
  await fileRow.click();
  const modified = page.locator('.editor-instance .monaco-diff-editor .editor.modified').first();
  await modified.waitFor({ state: 'visible', timeout: 20_000 });
  await until(page, 'the diff drawn', async () => (await modified.locator('.view-line').first().innerText()).includes('T') || 'no text yet');
  return modified;
}

/** The ticket's id and runs as the state file on disk has them. */
function ticketOnDisk(workspace) {
  const file = join(workspace, '.git', 'orchard', 'state.json');
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const t = Object.values(s.tickets).find((x) => x.title === TITLE);
  return t && { ticket: t, runs: Object.values(s.runs).filter((r) => r.ticketId === t.id) };
}

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
      // A started batch (the Tickets view offers Pause, not Start) picks the new ticket up by
      // itself; else it is started from its row.
      const batchGoes = (await pane(page, 'Tickets').locator('.pane-header .action-label[aria-label^="Pause"]').count()) > 0;
      await runCommand(page, 'Orchard: Add Ticket');
      await answerInput(page, TITLE, { expectTitle: '1/6' });
      await answerInput(page, '@sleep 500', { expectTitle: '2/6' });
      await answerInput(page, '', { expectTitle: '3/6' });
      await answerInput(page, '', { expectTitle: '4/6' });
      await answerInput(page, 'greeting.txt, docs/greeting.md', { expectTitle: '5/6' });
      await answerInput(page, 'fake', { expectTitle: '6/6', row: 'fake' });
      const ticketRow = pane(page, 'Tickets').locator('.monaco-list-row', { hasText: TITLE }).first();
      await ticketRow.waitFor({ state: 'visible', timeout: 20_000 });
      if (!batchGoes) await inlineAction(page, ticketRow, 'Start Ticket');
      await reviewRow(page).waitFor({ state: 'visible', timeout: 90_000 });
      await page.mouse.move(700, 400);
      await until(
        page,
        'the row to say how long it waits',
        async () => /waiting .* · 2 files · /.test(await reviewRow(page).innerText()) || (await reviewRow(page).innerText()),
      );
      await painted(page);
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
      // The panel (an agent's terminal) makes room for the diff.
      if (await page.locator('#workbench\\.parts\\.panel').isVisible()) await runCommand(page, 'View: Hide Panel');
      await inlineAction(page, reviewRow(page), 'Open Review');
      const tab = page.locator('.tabs-container .tab', { hasText: `: ${TITLE}` }).first();
      await tab.waitFor({ state: 'visible', timeout: 20_000 });
      const editor = page.locator('.editor-instance .multiDiffEditor, .monaco-component.multiDiffEditor').first();
      await editor.waitFor({ state: 'visible', timeout: 20_000 });
      await until(page, 'both files in the multi-diff editor', async () => {
        const t = await editor.innerText();
        return t.includes('greeting.txt') && t.includes('greeting.md') ? true : t.slice(0, 200);
      });
      // Both diffs drawn: each file's editor shows its inserted lines.
      await until(page, 'the diffs drawn', async () => (await editor.locator('.line-insert, .char-insert').count()) >= 2 || 'no inserted lines drawn yet');
      await painted(page);
      await shot('22-review-multidiff');
      return { note: `tab "${(await tab.innerText()).replace(/\s+/g, ' ')}"` };
    },
  },
  {
    name: 'review: a comment drafted from the diff gutter\'s "+" survives a window reload; Request Changes sends it to the next attempt',
    async run({ page, shot, workspace }) {
      await runCommand(page, 'View: Close All Editors');
      const modified = await openFileDiff(page);
      // The gutter's "+" shows on the hovered line of the commentable (worktree) side.
      await modified.locator('.view-line').first().hover();
      const plus = modified.locator('.comment-range-glyph').first();
      await plus.waitFor({ state: 'visible', timeout: 10_000 });
      await plus.click();
      const widget = page.locator('.review-widget').first();
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      await widget.locator('.comment-form .monaco-editor, .comment-form textarea').first().click();
      await page.keyboard.type(COMMENT, { delay: 5 });
      await widget.locator('.monaco-button', { hasText: 'Add Comment' }).first().click();
      await widget.locator('.review-comment', { hasText: COMMENT }).first().waitFor({ state: 'visible', timeout: 10_000 });
      const drafts = join(workspace, '.git', 'orchard', 'review-drafts.json');
      await until(page, 'the draft on disk', async () => (existsSync(drafts) && readFileSync(drafts, 'utf8').includes(COMMENT)) || 'not yet');
      await painted(page);
      await shot('22b-review-comment-draft');
      // The window reloads: the draft is shown again on the same review.
      await page.reload({ waitUntil: 'domcontentloaded', timeout: 60_000 });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await showOrchard(page, 60_000);
      // The new window's extension host activates Orchard and opens the repository again
      // (slow on a busy machine): the Review Queue view comes back with the ticket.
      // A view that comes back with its context key may come back collapsed: then it is opened.
      // A failure says which of these it was.
      await until(
        page,
        'the ticket in the Review Queue view after the reload',
        async () => {
          if ((await reviewRow(page).count()) > 0) return true;
          const header = pane(page, 'Review Queue').locator('.pane-header').first();
          if ((await header.count()) === 0) return 'no Review Queue view yet (Orchard not open again, or the review desk key not set)';
          if ((await header.getAttribute('aria-expanded')) === 'false') {
            await header.click();
            return 'the Review Queue view was collapsed: opened it';
          }
          return `the Review Queue view is open without the row; it shows "${(await pane(page, 'Review Queue').innerText()).replace(/\s+/g, ' ').slice(0, 200)}"`;
        },
        120_000,
      );
      await runCommand(page, 'View: Close All Editors');
      const again = await openFileDiff(page);
      const restored = page.locator('.review-widget .review-comment', { hasText: COMMENT }).first();
      await restored.waitFor({ state: 'visible', timeout: 20_000 });
      await again.hover();
      await painted(page);
      await shot('22c-review-comment-after-reload');
      // Request Changes from the thread's title bar; the summary is optional with a line comment.
      const thread = page.locator('.review-widget', { has: page.locator('.review-comment', { hasText: COMMENT }) }).first();
      await thread.locator('.head .action-label[aria-label^="Request Changes"]').first().click();
      await answerInput(page, '', { expectTitle: 'Request Changes on' });
      await until(
        page,
        'the next attempt with the comment as its feedback',
        async () => {
          const t = ticketOnDisk(workspace);
          const r2 = t?.runs.find((r) => r.attempt === 2 || /-r2$/.test(r.id));
          return (
            (!!r2 && (r2.context ?? '').includes(`greeting.txt:1: ${COMMENT}`)) || JSON.stringify(t?.runs.map((r) => [r.id, (r.context ?? '').slice(0, 80)]))
          );
        },
        60_000,
      );
      await until(
        page,
        'the ticket back in the Review Queue (review 2)',
        async () =>
          /review 2/.test(await reviewRow(page).innerText()) ||
          (await reviewRow(page)
            .innerText()
            .catch(() => 'no row')),
        90_000,
      );
      await until(page, 'the draft discarded', async () => !readFileSync(drafts, 'utf8').includes(COMMENT) || 'still on disk');
    },
  },
  {
    name: 'review: Approve (inline) sends it to the merge queue; it is merged',
    async run({ page, shot }) {
      await inlineAction(page, reviewRow(page), 'Approve');
      await until(page, 'the ticket to leave the Review Queue', async () => (await reviewRow(page).count()) === 0, 30_000);
      await until(
        page,
        'the ticket to be merged (Done)',
        async () => {
          const group = await groupOf(page, TITLE);
          return /^Done/.test(group ?? '') || (group ?? 'not in the tree');
        },
        90_000,
      );
      await shot('23-review-approved');
    },
  },
  {
    name: 'review: nothing waits any more, so the Review Queue view is hidden; orchard.review back to auto',
    async run({ page, host }) {
      try {
        await until(
          page,
          'the Review Queue view to hide',
          async () => (await sidebar(page).locator('.pane-header', { hasText: 'Review Queue' }).count()) === 0 || 'still shown',
          30_000,
        );
      } finally {
        // Whatever happened above, the later steps (the conflict's merges) run without review.
        await setReviewSetting(page, host, 'auto');
      }
    },
  },
];
