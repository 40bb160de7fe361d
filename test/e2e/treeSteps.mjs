// End-to-end steps for the side bar and the palette (spread into steps.mjs): a ticket added
// through Add Ticket's guided input (typed with the keyboard), renamed through Edit Ticket's,
// started from its inline action in the Tickets tree, its escalation answered from the
// notification's QuickPick, and the ticket moving to Done in the tree.
import { runCommand } from './steps.mjs';
import { answerInput, inlineAction, painted, typedIn, until } from './waits.mjs';
import { groupOf, sidebar, ticketRows } from './workbench.mjs';

const TITLE = 'Greet the user';
/** Its title after Edit Ticket (it still contains TITLE, which the later steps look for). */
const RENAMED = 'Greet the user warmly';
const quickInput = (page) => page.locator('.quick-input-widget .quick-input-box input');

export const treeSteps = [
  {
    name: 'tree: the side bar has the Tickets view first; Escalations, Agents, Merge Queue and Locks only when they have something',
    async run({ page, shot }) {
      await sidebar(page).locator('.pane-header', { hasText: 'Tickets' }).first().waitFor({ state: 'visible', timeout: 10_000 });
      const headers = (await sidebar(page).locator('.pane-header').allInnerTexts()).map((h) => h.replace(/\s+/g, ' ').trim());
      if (!headers[0]?.startsWith('Tickets')) throw new Error(`Tickets is not the first view: ${headers.join(' | ')}`);
      await shot('10-sidebar-views');
      return { note: headers.join(' | ') };
    },
  },
  {
    name: 'palette: Orchard: Add Ticket through its guided input (keyboard)',
    async run({ page, shot }) {
      await runCommand(page, 'Orchard: Add Ticket');
      await answerInput(page, TITLE, { expectTitle: '1/6' });
      // A one-line prompt; lines starting with @ steer the fake agent: it asks, then writes.
      await answerInput(page, '@ask Formal greeting?', { expectTitle: '2/6' });
      await answerInput(page, '', { expectTitle: '3/6' }); // priority: P2 is first
      await answerInput(page, '', { expectTitle: '4/6' }); // depends on: none
      await answerInput(page, 'greeting.txt', { expectTitle: '5/6' });
      await quickInput(page).waitFor({ state: 'visible' });
      await page.locator('.quick-input-widget .quick-input-title', { hasText: '6/6' }).waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.type('fake', { delay: 5 });
      await typedIn(page, 'fake', { row: 'fake' });
      await painted(page);
      await shot('11-add-ticket-agent-step');
      await page.keyboard.press('Enter');
      await until(page, `"${TITLE}" in the Tickets tree`, async () => !!(await groupOf(page, TITLE)));
      await shot('12-ticket-added');
      return { note: `under "${await groupOf(page, TITLE)}"` };
    },
  },
  {
    name: 'palette: Orchard: Edit Ticket renames the ticket; its row changes in place',
    async run({ page, shot }) {
      await runCommand(page, 'Orchard: Edit Ticket');
      await answerInput(page, TITLE, { expectTitle: 'Edit Ticket', row: TITLE }); // which ticket
      // Each step starts from the ticket's own value: the title is replaced, the rest kept.
      await answerInput(page, RENAMED, { expectTitle: '1/6' });
      for (const step of ['2/6', '3/6', '4/6', '5/6']) await answerInput(page, '', { expectTitle: step });
      await answerInput(page, 'fake', { expectTitle: '6/6', row: 'fake' });
      // The rename keeps the tree's shape, so only this row is repainted (stateTree.ts).
      await until(page, `"${RENAMED}" in the Tickets tree`, async () => !!(await groupOf(page, RENAMED)));
      await painted(page);
      await shot('12b-ticket-renamed');
      return { note: `under "${await groupOf(page, RENAMED)}"` };
    },
  },
  {
    name: 'tree: start the ticket from its inline action; it runs, then waits on you',
    async run({ page, shot }) {
      const row = sidebar(page).locator('.monaco-list-row', { hasText: TITLE }).first();
      await inlineAction(page, row, 'Start Ticket');
      await until(page, 'the ticket to run or ask', async () => /Running|Waiting on you/.test((await groupOf(page, TITLE)) ?? ''));
      await shot('13-ticket-running');
      await until(page, 'the ticket to wait on you', async () => /Waiting on you/.test((await groupOf(page, TITLE)) ?? ''));
    },
  },
  {
    name: "escalation: the notification opens a QuickPick of the agent's options; the answer reaches the agent",
    async run({ page, shot }) {
      const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Formal greeting?' }).first();
      await toast.waitFor({ state: 'visible', timeout: 20_000 });
      await shot('14-escalation-notification');
      const status = (await page.locator('#workbench\\.parts\\.statusbar').innerText()).replace(/\s+/g, ' ');
      await toast.locator('.monaco-button', { hasText: 'Answer' }).first().click();
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Write guidance' }).first().waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.type('yes', { delay: 5 });
      await typedIn(page, 'yes');
      await painted(page);
      await shot('15-escalation-quickpick');
      await page.keyboard.press('Enter');
      return { note: `status bar while waiting: ${status.slice(0, 160)}` };
    },
  },
  {
    name: 'tree: the ticket moves to Done',
    async run({ page, shot }) {
      await until(page, 'the ticket in Done', async () => /^Done/.test((await groupOf(page, TITLE)) ?? ''), 60_000);
      await painted(page);
      await shot('16-ticket-done');
      return {
        note: (await ticketRows(page))
          .map(([l, t]) => `${l}:${t}`)
          .join(' | ')
          .slice(0, 300),
      };
    },
  },
];
