import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { OrchardEvent } from '../../src/core/events';
import { emptyState, SCHEMA_VERSION, type OrchardState } from '../../src/core/model';
import type { Logger } from '../../src/core/ports';
import { reduce } from '../../src/core/reduce';
import { EventLogError, FileStateStore, StateReadOnlyError, StateSchemaError, watchState, type FileStateStoreOptions } from '../../src/infra/store';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-store-'));
  dirs.push(d);
  return path.join(d, 'orchard');
}
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

const warnings: string[] = [];
const log: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
const open = (dir: string, o: FileStateStoreOptions = {}) => new FileStateStore(dir, { log, ...o });

function added(seq: number, id = `t${seq}`): OrchardEvent {
  return {
    seq,
    at: 1000 + seq,
    type: 'ticket-added',
    ticket: { id, title: `ticket ${id}`, prompt: 'do it', priority: 'P2', dependsOn: [], files: [`src/${id}.ts`], labels: [] },
  };
}
/** Appends events and folds them, as the orchestrator does. */
async function commit(store: FileStateStore, state: OrchardState, events: OrchardEvent[]): Promise<void> {
  await store.append(events);
  for (const e of events) reduce(state, e);
  store.snapshot(state);
}
/** What survives JSON (the reducer leaves undefined-valued keys that a snapshot drops). */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const files = (dir: string) => fs.readdirSync(dir).sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileStateStore', () => {
  it('a snapshot never runs ahead of the log: events folded into the shared state before their append is queued wait for it', async () => {
    const dir = tmp();
    const a = open(dir, { debounceMs: 0 });
    const s = await a.load();
    await commit(a, s, [added(1)]);
    await a.flush();
    // As the orchestrator does: fold first, hand the state to snapshot(), append later.
    const e2 = added(2);
    reduce(s, e2);
    a.snapshot(s);
    const flushed = a.flush();
    await sleep(150);
    const seqOnDisk = () => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).seq as number;
    assert.equal(seqOnDisk(), 1, 'the snapshot waits for the append of seq 2');
    await a.append([e2]);
    await flushed;
    assert.equal(seqOnDisk(), 2);
    await a.close();
    const b = open(dir);
    assert.deepEqual(await b.load(), plain(s));
    await b.close();
  });

  it('round-trips state through snapshot and log', async () => {
    const dir = tmp();
    const a = open(dir);
    const s = await a.load();
    assert.deepEqual(s, emptyState());
    await commit(a, s, [added(1), added(2)]);
    await commit(a, s, [{ seq: 3, at: 5000, type: 'ticket-status', id: 't1', from: 'backlog', to: 'ready' }]);
    await a.close();
    const snap = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
    assert.equal(snap.schema, SCHEMA_VERSION);
    assert.equal(snap.seq, 3);
    assert.equal(fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').length, 3);

    const b = open(dir);
    const s2 = await b.load();
    assert.deepEqual(s2, plain(s));
    assert.equal(s2.tickets['t1']!.status, 'ready');
    assert.equal(b.lastLoad!.snapshot, 'ok');
    assert.equal(b.lastLoad!.replayed, 0);
    await b.close();
  });

  it('replays events appended after the last snapshot (crash before the snapshot write)', async () => {
    const dir = tmp();
    const a = open(dir, { debounceMs: 60_000, maxWaitMs: 60_000 });
    const s = await a.load();
    await commit(a, s, [added(1), added(2), added(3)]);
    await a.flush(); // snapshot at seq 3
    await commit(a, s, [added(4), added(5)]);
    // "crash": no flush, no close; the snapshot still says seq 3
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).seq, 3);

    const b = open(dir);
    const s2 = await b.load();
    assert.equal(b.lastLoad!.replayed, 2);
    assert.equal(s2.seq, 5);
    assert.deepEqual(Object.keys(s2.tickets).sort(), ['t1', 't2', 't3', 't4', 't5']);
    assert.deepEqual(s2, plain(s));
    await b.close();
    // `a` is abandoned like a crashed process (its pending timer is unref'd and never fires in time).
  });

  it('rebuilds from the log when the snapshot is missing', async () => {
    const dir = tmp();
    const a = open(dir);
    const s = await a.load();
    await commit(a, s, [added(1), added(2)]);
    await a.close();
    fs.rmSync(path.join(dir, 'state.json'));
    const b = open(dir);
    const s2 = await b.load();
    assert.equal(b.lastLoad!.snapshot, 'missing');
    assert.deepEqual(s2, plain(s));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).seq, 2, 'snapshot rewritten');
    await b.close();
  });

  for (const [name, content] of [
    ['truncated JSON', '{"schema":1,"seq":2,"tickets":{"t1":{"id":"t1"'],
    ['an empty file', ''],
    ['not an object', '[1,2,3]'],
    ['a number', '42'],
    ['an object of the wrong shape', '{"schema":1,"seq":2,"tickets":[]}'],
  ] as const) {
    it(`moves a damaged snapshot (${name}) aside and rebuilds from the log`, async () => {
      const dir = tmp();
      const a = open(dir);
      const s = await a.load();
      await commit(a, s, [added(1), added(2)]);
      await a.close();
      fs.writeFileSync(path.join(dir, 'state.json'), content);
      warnings.length = 0;

      const b = open(dir);
      const s2 = await b.load();
      assert.equal(b.lastLoad!.snapshot, 'damaged');
      assert.deepEqual(s2, plain(s));
      const aside = files(dir).filter((f) => f.startsWith('state.json.damaged-'));
      assert.equal(aside.length, 1);
      assert.equal(fs.readFileSync(path.join(dir, aside[0]!), 'utf8'), content, 'damaged file kept byte for byte');
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).seq, 2, 'valid snapshot written');
      assert.ok(
        warnings.some((w) => w.includes('damaged-') && w.includes('rebuilt')),
        warnings.join('\n'),
      );
      await b.close();
    });
  }

  it('keeps the good lines of a torn log, moves the torn text aside and appends after them', async () => {
    const dir = tmp();
    const a = open(dir);
    const s = await a.load();
    await commit(a, s, [added(1), added(2), added(3)]);
    await a.close();
    const log = path.join(dir, 'events.jsonl');
    const good = fs.readFileSync(log, 'utf8');
    const torn = JSON.stringify(added(4)).slice(0, 25);
    fs.appendFileSync(log, torn);
    warnings.length = 0;

    const b = open(dir);
    const s2 = await b.load();
    assert.equal(s2.seq, 3);
    assert.equal(b.lastLoad!.tornBytes, torn.length);
    assert.equal(fs.readFileSync(log, 'utf8'), good, 'log truncated to the last good line');
    const aside = files(dir).filter((f) => f.startsWith('events.jsonl.torn-'));
    assert.equal(aside.length, 1);
    assert.equal(fs.readFileSync(path.join(dir, aside[0]!), 'utf8'), torn);
    assert.ok(warnings.some((w) => w.includes('torn')));
    await commit(b, s2, [added(4)]);
    await b.close();

    const s3 = await open(dir).load();
    assert.equal(s3.seq, 4);
    assert.equal(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length, 4);
  });

  it('keeps a complete last event whose newline was lost, and restores the newline', async () => {
    const dir = tmp();
    const log = path.join(dir, 'events.jsonl');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(log, JSON.stringify(added(1)) + '\n' + JSON.stringify(added(2)));
    const b = open(dir);
    const s = await b.load();
    assert.equal(s.seq, 2);
    assert.ok(fs.readFileSync(log, 'utf8').endsWith('}\n'));
    await commit(b, s, [added(3)]);
    await b.close();
    assert.equal((await open(dir).load()).seq, 3);
  });

  it('refuses a log with a bad line in the middle, naming file and line, and keeps the data', async () => {
    const dir = tmp();
    const log = path.join(dir, 'events.jsonl');
    fs.mkdirSync(dir, { recursive: true });
    const text = [added(1), added(2)].map((e) => JSON.stringify(e)).join('\n') + '\n{"seq":3,"ty GARBAGE\n' + JSON.stringify(added(4)) + '\n';
    fs.writeFileSync(log, text);
    const b = open(dir);
    await assert.rejects(b.load(), (e: unknown) => {
      assert.ok(e instanceof EventLogError);
      assert.equal(e.line, 3);
      assert.match(e.message, /events\.jsonl:3: unreadable event/);
      return true;
    });
    assert.equal(fs.readFileSync(log, 'utf8'), text);
    assert.deepEqual(files(dir), ['events.jsonl']);
    await assert.rejects(b.append([added(5)]), StateReadOnlyError);
  });

  it('refuses a snapshot from a newer schema and overwrites nothing', async () => {
    const dir = tmp();
    fs.mkdirSync(dir, { recursive: true });
    const future = JSON.stringify({ schema: SCHEMA_VERSION + 4, seq: 7, tickets: {}, runs: {}, locks: [], lockGeneration: 0, newThing: true });
    fs.writeFileSync(path.join(dir, 'state.json'), future);
    fs.writeFileSync(path.join(dir, 'events.jsonl'), JSON.stringify(added(1)) + '\n');
    const before = files(dir);
    const b = open(dir);
    await assert.rejects(b.load(), (e: unknown) => {
      assert.ok(e instanceof StateSchemaError);
      assert.match(e.message, new RegExp(`written by a newer Orchard \\(schema ${SCHEMA_VERSION + 4}\\); update Orchard`));
      return true;
    });
    await assert.rejects(b.append([added(8)]), StateReadOnlyError);
    assert.throws(() => b.snapshot(emptyState()), StateReadOnlyError);
    await b.close();
    assert.deepEqual(files(dir), before);
    assert.equal(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'), future);
  });

  it('migrates a schema-0 snapshot on load and keeps the original', async () => {
    const dir = tmp();
    fs.mkdirSync(dir, { recursive: true });
    const v0 = {
      seq: 2,
      tickets: [
        { id: 'a', title: 'A', prompt: 'pa', priority: 'P1', status: 'ready', createdAt: 1 },
        { id: 'b', title: 'B', prompt: 'pb', priority: 'P2', status: 'backlog', createdAt: 2, dependsOn: ['a'] },
      ],
      runs: {},
      locks: [{ pattern: 'src/**', runId: 'r1', ticketId: 'a', expiresAt: 9, generation: 4 }],
    };
    const v0text = JSON.stringify(v0);
    fs.writeFileSync(path.join(dir, 'state.json'), v0text);
    fs.writeFileSync(path.join(dir, 'events.jsonl'), JSON.stringify(added(3, 'c')) + '\n');
    const b = open(dir);
    const s = await b.load();
    assert.equal(b.lastLoad!.snapshot, 'migrated');
    assert.equal(s.schema, SCHEMA_VERSION);
    assert.deepEqual(Object.keys(s.tickets).sort(), ['a', 'b', 'c']);
    assert.deepEqual(s.tickets['b']!.dependsOn, ['a']);
    assert.deepEqual(s.tickets['a']!.files, []);
    assert.equal(s.lockGeneration, 4);
    assert.equal(s.seq, 3);
    const backup = b.lastLoad!.migratedFrom!.backup!;
    assert.equal(fs.readFileSync(backup, 'utf8'), v0text);
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
    assert.equal(written.schema, SCHEMA_VERSION);
    assert.equal(Array.isArray(written.tickets), false);
    await b.close();
  });

  it('applies a migration chain in order (n → n+1)', async () => {
    const dir = tmp();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ ...emptyState(), schema: 1, trail: [] }));
    const b = open(dir, {
      schemaVersion: 3,
      migrations: {
        1: (o) => ({ ...o, trail: [...(o['trail'] as string[]), '1→2'] }),
        2: (o) => ({ ...o, trail: [...(o['trail'] as string[]), '2→3'] }),
      },
    });
    const s = (await b.load()) as OrchardState & { trail: string[] };
    assert.deepEqual(s.trail, ['1→2', '2→3']);
    assert.equal(s.schema, 3);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).schema, 3);
    await b.close();
  });

  it('coalesces 100 snapshot() calls into at most 2 writes', async () => {
    const dir = tmp();
    const a = open(dir, { debounceMs: 1000, maxWaitMs: 10_000 }); // a burst, even on a loaded machine that stalls it for a moment
    const s = await a.load();
    for (let i = 1; i <= 100; i++) await commit(a, s, [added(i)]);
    // Waits for the debounced write to land (its state, not a guess at how long it takes).
    const file = path.join(dir, 'state.json');
    const onDisk = () => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')).seq as number) : 0);
    for (const end = Date.now() + 30_000; onDisk() !== 100 && Date.now() < end;) await sleep(20);
    const st = a.stats;
    assert.ok(st.snapshotWrites >= 1 && st.snapshotWrites <= 2, `writes: ${st.snapshotWrites}`);
    assert.equal(st.appends, 100);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).seq, 100);
    await a.close();
  });

  it('bounds how long a dirty snapshot waits under constant changes (max wait)', async () => {
    const dir = tmp();
    // A debounce of a minute never fires while changes keep coming: only the max wait writes.
    const a = open(dir, { debounceMs: 60_000, maxWaitMs: 200 });
    const s = await a.load();
    let seq = 0;
    // Waits on the writes themselves (a loaded machine only makes this take longer).
    for (const end = Date.now() + 120_000; a.stats.snapshotWrites < 2 && Date.now() < end;) {
      await commit(a, s, [added(++seq)]);
      await sleep(10);
    }
    assert.ok(a.stats.snapshotWrites >= 2, `writes during ${seq} changes: ${a.stats.snapshotWrites} (the max wait never wrote)`);
    await a.close();
  });

  it('rejects an append whose seq does not follow the log', async () => {
    const dir = tmp();
    const a = open(dir);
    const s = await a.load();
    await commit(a, s, [added(1), added(2)]);
    await assert.rejects(a.append([added(2)]), /seq 2 is not after 2/);
    await a.close();
    const b = open(dir);
    await assert.rejects(b.append([added(3)]), /load\(\) before writing/);
    assert.equal((await b.load()).seq, 2);
    await b.close();
  });

  it('read-only stores neither write nor repair, and skip a torn tail', async () => {
    const dir = tmp();
    const a = open(dir);
    const s = await a.load();
    await commit(a, s, [added(1), added(2)]);
    await a.close();
    const log = path.join(dir, 'events.jsonl');
    fs.appendFileSync(log, '{"seq":3,');
    const before = fs.readFileSync(log, 'utf8');
    const r = open(dir, { readOnly: true });
    assert.equal((await r.load()).seq, 2);
    assert.equal(fs.readFileSync(log, 'utf8'), before);
    await assert.rejects(r.append([added(3)]), StateReadOnlyError);
    assert.deepEqual(files(dir), ['events.jsonl', 'state.json']);
  });

  it('a watcher folds events appended by the writer and fires onDidChange', async () => {
    const dir = tmp();
    const a = open(dir);
    const s = await a.load();
    await commit(a, s, [added(1)]);
    const w = await watchState(dir, { debounceMs: 10, pollMs: 50 });
    const seen: number[] = [];
    w.onDidChange((st) => seen.push(st.seq));
    assert.equal(w.state.seq, 1);
    for (let i = 2; i <= 20; i++) {
      await commit(a, s, [added(i)]);
      if (i % 5 === 0) await sleep(30);
    }
    const until = Date.now() + 3000;
    while (w.state.seq < 20 && Date.now() < until) await sleep(20);
    assert.equal(w.state.seq, 20);
    assert.deepEqual(plain(w.state.tickets), plain(s.tickets));
    assert.ok(seen.length >= 1);
    assert.deepEqual(
      [...seen].sort((x, y) => x - y),
      seen,
      'monotonic',
    );
    w.dispose();
    await a.close();
  });
});
