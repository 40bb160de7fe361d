// Persistence cost with a 10,000-ticket state: per-change append (fsynced), snapshot writes,
// load (snapshot + replay), full rebuild from the log. `--json` prints one JSON object last.
// Usage: node --import tsx bench/persist.ts [--json] [--tickets N] [--changes N] [--replay N]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OrchardEvent } from '../src/core/events';
import { TICKET_STATUSES } from '../src/core/model';
import { reduce } from '../src/core/reduce';
import { FileStateStore } from '../src/infra/store';

const args = process.argv.slice(2);
const num = (flag: string, d: number) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const TICKETS = num('--tickets', 10_000);
const CHANGES = num('--changes', 500);
const REPLAY = num('--replay', 1_000);
const quiet = { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-bench-'));
  const dir = path.join(root, 'orchard');
  try {
    const store = new FileStateStore(dir, { log: quiet });
    const state = await store.load();
    let seq = 0;
    const ev = (body: Record<string, unknown>): OrchardEvent => ({ seq: ++seq, at: Date.now(), ...body }) as OrchardEvent;

    // Populate: 10,000 tickets, 100 per append.
    const t0 = performance.now();
    for (let i = 0; i < TICKETS; i += 100) {
      const batch: OrchardEvent[] = [];
      for (let j = i; j < Math.min(TICKETS, i + 100); j++)
        batch.push(
          ev({
            type: 'ticket-added',
            ticket: {
              id: `T-${j}`,
              title: `Ticket number ${j} with a realistic title`,
              prompt: `Implement feature ${j}: change the module, add tests, keep the public API stable.`,
              priority: 'P2',
              dependsOn: j > 0 ? [`T-${j - 1}`] : [],
              files: [`src/module${j % 50}/file${j}.ts`, `test/module${j % 50}/file${j}.test.ts`],
              labels: ['bench'],
            },
          }),
        );
      await store.append(batch);
      for (const e of batch) reduce(state, e);
    }
    const populateMs = performance.now() - t0;

    // Snapshot writes of the full state.
    const snapMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      store.snapshot(state);
      await store.flush();
      snapMs.push(store.stats.lastSnapshotMs);
    }
    const snapBytes = store.stats.lastSnapshotBytes;

    // Persisted changes: one event each, appended + fsynced, folded, snapshot() scheduled.
    const writesBefore = store.stats.snapshotWrites;
    const bytesBefore = store.stats.appendedBytes;
    const changeMs: number[] = [];
    const changeStart = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      const id = `T-${(i * 37) % TICKETS}`;
      const from = state.tickets[id]!.status;
      const to = TICKET_STATUSES[(TICKET_STATUSES.indexOf(from) + 1) % TICKET_STATUSES.length]!;
      const e = ev({ type: 'ticket-status', id, from, to, reason: 'bench' });
      const c0 = performance.now();
      await store.append([e]);
      reduce(state, e);
      store.snapshot(state);
      changeMs.push(performance.now() - c0);
    }
    const changeWall = performance.now() - changeStart;
    await store.flush();
    const changeBytes = (store.stats.appendedBytes - bytesBefore) / CHANGES;
    const snapshotWritesDuringChanges = store.stats.snapshotWrites - writesBefore;

    // Load: snapshot + replay of REPLAY events appended after it (a crash before the next snapshot).
    for (let i = 0; i < REPLAY; i++) {
      const e = ev({ type: 'run-progress', runId: 'none', progress: i });
      await store.append([e]);
      reduce(state, e);
    }
    await store.close();
    const logBytes = fs.statSync(path.join(dir, 'events.jsonl')).size;
    const l0 = performance.now();
    const s2 = new FileStateStore(dir, { log: quiet });
    const loaded = await s2.load();
    const loadMs = performance.now() - l0;
    const replayed = s2.lastLoad!.replayed;
    if (loaded.seq !== state.seq) throw new Error(`load mismatch: ${loaded.seq} vs ${state.seq}`);
    s2.dispose();
    await new Promise((r) => setTimeout(r, 50));

    // Full rebuild from the log (no snapshot).
    fs.rmSync(path.join(dir, 'state.json'));
    const f0 = performance.now();
    const s3 = new FileStateStore(dir, { log: quiet });
    const rebuilt = await s3.load();
    const rebuildMs = performance.now() - f0;
    if (Object.keys(rebuilt.tickets).length !== TICKETS) throw new Error('rebuild mismatch');
    await s3.close();

    const result = {
      tickets: TICKETS,
      changes: CHANGES,
      change_ms_p50: r2(pct(changeMs, 50)),
      change_ms_p99: r2(pct(changeMs, 99)),
      change_ms_max: r2(Math.max(...changeMs)),
      change_bytes_avg: Math.round(changeBytes),
      change_wall_ms: Math.round(changeWall),
      snapshot_writes_during_changes: snapshotWritesDuringChanges,
      snapshot_ms_p50: r2(pct(snapMs, 50)),
      snapshot_ms_max: r2(Math.max(...snapMs)),
      snapshot_bytes: snapBytes,
      log_bytes: logBytes,
      load_ms: r2(loadMs),
      load_replayed_events: replayed,
      rebuild_ms: r2(rebuildMs),
      rebuild_events: seq,
      populate_ms: Math.round(populateMs),
      target_change_p99_ms: 20,
      ok: pct(changeMs, 99) <= 20,
    };
    const rows: Array<[string, string]> = [
      ['tickets', String(TICKETS)],
      [`persisted change (append+fsync, ${CHANGES}x) p50 / p99 / max`, `${result.change_ms_p50} / ${result.change_ms_p99} / ${result.change_ms_max} ms`],
      ['bytes per persisted change', `${result.change_bytes_avg} B`],
      [`snapshot writes during ${CHANGES} changes (${result.change_wall_ms} ms)`, String(snapshotWritesDuringChanges)],
      ['snapshot write p50 / max', `${result.snapshot_ms_p50} / ${result.snapshot_ms_max} ms`],
      ['snapshot size', `${(snapBytes / 1e6).toFixed(2)} MB`],
      ['events.jsonl size', `${(logBytes / 1e6).toFixed(2)} MB`],
      [`load (snapshot + replay ${replayed} events)`, `${result.load_ms} ms`],
      [`rebuild from log (${seq} events, no snapshot)`, `${result.rebuild_ms} ms`],
      ['target: change p99 <= 20 ms', result.ok ? 'met' : 'MISSED'],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    if (args.includes('--json')) console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
