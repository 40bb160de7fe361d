// How the e2e steps wait: on the page's own events and state, never on a fixed sleep.
//   domChange  the workbench's next DOM mutation (what a poll re-checks after)
//   painted    two animation frames: what the DOM says is on screen (before a screenshot)
//   until      re-checks a probe at every DOM change until it is done (true or a value, never a string)

/**
 * Resolves at the workbench's next DOM mutation. State off the page (a file, git, a webview's
 * own document) changes nothing in it, so after `capMs` without a mutation it resolves anyway
 * and the caller looks again.
 */
export async function domChange(page, capMs = 500) {
  await page
    .evaluate(
      (cap) =>
        new Promise((resolve) => {
          const done = () => {
            observer.disconnect();
            clearTimeout(timer);
            resolve();
          };
          const observer = new MutationObserver(done);
          observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
          const timer = setTimeout(done, cap);
        }),
      capMs,
    )
    .catch(() => undefined); // the page navigated: the caller looks again
}

/** Resolves once the browser has painted what the DOM holds now (two animation frames), in the page or in `inFrame`'s frame (a webview). */
export async function painted(page, inFrame) {
  const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
  await (inFrame ? inFrame.evaluate(frames) : page.evaluate(frames));
}

/**
 * Re-checks `probe` at every DOM change until it is done, and returns what it returned. Done is
 * `true` or a value that is not a string (an object, a count above 0, a locator). A string is
 * what the probe saw instead (never done), and the last one, or the last error thrown, is in
 * the timeout's message: so a probe that wants a text back wraps it ({ text }).
 */
export async function until(page, what, probe, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe().catch((e) => `error: ${e.message}`);
    if (last && typeof last !== 'string') return last;
    await domChange(page);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Waits until the quick input's box holds `text` and, given `row`, its list's focused row contains that. */
export async function typedIn(page, text, { row } = {}) {
  await page.waitForFunction(
    ([t, r]) => {
      const w = document.querySelector('.quick-input-widget');
      if (w?.querySelector('.quick-input-box input')?.value !== t) return false;
      return !r || [...w.querySelectorAll('.monaco-list-row.focused')].some((el) => el.textContent.includes(r));
    },
    [text, row],
    { timeout: 10_000 },
  );
}

/** Types into the current quick input (input box or quick pick), waits until it holds the text, and presses Enter. */
export async function answerInput(page, text, { expectTitle, row } = {}) {
  await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: 10_000 });
  if (expectTitle) await page.locator('.quick-input-widget .quick-input-title', { hasText: expectTitle }).waitFor({ state: 'visible', timeout: 10_000 });
  if (text) {
    await page.keyboard.type(text, { delay: 5 });
    await typedIn(page, text, { row });
  }
  await page.keyboard.press('Enter');
}

/** Clicks the inline action `label` (aria-label prefix) of a tree row. */
export async function inlineAction(page, row, label) {
  const action = row.locator(`.action-label[aria-label^="${label}"]`);
  // A row drawn again under a still pointer (a row is repainted when what it shows changes) shows
  // its inline actions only on the next hover: move away and back until they show.
  await until(
    page,
    `the ${label} action of the row to show`,
    async () => {
      await page.mouse.move(0, 0);
      await row.hover();
      return (await action.isVisible()) || 'hidden';
    },
    30_000,
  );
  await action.click();
}

/**
 * Opens Orchard's side bar and waits until it shows. A click on the selected icon would close
 * the side bar, and a workbench still restoring its layout (after a reload, on a loaded machine)
 * may select it just after it was read as not selected: so it clicks only while the icon is not
 * selected, and looks again after each change. (The icon's <li role=tab> has an empty aria-label;
 * its <a class="action-label"> carries the name.)
 */
export async function showOrchard(page, ms = 60_000) {
  const icon = page.locator('.part.activitybar li[role="tab"]:has(a.action-label[aria-label^="Orchard"])').first();
  await icon.waitFor({ state: 'visible', timeout: ms });
  await until(
    page,
    "Orchard's side bar open",
    async () => {
      if ((await icon.getAttribute('aria-selected')) !== 'true') {
        await icon.click();
        return 'not selected: clicked the Orchard icon';
      }
      return (await page.locator('#workbench\\.parts\\.sidebar').isVisible()) || 'selected, side bar not shown yet';
    },
    ms,
  );
}
