// End-to-end steps for the side bar you can live in (appended to steps.mjs): a second
// repository with a 20-ticket board, opened in the same 1400×900 window with the default
// layout. The Tickets view gets the side bar (the empty views are hidden) and shows at least
// 15 ticket rows, counted on screen; Filter Tickets… (palette, QuickPick then InputBox) narrows
// it and says so above the tree; Clear Ticket Filter lists them all again.
import { runCommand } from './steps.mjs';
import { painted, until } from './waits.mjs';
import { pane, sidebar } from './workbench.mjs';
import { openSeededWorkspace } from './workspaces.mjs';

const BOARD = 20;
/** Ticket rows (level 2) of the Tickets view lying wholly inside its body on screen. */
async function visibleTicketRows(page) {
  const tickets = pane(page, 'Tickets');
  const body = await tickets.locator('.pane-body').boundingBox();
  if (!body) return [];
  const rows = await tickets.locator('.monaco-list-row').evaluateAll((els) =>
    els.map((r) => {
      const b = r.getBoundingClientRect();
      return { level: Number(r.getAttribute('aria-level')), top: b.top, bottom: b.bottom, height: b.height, text: r.innerText.replace(/\s+/g, ' ').trim() };
    }),
  );
  return rows.filter((r) => r.level === 2 && r.height > 0 && r.top >= body.y - 0.5 && r.bottom <= body.y + body.height + 0.5);
}

export const sidebarSteps = [
  {
    name: 'sidebar: a 20-ticket board at 900 px height shows at least 15 ticket rows; the empty views are hidden',
    async run(ctx) {
      const { page, shot } = ctx;
      const tickets = Array.from({ length: BOARD }, (_, i) => ({
        id: `T${i + 1}`,
        title: `Board ticket ${i + 1}`,
        prompt: 'Do the work.',
        priority: ['P0', 'P1', 'P2', 'P3'][i % 4],
        files: [`board/${i + 1}.txt`],
        labels: [i % 2 ? 'api' : 'ui'],
        estimate: 10,
        agent: 'fake',
      }));
      const viewport = page.viewportSize();
      if (!(await openSeededWorkspace(ctx, 'board', tickets))) return { skip: 'dist/cli.js does not exist' };
      let rows = [];
      await until(
        page,
        'the board in the Tickets view',
        async () => {
          rows = await visibleTicketRows(page);
          return rows.length >= 15 || `${rows.length} rows`;
        },
        60_000,
      );
      await painted(page); // the last paint before the picture
      rows = await visibleTicketRows(page);
      const file20 = await shot('20-sidebar-20-tickets');
      const headers = (await sidebar(page).locator('.pane-header').allInnerTexts()).map((h) => h.replace(/\s+/g, ' ').trim());
      const shown = ['Escalations', 'Agents', 'Merge Queue', 'Locks'].filter((v) => headers.some((h) => h.startsWith(v)));
      if (shown.length) throw new Error(`views with nothing to show are not hidden: ${shown.join(', ')} (headers: ${headers.join(' | ')})`);
      if (rows.length < 15)
        throw new Error(
          `only ${rows.length} ticket rows visible at ${viewport?.width}×${viewport?.height}: ${rows.map((r) => r.text.slice(0, 20)).join(' | ')}`,
        );
      ctx.boardRows = rows.length;
      return { note: `${rows.length} of ${BOARD} ticket rows visible at ${viewport?.width}×${viewport?.height}; headers: ${headers.join(' | ')}; ${file20}` };
    },
  },
  {
    name: 'sidebar: Orchard: Filter Tickets… (text) narrows the tree and says so; Clear Ticket Filter lists all again',
    async run(ctx) {
      const { page, shot } = ctx;
      if (!ctx.boardRows) return { skip: 'the 20-ticket board did not open' };
      await runCommand(page, 'Orchard: Filter Tickets');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Text…' }).first().waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.type('Text', { delay: 5 });
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Filter Tickets: text' }).waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill('T1');
      await page.keyboard.press('Enter');
      // T1 and T10–T19.
      const message = pane(page, 'Tickets').locator('.message');
      await until(page, 'the filter message and 11 rows', async () => {
        const m = ((await message.innerText({ timeout: 1_000 }).catch(() => '')) ?? '').trim();
        const n = (await visibleTicketRows(page)).length;
        return (/Filtered \(“T1”\): 11 of 20 tickets/.test(m) && n === 11) || `${n} rows, message "${m}"`;
      });
      await shot('21-sidebar-filtered');
      const note = (await message.innerText()).trim();
      await runCommand(page, 'Orchard: Clear Ticket Filter');
      await until(
        page,
        'every row back',
        async () => (await visibleTicketRows(page)).length === ctx.boardRows || `${(await visibleTicketRows(page)).length} rows`,
      );
      return { note };
    },
  },
];
