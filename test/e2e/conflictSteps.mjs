// End-to-end steps for a real merge conflict (appended to steps.mjs): a third repository whose
// two tickets' fake agents append different lines to the same file (`@write greeting.txt`),
// run in parallel by Orchard: Start. The first merges; the second stops with a conflict and
// Orchard's question. Orchard: Open Conflicted Files opens the file in VS Code's 3-way merge
// editor (screenshot); a side is accepted there and Complete Merge saves it; Continue Merge
// merges the ticket, and main holds the resolved file.
import { spawnSync } from 'node:child_process';
import { runCommand } from './steps.mjs';
import { painted, until } from './waits.mjs';
import { ticketRows } from './workbench.mjs';
import { openSeededWorkspace } from './workspaces.mjs';

const FILE = 'greeting.txt';
const BASE = 'Hello\n';
const mergeEditor = (page) => page.locator('.merge-editor').first();
const git = (cwd, ...args) => spawnSync('git', args, { cwd, encoding: 'utf8' });

/** The status group each ticket row is shown under, by ticket id. */
async function groups(page) {
  const out = {};
  let group = '';
  for (const [level, text] of await ticketRows(page)) {
    if (level === 1) group = text;
    else if (/^C\d/.test(text)) out[text.slice(0, 2)] = group;
  }
  return out;
}

/** Picks the row of the quick pick that is open now whose label matches. */
async function pickRow(page, title, text) {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 10_000 });
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
}

export const conflictSteps = [
  {
    name: 'conflict: two tickets write the same file; the second merge stops with a conflict and a question',
    async run(ctx) {
      const { page } = ctx;
      const tickets = ['C1', 'C2'].map((id, i) => ({
        id,
        title: `${i ? 'Formal' : 'Friendly'} greeting`,
        prompt: `Add a greeting.\n@sleep 1500\n@write ${FILE}`,
        priority: 'P2',
        files: [`notes/${id}.md`],
        estimate: 5,
        agent: 'fake',
      }));
      const ws = await openSeededWorkspace(ctx, 'merge', tickets, { 'README.md': '# merge\n', [FILE]: BASE });
      if (!ws) return { skip: 'dist/cli.js does not exist' };
      await until(
        page,
        'C1 and C2 in the Tickets view',
        async () => Object.keys(await groups(page)).length === 2 || JSON.stringify(await groups(page)),
        60_000,
      );
      await runCommand(page, 'Orchard: Start');
      // Orchard's question about the stopped merge comes as a notification.
      const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: `merge conflict in ${FILE}` }).first();
      await toast.waitFor({ state: 'visible', timeout: 120_000 });
      const text = (await toast.innerText()).replace(/\s+/g, ' ');
      const loser = text.match(/\bC[12]\b/)?.[0];
      if (!loser) throw new Error(`the conflict notification names no ticket: ${text}`);
      ctx.merge = { ws, loser, winner: loser === 'C1' ? 'C2' : 'C1' };
      await until(
        page,
        `${ctx.merge.winner} merged`,
        async () => /^Done/.test((await groups(page))[ctx.merge.winner] ?? '') || JSON.stringify(await groups(page)),
        60_000,
      );
      return { note: `${text.slice(0, 160)}; ${ctx.merge.winner} merged first` };
    },
  },
  {
    name: 'conflict: Orchard: Open Conflicted Files shows the file in the 3-way merge editor (both sides and the result)',
    async run(ctx) {
      const { page, shot } = ctx;
      if (!ctx.merge) return { skip: 'no conflict' };
      const { loser, winner } = ctx.merge;
      await page.keyboard.press('Escape');
      await runCommand(page, 'Orchard: Open Conflicted Files');
      await pickRow(page, 'Open Conflicted Files', loser);
      const editor = mergeEditor(page);
      await editor.waitFor({ state: 'visible', timeout: 30_000 });
      // Both sides rendered (the target with the winner's line, the ticket's branch with the
      // loser's), each with its conflict's actions, and the result with the conflict open.
      let seen = '';
      await until(page, 'both sides and the result in the merge editor', async () => {
        seen = (await editor.innerText()).replace(/\s+/g, ' ');
        const ok =
          seen.includes(`- ${winner}:`) &&
          seen.includes(`- ${loser}:`) &&
          seen.includes('Accept Target') &&
          seen.includes(`Accept orchard/${loser}`) &&
          /1 Conflict Remaining/.test(seen);
        return ok || seen.slice(0, 300);
      });
      await page.mouse.move(700, 880);
      await painted(page);
      const file = await shot('30-merge-editor');
      return { note: `${file}; ${seen.slice(0, 240)}` };
    },
  },
  {
    name: "conflict: accept the ticket's side, Complete Merge, Continue Merge → merged on main with the resolved content",
    async run(ctx) {
      const { page, shot } = ctx;
      if (!ctx.merge) return { skip: 'no conflict' };
      const { ws, loser, winner } = ctx.merge;
      const editor = mergeEditor(page);
      const actions = await editor.locator('.merge-editor-conflict-actions a[role="button"]').allInnerTexts();
      // The right-hand side is the ticket's branch (theirs): its conflict's own "Accept orchard/<id>".
      await editor
        .locator('.merge-editor-conflict-actions a[role="button"]', { hasText: `Accept orchard/${loser}` })
        .first()
        .click();
      await until(page, 'no conflict remaining', async () => {
        const t = (await editor.innerText()).replace(/\s+/g, ' ');
        return !/[1-9]\d* Conflicts? Remaining/.test(t) || t.match(/\d+ Conflicts? Remaining/)[0];
      });
      await shot('31-merge-editor-resolved');
      // Complete Merge (the merge editor's own command, Ctrl+Enter) saves the result and closes the editor.
      await runCommand(page, 'Merge Editor: Complete Merge');
      await editor.waitFor({ state: 'detached', timeout: 20_000 });
      await runCommand(page, 'Orchard: Continue Merge');
      await pickRow(page, 'Continue Merge', loser);
      await until(page, `${loser} merged`, async () => /^Done/.test((await groups(page))[loser] ?? '') || JSON.stringify(await groups(page)), 90_000);
      const main = git(ws, 'show', `main:${FILE}`).stdout;
      if (/^(<<<<<<<|=======|>>>>>>>)/m.test(main)) throw new Error(`conflict markers on main:\n${main}`);
      if (!main.startsWith(BASE) || !main.includes(`- ${loser}:`)) throw new Error(`main's ${FILE} is not the resolution (the ticket's side):\n${main}`);
      await shot('32-conflict-merged');
      return {
        note: `conflict actions: ${actions.join(' | ')}; main:${FILE} = ${JSON.stringify(main)} (${winner}'s line ${main.includes(`- ${winner}:`) ? 'kept' : 'replaced'})`,
      };
    },
  },
];
