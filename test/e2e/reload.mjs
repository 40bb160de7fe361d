#!/usr/bin/env node
// Window reload mid-run, in the real host (issue 9's "the same while VS Code reloads its
// window"). The packaged extension in code-server, driven from headless Chromium: a temp git
// repository with a ticket graph (fake agents), "Orchard: Start", then the window is reloaded
// at seeded moments — while agents run, right when a merge starts, after a few events — with
// the agent terminals kept by persistent sessions (their runners are adopted) or not, sometimes
// with the Orchard view hidden, and once closed and opened again while another process still
// holds the writer lease (as the old window's extension host can for a few seconds). Orchard
// must pick the batch up again by itself after each reload, in rounds of fresh repositories
// until every reload is injected. The mocha suite cannot do this: it runs inside the extension
// host that a reload kills, so this drives the browser from outside.
//
// Afterwards, from this process, on disk: every ticket done, none merged twice, main's tree
// equals an undisturbed headless run of the same graph (`orchard run` in a second repo), no
// orphaned worktree, no lock left, no agent left running, snapshot == replay of events.jsonl
// (test/reliability/helpers.ts, the crash test's checks). Prints the reliability figures line
// `[reliability] reload (...): faults injected N, survived N, lost N` and `reload: N passed, N failed`.
//
// Usage: node --import tsx test/e2e/reload.mjs [--reloads N] [--tickets N] [--seed N]
//          [--no-package] [--vsix FILE] [--keep] [--verbose]
// Env:   ORCHARD_RELOADS, ORCHARD_RELOAD_TICKETS, ORCHARD_RELOAD_SEED (the soak sets them).
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHost, DEFAULT_SETTINGS, launchBrowser } from '../host/codeServer.mjs';
import { hostReady, log, repoRoot } from '../host/paths.mjs';
import { setup } from '../host/setup.mjs';
import { runCommand } from './steps.mjs';
import { showOrchard } from './waits.mjs';
import { sidebar } from './workbench.mjs';

let H, R;
try {
  H = await import('../reliability/helpers.ts');
  R = await import('../helpers/repo.ts');
} catch (e) {
  console.error(`reload: cannot load the TypeScript helpers (run with: node --import tsx test/e2e/reload.mjs): ${e.message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = {
    reloads: Number(process.env.ORCHARD_RELOADS ?? 4),
    tickets: Number(process.env.ORCHARD_RELOAD_TICKETS ?? 8),
    seed: Number(process.env.ORCHARD_RELOAD_SEED ?? 20261121),
    pack: true,
    vsix: null,
    keep: false,
    verbose: !!process.env.ORCHARD_HOST_VERBOSE,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reloads') o.reloads = Number(argv[++i]);
    else if (a === '--tickets') o.tickets = Number(argv[++i]);
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--no-package') o.pack = false;
    else if (a === '--vsix') o.vsix = resolve(argv[++i]);
    else if (a === '--keep') o.keep = true;
    else if (a === '--verbose') o.verbose = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const SCENARIO = 'reload (VS Code window reload mid-run)';
const HELD = 'reopen while the lease is held';
const opts = parseArgs(process.argv.slice(2));
const t0 = Date.now();
const rand = H.rng(opts.seed);
/** The seeded moment's extra time after an event (a chosen instant for the fault, not a wait for anything). */
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves at the next change under `dir` (a file written, added or removed: an event
 * appended, a lease or a run's exit recorded, a log line), or after `capMs` when nothing there
 * changed: a process that died shows in no file, so its state is looked at again then.
 */
function changeIn(dir, capMs) {
  return new Promise((settle) => {
    let watcher;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      settle();
    };
    const timer = setTimeout(done, capMs);
    try {
      watcher = watch(dir, { recursive: true }, done);
      watcher.on('error', done);
    } catch {
      // not there (yet): the cap
    }
  });
}

/** Re-checks `pred` at every change under `dir` until it holds or `ms` pass; its last answer. */
async function untilChange(dir, pred, ms, capMs = 200) {
  const end = Date.now() + ms;
  let v = pred();
  while (!v && Date.now() < end) {
    await changeIn(dir, capMs);
    v = pred();
  }
  return v;
}
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const checks = [];
function check(name, problems) {
  const list = Array.isArray(problems) ? problems : problems ? [String(problems)] : [];
  checks.push({ name, ok: list.length === 0 });
  console.log(list.length ? `FAIL - ${name}\n     ${list.join('\n     ').slice(0, 3000)}` : `ok   - ${name}`);
}

/** The ticket graph of the crash test (disjoint files, chains, fan-ins), with agents slow enough to be caught mid-run. */
function graph(n) {
  const r = H.rng(opts.seed ^ 0x5eed);
  return H.ticketGraph(n, 7).map((t) => ({ ...t, prompt: `work on ticket ${t.id.slice(1)}\n@sleep ${r.int(2000, 4000)}` }));
}

/** Reads events.jsonl incrementally; keeps each ticket's status from the ticket-status events. */
function eventTail(repo) {
  const file = join(H.stateDir(repo), 'events.jsonl');
  let offset = 0;
  let partial = '';
  const status = {};
  const all = [];
  return {
    status,
    all,
    poll() {
      let buf;
      try {
        buf = readFileSync(file);
      } catch {
        return [];
      }
      if (buf.length < offset) throw new Error('events.jsonl shrank');
      const text = partial + buf.subarray(offset).toString('utf8');
      offset = buf.length;
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      const fresh = [];
      for (const l of lines) {
        if (!l.trim()) continue;
        const e = JSON.parse(l);
        if (e.type === 'ticket-added') status[e.ticket.id] = e.ticket.status ?? 'backlog';
        if (e.type === 'ticket-status') status[e.id] = e.to;
        all.push(e);
        fresh.push(e);
      }
      return fresh;
    },
  };
}

async function openOrchardView(page) {
  await showOrchard(page, 30_000);
  await sidebar(page).locator('.pane-header', { hasText: 'Tickets' }).first().waitFor({ state: 'visible', timeout: 15_000 });
}
async function workbenchReady(page) {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  await page.locator('.part.activitybar').waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForFunction(() => document.title.includes('repo'), null, { timeout: 30_000 });
}

async function main() {
  const scratch = mkdtempSync(join(tmpdir(), 'orchard-reload-'));
  const shotDir = join(repoRoot, 'test-results');
  mkdirSync(shotDir, { recursive: true });
  const n = opts.tickets;
  const tickets = graph(n);
  console.log(`reload: ${opts.reloads} reloads, ${n} tickets, seed ${opts.seed}`);

  // The bundles and the .vsix.
  R.buildDist();
  // Our own .vsix in the scratch folder: another test may package dist/orchard.vsix while this one runs.
  let vsix = join(scratch, 'orchard.vsix');
  if (!opts.vsix && opts.pack) {
    const npx = (args) => spawnSync('npx', args, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    let r = spawnSync(process.execPath, ['esbuild.config.mjs', '--production'], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status === 0) r = npx(['@vscode/vsce', 'package', '--no-dependencies', '--out', vsix]);
    if (r.status !== 0) throw new Error(`packaging failed (exit ${r.status}):\n${r.stdout}${r.stderr}`.slice(-3000));
  } else {
    const from = opts.vsix ?? join(repoRoot, 'dist', 'orchard.vsix');
    if (!existsSync(from)) throw new Error(`${from} missing (run npm run package)`);
    copyFileSync(from, vsix);
  }
  if (!hostReady()) await setup();

  // The reference: the same graph, headless and undisturbed, in a second repository (runs while the host starts).
  const setUp = (prefix) => {
    const r = R.makeRepo(prefix);
    const file = join(r.root, 'tickets.json');
    H.writeTickets(file, tickets);
    for (const args of [
      ['init', '--agent', 'fake', '--agents', '3'],
      ['import', file],
    ]) {
      const res = H.cliSync(r.repo, args);
      if (res.code !== 0) throw new Error(`orchard ${args.join(' ')}: ${res.out}${res.err}`);
    }
    return r;
  };
  const ref = setUp('orchard-reload-ref-');
  const refRun = H.cli(ref.repo, ['run', '--quiet']).done;

  const hostSettings = {
    'orchard.defaultAgent': 'fake',
    'orchard.maxAgents': 3,
    // VS Code's default: agent terminals survive a reload (their runners are adopted again).
    'terminal.integrated.enablePersistentSessions': true,
  };
  const host = await createHost({
    prefix: 'orchard-reload-host-',
    keep: opts.keep,
    settings: hostSettings,
    env: { ...R.GIT_ENV, ORCHARD_TEST_RETRY_SCALE: '0.001' },
  });
  const settingsFile = join(host.dirs.userData, 'User', 'settings.json');
  const writeSettings = (extra) => writeFileSync(settingsFile, JSON.stringify({ ...DEFAULT_SETTINGS, ...hostSettings, ...extra }, null, 2));
  let browser;
  const consoleErrors = [];
  const reloads = []; // one record per injected reload
  const kept = [];
  let lostTotal = 0;
  let redoneTotal = 0;
  const batches = [];
  // The first three reloads cover each kind of moment, one with the agent terminals closed and
  // one with the Orchard view hidden; later ones (the soak) are drawn at random.
  const firstKinds = ['running', 'merging', 'events'].sort(() => rand.next() - 0.5);
  const closedAt = rand.int(1, 3);
  const hiddenAt = rand.int(1, 3);
  try {
    host.installExtension(vsix);
    await host.start();
    browser = await launchBrowser({
      root: host.root,
      onConsole: (m) => {
        if (opts.verbose) console.log(`[page:${m.type()}] ${m.text()}`);
        if (m.type() === 'error') consoleErrors.push(m.text());
      },
    });
    const page = browser.page;
    let refChecked = false;

    // Rounds: a fresh repository each, until every reload is injected (a batch can end before).
    for (let round = 1; reloads.length < opts.reloads && round <= opts.reloads + 1; round++) {
      const tag = (name) => (round > 1 || opts.reloads > 3 ? `round ${round}: ${name}` : name);
      const ws = setUp('orchard-reload-ws-');
      kept.push(ws.repo);
      const events = eventTail(ws.repo);
      const stateDir = H.stateDir(ws.repo);
      events.poll();
      await page.goto(host.url({ folder: ws.repo }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
      await workbenchReady(page);
      await openOrchardView(page);
      const startedAt = Date.now();
      console.log(`round ${round}: workbench open, ${secs(startedAt - t0)} after the start of the test`);
      await runCommand(page, 'Orchard: Start');

      const allDone = () => Object.keys(events.status).length === n && Object.values(events.status).every((st) => st === 'done');
      /** Polls events until `pred(freshEvents)` is true; false when the batch finished first or time ran out. */
      async function waitEvents(pred, ms) {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (pred(events.poll())) return true;
          if (allDone()) return false;
          await changeIn(stateDir, 250);
        }
        return false;
      }
      const liveRuns = (all) => {
        const open = new Set();
        for (const e of all)
          if (e.type === 'run-started') open.add(e.run.id);
          else if (e.type === 'run-ended') open.delete(e.runId);
        return [...open];
      };
      const inRound = [];
      let heldPlaced = false;
      /** Every Orchard output channel log of this host so far. */
      const orchardLog = () => {
        const r = spawnSync('sh', ['-c', `cat "${host.dirs.userData}"/logs/*/exthost*/orchard-dev.orchard/Orchard.log 2>/dev/null`], { encoding: 'utf8' });
        return r.stdout ?? '';
      };
      while (reloads.length < opts.reloads) {
        const i = reloads.length + 1;
        // A seeded moment.
        const kind = i <= 3 ? firstKinds[i - 1] : rand.pick(['running', 'merging', 'events']);
        const k = rand.int(1, 12);
        const extraMs = rand.int(0, 1500);
        // HELD: the window closes and opens again while another process still holds the writer
        // lease (as the old window's extension host can for a few seconds after a reload).
        const how =
          i === 4 || (i > 4 && rand.next() < 0.2) ? HELD : kind === 'merging' ? 'page.reload()' : rand.pick(['page.reload()', 'Developer: Reload Window']);
        const terminals = i === closedAt || (i > 3 && rand.next() < 0.3) ? 'closed' : 'kept';
        const hidden = i === hiddenAt || (i > 3 && rand.next() < 0.3); // the Explorer, not Orchard, is shown when the window comes back
        // Written before the moment, so the workbench has read it by the time of the reload.
        writeSettings(terminals === 'closed' ? { 'terminal.integrated.enablePersistentSessions': false } : {});
        let reached;
        if (kind === 'running')
          reached = await waitEvents(() => Object.values(events.status).includes('running'), 60_000).then(
            async (ok) => ok && (await delay(extraMs), !allDone()),
          );
        else if (kind === 'merging') reached = await waitEvents((fresh) => fresh.some((e) => e.type === 'ticket-status' && e.to === 'merging'), 60_000);
        else {
          let seen = 0;
          reached = await waitEvents((fresh) => (seen += fresh.length) >= k, 60_000);
        }
        if (!reached) {
          console.log(`reload ${i}: the batch ${allDone() ? 'finished' : 'stalled'} before the moment (${kind}); next round`);
          break;
        }
        if (hidden) await page.keyboard.press('Control+Shift+E').catch(() => {});
        const running = Object.entries(events.status)
          .filter(([, st]) => st === 'running')
          .map(([id]) => id);
        const merging = Object.entries(events.status)
          .filter(([, st]) => st === 'merging')
          .map(([id]) => id);
        const seqAt = events.all.at(-1)?.seq ?? 0;
        const live = liveRuns(events.all);
        const leaseFile = join(H.stateDir(ws.repo), 'writer.lock');
        const leaseHolder = () => {
          try {
            return JSON.parse(readFileSync(leaseFile, 'utf8'));
          } catch {
            return undefined;
          }
        };
        const oldPid = leaseHolder()?.pid;
        let fakePid;
        let holder;
        const r0 = Date.now();
        if (how === HELD) {
          await page.goto('about:blank');
          // The old window's extension host ends (it may take the reconnection grace time).
          const holderGone = () => {
            try {
              return !R.pidAlive(JSON.parse(readFileSync(leaseFile, 'utf8')).pid);
            } catch {
              return true; // no lease file
            }
          };
          heldPlaced = await untilChange(stateDir, holderGone, 25_000, 100);
          if (heldPlaced) {
            // Holds the lease until the new window has opened as a viewer, then goes away.
            holder = spawn('sleep', ['60'], { stdio: 'ignore' });
            fakePid = holder.pid;
            const t = Date.now();
            writeFileSync(
              leaseFile,
              JSON.stringify({
                pid: holder.pid,
                hostname: hostname(),
                startedAt: t,
                heartbeatAt: t,
                owner: 'a window still closing (test)',
                token: randomUUID(),
              }),
            );
          }
          await page.goto(host.url({ folder: ws.repo }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
        } else if (how === 'page.reload()') await page.reload({ waitUntil: 'domcontentloaded', timeout: 60_000 });
        else await runCommand(page, 'Developer: Reload Window');
        await workbenchReady(page);
        const loadedMs = Date.now() - r0;
        writeSettings({});
        let viewer = false;
        if (holder) {
          viewer = await untilChange(join(host.dirs.userData, 'logs'), () => orchardLog().includes(`already running in pid ${fakePid}`), 20_000);
          holder.kill('SIGKILL');
        }
        // Resumed: a new window holds the writer lease and recorded something, without any click on Orchard.
        const resumed = await waitEvents(() => {
          const h = leaseHolder();
          return !!h && h.pid !== oldPid && h.pid !== fakePid && events.all.some((e) => e.seq > seqAt && e.at >= h.startedAt);
        }, 45_000);
        let tookOver;
        if (holder) {
          tookOver = viewer && (await untilChange(join(host.dirs.userData, 'logs'), () => orchardLog().includes('this window takes over'), 10_000));
          if (!viewer) console.log(`reload ${i}: the window never opened as a viewer while the lease was held`);
        }
        const rec = {
          i,
          round,
          kind,
          how,
          tookOver,
          terminals,
          hidden,
          running,
          merging,
          live,
          seqAt,
          loadedMs,
          resumed: resumed || allDone(),
          resumeMs: Date.now() - r0,
        };
        reloads.push(rec);
        inRound.push(rec);
        console.log(
          `reload ${i}: ${kind}${kind === 'events' ? ` +${k}` : ''} via ${how}, terminals ${terminals}${hidden ? ', Orchard view hidden' : ''}; running [${running.join(' ')}] merging [${merging.join(' ')}]; workbench back in ${secs(loadedMs)}; ${rec.resumed ? `resumed in ${secs(rec.resumeMs)}` : 'NOT resumed'}`,
        );
        if (tookOver === false) console.log(`reload ${i}: the window did not say it took over from the holder`);
        if (!rec.resumed) {
          await page.screenshot({ path: join(shotDir, `e2e-reload-${i}-stuck.png`) }).catch(() => {});
          break;
        }
        if (i === 1) await page.screenshot({ path: join(shotDir, 'e2e-reload-after-1.png') }).catch(() => {});
      }

      // Let the batch finish on its own.
      const ended = () => events.all.some((e) => e.type === 'batch-ended' && e.seq > (events.all.findLast((x) => x.type === 'batch-started')?.seq ?? 0));
      const finished = await (async () => {
        const end = Date.now() + 240_000;
        let doneAt = 0;
        while (Date.now() < end) {
          events.poll();
          if (allDone()) {
            doneAt ||= Date.now();
            if (ended() || Date.now() - doneAt > 10_000) return true;
          }
          await changeIn(stateDir, 200);
        }
        return false;
      })();
      const batchMs = Date.now() - startedAt;
      batches.push(secs(batchMs));
      await openOrchardView(page).catch(() => {});
      await page.screenshot({ path: join(shotDir, 'e2e-reload-done.png') }).catch(() => {});
      console.log(`round ${round}: batch ${finished ? 'finished' : 'did NOT finish'} in ${secs(batchMs)}, ${inRound.length} reloads`);
      // Closing the window ends the extension host: the writer lease is released.
      await page.goto('about:blank').catch(() => {});
      const leaseFile = join(H.stateDir(ws.repo), 'writer.lock');
      await untilChange(H.stateDir(ws.repo), () => !existsSync(leaseFile), 10_000, 100);

      // ---- checks, from disk -------------------------------------------------------
      if (!refChecked) {
        refChecked = true;
        const ref0 = await refRun;
        check(
          'the undisturbed headless run of the same graph (the reference) finishes',
          ref0.code === 0 ? [] : [`orchard run exited ${ref0.code}: ${ref0.out}${ref0.err}`.slice(-1500)],
        );
      }
      check(tag('the batch end is recorded (batch-ended)'), ended() ? [] : ['no batch-ended event after the last batch-started']);
      const state = H.readSnapshot(ws.repo);
      const notDone = Object.values(state.tickets)
        .filter((t) => t.status !== 'done')
        .map((t) => `${t.id}:${t.status}${t.reason ? ` (${t.reason})` : ''}`);
      check(tag(`every ticket done (${n})`), notDone);
      const history = H.readEvents(ws.repo);
      const merged = history.filter((e) => e.type === 'ticket-merged');
      check(
        tag('each ticket merged exactly once (ticket-merged events)'),
        merged.length === n ? [] : [`${merged.length} ticket-merged events for ${n} tickets`],
      );
      check(
        tag('invariants: seq, no double merge, snapshot == replay of events.jsonl, no lock of an ended run, no orphaned worktree, no index.lock'),
        H.invariantProblems(ws.repo, ws.git),
      );
      check(
        tag('no lock left'),
        state.locks.map((l) => `${l.pattern} held by ${l.runId}`),
      );
      const { lost, redone } = H.ticketLines(ws.git, n);
      check(tag('no ticket lost on main'), lost);
      const refTree = ref.git('rev-parse', 'main^{tree}');
      const tree = ws.git('rev-parse', 'main^{tree}');
      // Exactly (as the crash test): an interrupted attempt restarts from where it began, so no line is written twice.
      check(
        tag("main's tree equals the undisturbed run's"),
        tree === refTree ? [] : [`tree ${tree} vs reference ${refTree}${redone.length ? `; written twice: ${redone.join(' ')}` : ''}`],
      );
      // A runner whose agent has ended (exit.json written, its agent gone) only holds its terminal
      // open for reading until a key is pressed: it runs nothing.
      const runsDir = join(H.stateDir(ws.repo), 'runs');
      const working = (p) => {
        const run = Object.values(state.runs).find((r) => r.pid === p);
        if (!run || !existsSync(join(runsDir, run.id, 'exit.json'))) return R.pidAlive(p);
        let agentPid;
        try {
          agentPid = JSON.parse(readFileSync(join(runsDir, run.id, 'status.json'), 'utf8')).agentPid;
        } catch {}
        return !!agentPid && R.pidAlive(agentPid);
      };
      const alive = H.livePids(state);
      await untilChange(runsDir, () => !alive.some(working), 5_000, 100);
      check(
        tag('no agent or runner left running'),
        alive.filter(working).map((p) => `pid ${p}`),
      );
      check(
        tag('the writer lease is released when the window closes'),
        existsSync(leaseFile) ? [`${leaseFile}: ${readFileSync(leaseFile, 'utf8').slice(0, 200)}`] : [],
      );

      // What became of the runs alive at each reload: adopted again (their agent went on) or interrupted and retried.
      for (const [j, r] of inRound.entries()) {
        r.adopted = 0;
        r.interrupted = 0;
        const nextSeq = inRound[j + 1]?.seqAt ?? Infinity;
        for (const id of r.live) {
          const end = history.find((e) => e.type === 'run-ended' && e.runId === id && e.seq > r.seqAt);
          if (end && end.seq <= nextSeq && end.outcome === 'crashed' && /interrupted/.test(end.message ?? '')) r.interrupted++;
          else r.adopted++;
        }
        console.log(
          `reload ${r.i}: runs alive ${r.live.length} — went on (adopted, or their exit read by the next window) ${r.adopted}, interrupted and retried ${r.interrupted}`,
        );
      }
      lostTotal += lost.length + notDone.length;
      redoneTotal += redone.length;
    }
    const held = reloads.filter((r) => r.tookOver !== undefined);
    if (held.length)
      check(
        'a window opened while another process held the writer lease took over once it was gone',
        held.filter((r) => !r.tookOver || !r.resumed).map((r) => `reload ${r.i}`),
      );
    check(`${opts.reloads} reloads injected, each picked up again without a click`, [
      ...(reloads.length < opts.reloads ? [`only ${reloads.length} injected`] : []),
      ...reloads.filter((r) => !r.resumed).map((r) => `reload ${r.i} (${r.kind}): Orchard did not resume within 45 s`),
    ]);

    // Figures: a reload survived when Orchard picked the batch up again and its round ended clean.
    const clean = checks.every((c) => c.ok);
    for (const r of reloads) H.count(SCENARIO, r.resumed && clean);
    const f = H.figures[SCENARIO] ?? { injected: 0, survived: 0, lost: 0 };
    f.lost += lostTotal;
    const kinds = reloads.map((r) => `${r.kind}/${r.terminals}${r.hidden ? '/hidden' : ''}`).join(', ');
    const rounds = batches.length;
    H.printFigures(
      SCENARIO,
      `${rounds} round(s) of ${n} tickets, seed ${opts.seed}; ${kinds}; runs adopted ${reloads.reduce((a, r) => a + (r.adopted ?? 0), 0)}, interrupted and retried ${reloads.reduce((a, r) => a + (r.interrupted ?? 0), 0)}; redone ${redoneTotal}; batches ${batches.join(', ')}`,
    );
  } finally {
    if (!checks.every((c) => c.ok) && consoleErrors.length) console.log(`--- page console errors (last 10) ---\n${consoleErrors.slice(-10).join('\n')}`);
    await browser?.close();
    if (opts.keep) log(`kept ${kept.join(', ')}, ${ref.repo}, host ${host.root}`);
    await host.stop();
    if (!opts.keep) {
      R.cleanupRepos();
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const passed = checks.filter((c) => c.ok).length;
  const failed = checks.length - passed;
  console.log(`reload: ${passed} passed, ${failed} failed (${secs(Date.now() - t0)})`);
  return failed ? 1 : 0;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    console.log('reload: 0 passed, 1 failed');
    process.exit(1);
  },
);
