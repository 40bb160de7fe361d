// Where Orchard's parts are in the workbench, for the e2e steps: the side bar, one of its
// views (panes), and the Tickets tree's rows and status groups.
import { domChange } from './waits.mjs';

export const sidebar = (page) => page.locator('#workbench\\.parts\\.sidebar');

/** The side bar's view (pane) whose header says `name`. */
export const pane = (page, name) =>
  sidebar(page)
    .locator('.pane', { has: page.locator('.pane-header', { hasText: name }) })
    .first();

/** Rows of the Tickets tree drawn now, as [level, text], in display order. */
export async function ticketRows(page) {
  return pane(page, 'Tickets')
    .locator('.monaco-list-row')
    .evaluateAll((rows) => rows.map((r) => [Number(r.getAttribute('aria-level')), r.innerText.replace(/\s+/g, ' ').trim()]));
}

/**
 * The status group a ticket row is shown under, or undefined. The tree draws only the rows in
 * view, so it scrolls down, then back up, until the row is drawn.
 */
export async function groupOf(page, title) {
  for (let scroll = 0; scroll < 6; scroll++) {
    let group = '';
    for (const [level, text] of await ticketRows(page)) {
      if (level === 1) group = text;
      else if (text.includes(title)) return group;
    }
    await pane(page, 'Tickets').locator('.monaco-list').first().hover();
    await page.mouse.wheel(0, scroll < 3 ? 200 : -600);
    await domChange(page, 500); // the rows the scroll brings
  }
  return undefined;
}
