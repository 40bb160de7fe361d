// The end-to-end checks, run in order by test/host/runE2e.mjs against a real code-server
// in headless Chromium. Each step: { name, run(ctx), critical? }. run() throws to fail,
// returns { skip: 'reason' } to skip, or { note: 'text' } to annotate success.
// ctx: { page, host, workspace, seeded (ticket titles the CLI imported), shot(name), ... }
// To add a check, append a step here.

import { join } from 'node:path';
import { conflictSteps } from './conflictSteps.mjs';
import { sidebarSteps } from './sidebarSteps.mjs';
import { reviewSteps } from './reviewSteps.mjs';
import { treeSteps } from './treeSteps.mjs';
import { domChange, painted, showOrchard, until } from './waits.mjs';
import { sidebar } from './workbench.mjs';

/** The Tickets view's header (title, and its description: the batch's ETA). */
const ticketsHeader = (page) => sidebar(page).locator('.pane-header', { hasText: 'Tickets' }).first();

/** Runs a command through the command palette (F1, falling back to Ctrl+Shift+P). */
export async function runCommand(page, label) {
  // The palette can lose focus and close under the test's hands (an agent terminal or a
  // view taking focus as a batch starts); it is then reopened, as a user would. Nothing is
  // retried once Enter ran the command.
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  let last;
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      await page
        .locator('.monaco-workbench')
        .click({ position: { x: 700, y: 400 } })
        .catch(() => {});
      await page.keyboard.press(attempt % 2 ? 'F1' : 'Control+Shift+P');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${label}`, { timeout: 5_000 });
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      last = e;
      await page.keyboard.press('Escape').catch(() => {});
    }
  }
  const dialog = await page
    .locator('.monaco-dialog-box')
    .innerText({ timeout: 500 })
    .catch(() => '');
  throw new Error(
    `the command palette did not run "${label}" in 4 attempts${dialog ? ` (a dialog is open: ${dialog.replace(/\s+/g, ' ').slice(0, 200)})` : ''}: ${last?.message?.split('\n')[0]}`,
  );
}

/** Text of the error/warning notification toasts currently shown. */
async function errorToasts(page) {
  const toasts = page.locator('.notifications-toasts .notification-list-item');
  const n = await toasts.count();
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = toasts.nth(i);
    if ((await t.locator('.codicon-error').count()) > 0) out.push((await t.innerText()).replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** The full dashboard's webview body (the side-bar view is the compact one). */
async function dashboardBody(page) {
  const frames = page.locator('iframe.webview.ready');
  const n = await frames.count();
  for (let i = 0; i < n; i++) {
    const body = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame').locator('body');
    if (
      (await body
        .locator('#app')
        .count()
        .catch(() => 0)) &&
      !(await body.getAttribute('class', { timeout: 2_000 }).catch(() => 'compact'))?.includes('compact')
    )
      return body;
  }
  throw new Error(`no full dashboard among ${n} webviews`);
}

const latencies = [];
async function sampleLatency(body) {
  const v = await body.getAttribute('data-version').catch(() => null);
  const l = await body.getAttribute('data-latency-ms').catch(() => null);
  if (v && l && !latencies.some((x) => x.v === v)) latencies.push({ v, ms: Number(l) });
}

export const steps = [
  {
    name: 'click the Orchard icon in the activity bar',
    critical: true,
    async run({ page }) {
      await showOrchard(page, 30_000);
    },
  },
  {
    name: 'the Tickets view is shown',
    critical: true,
    async run({ page, shot }) {
      const sb = sidebar(page);
      await sb.waitFor({ state: 'visible', timeout: 15_000 });
      await sb
        .locator('.composite.title, .pane-header')
        .filter({ hasText: /Tickets/i })
        .first()
        .waitFor({ state: 'visible', timeout: 15_000 });
      // The tree's first page: its rows, or its welcome content when it has none.
      await until(
        page,
        'the Tickets tree to render',
        async () => (await sb.locator('.monaco-list-row').count()) > 0 || (await sb.locator('.welcome-view-content').count()) > 0,
      );
      await painted(page);
      await shot('02-tickets-view');
    },
  },
  {
    name: 'the Tickets tree shows the seeded ticket titles',
    async run({ page, seeded, shot }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded (CLI missing)' };
      const tree = sidebar(page);
      // One shared deadline: the tree fills from the state file the CLI wrote.
      const deadline = Date.now() + 20_000;
      let missing = seeded;
      while (Date.now() < deadline) {
        const rows = (
          await tree
            .locator('.monaco-list-row')
            .allInnerTexts()
            .catch(() => [])
        ).join('\n');
        missing = seeded.filter((t) => !rows.includes(t));
        if (missing.length === 0) break;
        await domChange(page);
      }
      await shot('03-tickets-tree');
      if (missing.length) {
        const rows = await tree
          .locator('.monaco-list-row')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(`titles not in the tree: ${missing.join(', ')}; rows: ${JSON.stringify(rows)}`);
      }
      return { note: `${seeded.length} titles visible` };
    },
  },
  {
    name: 'the Tickets view shows the predicted finish (ETA): header, summary row, ticket rows',
    async run({ page, seeded, shot }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded' };
      const eta = await until(
        page,
        'the ETA in the Tickets view',
        async () => {
          const header = (await ticketsHeader(page).innerText()).replace(/\s+/g, ' ');
          const rows = await sidebar(page).locator('.monaco-list-row').allInnerTexts();
          const summary = rows.find((r) => /^ETA ≈ \d/.test(r.trim()));
          const ticketEtas = rows.filter((r) => /T\d/.test(r) && /≈ \d+(\.\d)? (s|min|h)/.test(r));
          return /ETA ≈ \d+(\.\d)? (s|min|h)/.test(header) && summary && ticketEtas.length >= 1
            ? { header, summary: summary.replace(/\s+/g, ' '), ticketEtas }
            : undefined;
        },
        20_000,
      );
      await shot('03b-tickets-eta');
      // A ticket's tooltip: its predicted start and finish.
      const row = sidebar(page).locator('.monaco-list-row', { hasText: seeded[0] }).first();
      await row.hover();
      const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'Predicted finish' }).first();
      const tip = await hover.waitFor({ state: 'visible', timeout: 8_000 }).then(
        async () => (await hover.innerText()).replace(/\s+/g, ' '),
        () => '(no tooltip shown)',
      );
      await shot('03c-ticket-eta-tooltip');
      await page.mouse.move(700, 400);
      return { note: `header "${eta.header}"; summary "${eta.summary}"; ${eta.ticketEtas.length} ticket rows with an ETA; tooltip: ${tip.slice(0, 200)}` };
    },
  },
  // Side bar and palette: add a ticket with guided input, start it, answer it, see it done.
  ...treeSteps,
  {
    name: 'Orchard: Show Dashboard opens the dashboard webview',
    async run({ page, shot }) {
      await runCommand(page, 'Orchard: Show Dashboard');
      await page.locator('iframe.webview.ready').first().waitFor({ state: 'attached', timeout: 20_000 });
      const body = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame').locator('body');
      await body.waitFor({ state: 'attached', timeout: 20_000 });
      // Wait until the dashboard has rendered something.
      let text = '';
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        text = (await body.innerText().catch(() => '')).trim();
        if (text.length > 0) break;
        await domChange(page);
      }
      await painted(page, body).catch(() => undefined);
      await shot('04-dashboard');
      if (!text) throw new Error('dashboard webview body stayed empty');
      return { note: `${text.length} chars of text, starts "${text.slice(0, 60).replace(/\s+/g, ' ')}"` };
    },
  },
  {
    name: 'the dashboard lists the seeded tickets',
    async run({ page, seeded }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded' };
      const body = await until(page, 'the dashboard webview', () => dashboardBody(page));
      const deadline = Date.now() + 10_000;
      let missing = seeded;
      while (Date.now() < deadline) {
        const text = await body.innerText().catch(() => '');
        missing = seeded.filter((t) => !text.includes(t));
        if (missing.length === 0) return {};
        await domChange(page);
      }
      throw new Error(`not on the dashboard: ${missing.join(', ')}`);
    },
  },
  {
    name: 'dashboard: the predicted finish in the header, predicted runs in the timeline (before the batch starts)',
    async run({ page, seeded, shot }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded' };
      const body = await until(page, 'the dashboard webview', () => dashboardBody(page));
      const tile = await until(page, 'the ETA tile', async () => {
        const t = (await body.locator('#header .tile.eta').innerText({ timeout: 1_000 })).replace(/\s+/g, ' ');
        return /≈ \d+(\.\d)? (s|min|h)/.test(t) ? { text: t } : t;
      });
      const predicted = await until(page, 'predicted bars in the timeline', async () => body.locator('svg.gantt g.bar.predicted').count());
      await shot('04b-dashboard-eta');
      return { note: `tile "${tile.text}"; ${predicted} predicted bars` };
    },
  },
  {
    name: 'dashboard: Orchard: Start → agents, graph and metrics appear and update',
    async run({ page, seeded, shot, shotDir }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded' };
      await runCommand(page, 'Orchard: Start');
      await runCommand(page, 'Orchard: Show Dashboard');
      const body = await until(page, 'the dashboard webview', () => dashboardBody(page));
      const nodes = await until(page, 'graph nodes', async () =>
        (await body.locator('svg.graph g.node').count()) >= 3 ? body.locator('svg.graph g.node').count() : 0,
      );
      const v0 = Number(await body.getAttribute('data-version'));
      // An agent slot busy with a seeded ticket, with a progress bar.
      await until(page, 'a running agent row', async () => {
        await sampleLatency(body);
        const rows = await body.locator('#slots tbody tr').allInnerTexts();
        return rows.some((r) => /running|waiting for input|escalated/.test(r) && /T\d/.test(r));
      });
      const metrics = await body.locator('#metrics tbody tr').count();
      if (metrics < 5) throw new Error(`only ${metrics} metric rows`);
      await until(page, 'a later version (live updates)', async () => {
        await sampleLatency(body);
        return Number(await body.getAttribute('data-version')) > v0;
      });
      await shot('05-dashboard-running');
      // The batch runs: the ETA is a moment now (no "once started"), in the dashboard and the Tickets view.
      const etaTile = await until(
        page,
        'the live ETA tile',
        async () => {
          const t = (await body.locator('#header .tile.eta').innerText({ timeout: 1_000 })).replace(/\s+/g, ' ');
          return /predicted finish ≈ \d\d:\d\d/.test(t) ? { text: t } : t;
        },
        20_000,
      );
      const etaHeader = await until(
        page,
        'the live ETA in the Tickets header',
        async () => {
          const h = (await ticketsHeader(page).innerText()).replace(/\s+/g, ' ');
          return /ETA ≈ \d/.test(h) && !/once started/.test(h) ? { text: h } : h;
        },
        20_000,
      );
      await shot('05b-dashboard-running-eta');
      await body
        .locator('#gantt')
        .screenshot({ path: join(shotDir, 'e2e-05c-timeline-eta.png') })
        .catch(() => {});
      const header = (await body.locator('#header').innerText()).replace(/\s+/g, ' ');
      return {
        note: `${nodes} graph nodes, ${metrics} metrics; header: ${header.slice(0, 160)}; ETA tile "${etaTile.text}", Tickets header "${etaHeader.text}"`,
      };
    },
  },
  {
    name: 'dashboard: answer an escalation from the dashboard',
    async run({ page, seeded, shot }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded' };
      const body = await dashboardBody(page);
      const card = body.locator('.esc', { hasText: 'Which form library' }).first();
      await until(
        page,
        'the escalation card',
        async () => {
          await sampleLatency(body);
          return card.isVisible();
        },
        45_000,
      );
      await shot('06-dashboard-escalation');
      // Sent with Enter in the guidance box: Orchard's own notification of this question may
      // slide in over the card's Send button at any moment, and a click there would land on it.
      // Send stays disabled until the box holds some text.
      const guidance = card.locator('input[name="guidance"]');
      const send = card.locator('button[type="submit"]');
      if (!(await send.isDisabled())) throw new Error('Send is enabled with an empty guidance box');
      await guidance.fill('Use plain HTML forms, no library.');
      await until(page, 'Send enabled once guidance is typed', async () => (await send.isEnabled()) || 'still disabled');
      await guidance.press('Enter');
      // On failure it says where the answer stopped: still in flight (the card's controls disabled),
      // refused (enabled again, and the dashboard's toast says why), or answered but still shown.
      await until(
        page,
        'the escalation to leave the queue',
        async () => {
          await sampleLatency(body);
          const left = body.locator('.esc', { hasText: 'Which form library' });
          if ((await left.count()) === 0) return true;
          const inFlight = await left.first().locator('button[type="submit"]').isDisabled();
          const typed = await left.first().locator('input[name="guidance"]').inputValue();
          const toast = (await body.locator('#toast').textContent()) ?? '';
          return `card still shown; ${inFlight ? 'answer in flight (controls disabled)' : 'controls enabled'}; guidance box "${typed}"; dashboard toast: "${toast}"`;
        },
        45_000,
      );
      return {};
    },
  },
  {
    name: 'dashboard: the run finishes (done tickets, speedup) — screenshots dark and light',
    async run({ page, seeded, shot }) {
      if (seeded.length === 0) return { skip: 'no tickets were seeded' };
      const body = await dashboardBody(page);
      // The run settles: no agent busy any more (merged, or waiting on the human after a merge problem).
      await until(
        page,
        'every agent idle',
        async () => {
          await sampleLatency(body);
          return (await body.locator('#slots .s-idle').count()) === (await body.locator('#slots tbody tr').count());
        },
        90_000,
      );
      await painted(page, body);
      const theme = async () => ((await body.getAttribute('class')) ?? '').match(/vscode-(light|dark|high-contrast)/)?.[1] ?? 'theme';
      const before = await theme();
      await shot(`07-dashboard-settled-${before}`);
      await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
      // The webview takes the new theme's class once the workbench has switched.
      await until(page, 'the dashboard in the other theme', async () => (await theme()) !== before);
      await painted(page, body);
      await shot(`08-dashboard-settled-${await theme()}`);
      const done = await body.locator('svg.graph g.node.st-done').count();
      const ms = latencies.map((x) => x.ms).sort((a, b) => a - b);
      const q = (f) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))];
      return {
        note:
          `${done} done; ` +
          (ms.length
            ? `event → visible latency over ${ms.length} updates: median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${ms[ms.length - 1]} ms`
            : 'no latency samples'),
      };
    },
  },
  // The review desk: a ticket waits for review, is opened in the multi-diff editor, approved.
  ...reviewSteps,
  {
    name: 'no error notifications',
    async run({ page }) {
      const errs = await errorToasts(page);
      if (errs.length) throw new Error(`error notifications: ${errs.join(' | ')}`);
    },
  },
  // A second repository with a 20-ticket board: the side bar's room and the ticket filter.
  ...sidebarSteps,
  // A third repository: a real merge conflict resolved in VS Code's 3-way merge editor.
  ...conflictSteps,
];
