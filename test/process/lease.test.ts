import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { FileStateStore, readLease, WriterLease, type LeaseHolder } from '../../src/infra/store';

const STORE = pathToFileURL(path.join(__dirname, '../../src/infra/store/index.ts')).href;
const dirs: string[] = [];
const leases: WriterLease[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-lease-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (leases.length) leases.pop()!.dispose();
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});
function lease(dir: string, owner: string, o: { staleMs?: number; heartbeatMs?: number } = {}): WriterLease {
  const l = new WriterLease(path.join(dir, 'orchard'), { owner, ...o });
  leases.push(l);
  return l;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lockFile = (dir: string) => path.join(dir, 'orchard', 'writer.lock');
function writeLock(dir: string, h: Partial<LeaseHolder>): void {
  fs.mkdirSync(path.join(dir, 'orchard'), { recursive: true });
  const full: LeaseHolder = { pid: 1, hostname: os.hostname(), startedAt: Date.now(), heartbeatAt: Date.now(), owner: 'orchard CLI', token: 'old-token', ...h };
  fs.writeFileSync(lockFile(dir), JSON.stringify(full));
}
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

// A child process that waits at a barrier (the `go` file), then contends for the lease.
//   mode "hold": acquire once, report the role, hold the lease for a while.
//   mode "work": if follower, watch the writer's state until the lease frees, then become the
//                writer and append `count` tickets continuing the log.
const CHILD = `
import * as fs from 'node:fs';
import { WriterLease, FileStateStore, watchState } from ${JSON.stringify(STORE)};
import { reduce } from ${JSON.stringify(pathToFileURL(path.join(__dirname, '../../src/core/reduce.ts')).href)};
const [dir, name, mode, count, go] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const lease = new WriterLease(dir, { owner: name, heartbeatMs: 100, staleMs: 10000 });
process.stdout.write('ready\\n');
while (!fs.existsSync(go)) {}
let r = lease.acquire();
const out = { name, pid: process.pid, first: r.role, message: r.message ?? null, seen: [], wrote: [] };
if (mode === 'hold') {
  await sleep(Number(count));
} else {
  let watcher;
  if (r.role === 'follower') {
    watcher = await watchState(dir, { debounceMs: 5, pollMs: 20 });
    out.seen.push(watcher.state.seq);
    watcher.onDidChange((s) => out.seen.push(s.seq));
    while (r.role === 'follower') { await sleep(10); r = lease.acquire(); }
    await watcher.refresh();
    out.watcherSeq = watcher.state.seq;
    watcher.dispose();
  }
  const store = new FileStateStore(dir, { debounceMs: 20 });
  const state = await store.load();
  for (let i = 0; i < Number(count); i++) {
    const e = { seq: state.seq + 1, at: Date.now(), type: 'ticket-added',
      ticket: { id: name + '-' + i, title: name, prompt: 'p', priority: 'P2', dependsOn: [], files: [], labels: [] } };
    await store.append([e]);
    reduce(state, e);
    store.snapshot(state);
    out.wrote.push(e.seq);
    if (i % 7 === 0) await sleep(Math.random() * 4);
  }
  await store.close();
}
lease.release();
process.stdout.write(JSON.stringify(out) + '\\n');
`;

async function contend(dir: string, names: string[], mode: 'hold' | 'work', count: number): Promise<Array<Record<string, any>>> {
  const script = path.join(dir, 'child.mts');
  fs.writeFileSync(script, CHILD);
  const go = path.join(dir, 'go');
  const kids = names.map((name) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, path.join(dir, 'orchard'), name, mode, String(count), go], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const ready = new Promise<void>((res) => p.stdout.on('data', (d) => ((out += d), out.includes('ready') && res())));
    p.stderr.on('data', (d) => (err += d));
    const done = new Promise<Record<string, any>>((res, rej) =>
      p.on('close', (code) => (code === 0 ? res(JSON.parse(out.trim().split('\n').pop()!)) : rej(new Error(`${name} exited ${code}: ${err}`)))),
    );
    return { ready, done };
  });
  await Promise.all(kids.map((k) => k.ready));
  fs.writeFileSync(go, '');
  return Promise.all(kids.map((k) => k.done));
}

describe('WriterLease', () => {
  it('gives one writer per directory within a process; the other is a follower with a clear message', () => {
    const dir = tmp();
    const a = lease(dir, 'VS Code window');
    const b = lease(dir, 'orchard CLI');
    assert.equal(a.acquire().role, 'writer');
    const r = b.acquire();
    assert.equal(r.role, 'follower');
    assert.ok(r.role === 'follower');
    assert.equal(r.holder.pid, process.pid);
    assert.match(
      r.message,
      new RegExp(`^Orchard is already running in pid ${process.pid} \\(VS Code window\\), started \\d\\d:\\d\\d; this window shows its state read-only`),
    );
    const h = readLease(lockFile(dir));
    assert.ok(typeof h === 'object' && h.owner === 'VS Code window' && h.hostname === os.hostname());
    a.release();
    assert.equal(fs.existsSync(lockFile(dir)), false, 'released on dispose');
    assert.equal(b.acquire().role, 'writer');
  });

  it('takes over a lease whose pid is dead', () => {
    const dir = tmp();
    const pid = deadPid();
    writeLock(dir, { pid, owner: 'VS Code window' });
    const l = lease(dir, 'orchard CLI');
    assert.equal(l.acquire().role, 'writer');
    const h = readLease(lockFile(dir));
    assert.ok(typeof h === 'object' && h.pid === process.pid && h.owner === 'orchard CLI');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'orchard')), ['writer.lock'], 'no temp or takeover files left');
  });

  it('a writer killed while taking over a dead lease (its takeover mutex left behind) does not block the restart', () => {
    // Seed 4242 of the crash soak: the restart right after the kill was told "Orchard is already
    // running in pid <the killed one>" because the dead contender's mutex made every takeover fail.
    const dir = tmp();
    const pid = deadPid();
    writeLock(dir, { pid, owner: 'orchard CLI', token: 'killed-writer' });
    fs.writeFileSync(`${lockFile(dir)}.takeover`, JSON.stringify({ pid, hostname: os.hostname(), at: Date.now(), token: 'killed-writer' }));
    const l = lease(dir, 'orchard CLI');
    const r = l.acquire();
    assert.equal(r.role, 'writer', r.role === 'follower' ? r.message : '');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'orchard')), ['writer.lock'], 'the dead mutex is gone, nothing else left');
  });

  it("a live contender's takeover mutex is left alone; with the lease still stale the error names the file, never a dead pid as running", () => {
    const dir = tmp();
    const pid = deadPid();
    writeLock(dir, { pid, owner: 'orchard CLI' });
    // This very process stands in for a live contender that keeps the mutex.
    const mutex = `${lockFile(dir)}.takeover`;
    fs.writeFileSync(mutex, JSON.stringify({ pid: process.pid, hostname: os.hostname(), at: Date.now(), token: 'live' }));
    const l = lease(dir, 'orchard CLI');
    assert.throws(
      () => l.acquire(),
      (e: Error) => /could not be taken over/.test(e.message) && e.message.includes('writer.lock.takeover') && !/already running/.test(e.message),
    );
    assert.equal(fs.existsSync(mutex), true, 'a live contender keeps its mutex');
  });

  it(
    'a lease whose pid now belongs to another process (pid reuse: its start time differs) is stale; the same process is not',
    { skip: !fs.existsSync('/proc/self/stat') },
    () => {
      const dir = tmp();
      // A live process stands in for "whoever has the dead holder's pid now".
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
      try {
        const stat = fs.readFileSync(`/proc/${other.pid}/stat`, 'utf8');
        const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        writeLock(dir, { pid: other.pid!, hostname: os.hostname(), heartbeatAt: Date.now(), pidStart: start });
        assert.equal(lease(dir, 'orchard CLI').acquire().role, 'follower', 'the live holder keeps it');
        writeLock(dir, { pid: other.pid!, hostname: os.hostname(), heartbeatAt: Date.now(), pidStart: `${start}0` });
        assert.equal(lease(dir, 'orchard CLI').acquire().role, 'writer', 'a reused pid does not keep the lease');
      } finally {
        other.kill('SIGKILL');
      }
    },
  );

  it(
    'a live writer on this host that missed its heartbeats (a loaded or just-resumed machine) keeps its lease',
    { skip: !fs.existsSync('/proc/self/stat') },
    async () => {
      const dir = tmp();
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
      try {
        const stat = fs.readFileSync(`/proc/${other.pid}/stat`, 'utf8');
        const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        writeLock(dir, { pid: other.pid!, hostname: os.hostname(), heartbeatAt: Date.now() - 10 * 60_000, pidStart: start });
        const r = lease(dir, 'orchard CLI', { staleMs: 1000 }).acquire();
        assert.equal(r.role, 'follower', "taking a live writer's lease would make two writers");
        const gone = new Promise((res) => other.once('exit', res));
        other.kill('SIGKILL');
        await gone;
        // Dead now: taken over at once, no heartbeat wait.
        assert.equal(lease(dir, 'orchard CLI').acquire().role, 'writer');
      } finally {
        other.kill('SIGKILL');
      }
    },
  );

  it('takes over a lease whose heartbeat is too old, but not a fresh one from another host', () => {
    const dir = tmp();
    writeLock(dir, { pid: 999_999, hostname: 'elsewhere', heartbeatAt: Date.now() });
    const r = lease(dir, 'orchard CLI', { staleMs: 1000 }).acquire();
    assert.equal(r.role, 'follower');
    assert.ok(r.role === 'follower' && r.message.includes('on elsewhere'));
    writeLock(dir, { pid: 999_999, hostname: 'elsewhere', heartbeatAt: Date.now() - 5000 });
    assert.equal(lease(dir, 'orchard CLI', { staleMs: 1000 }).acquire().role, 'writer');
  });

  it('renews its heartbeat and notices when the lease was taken from it', async () => {
    const dir = tmp();
    const a = lease(dir, 'VS Code window', { heartbeatMs: 30 });
    a.acquire();
    const first = (readLease(lockFile(dir)) as LeaseHolder).heartbeatAt;
    // Waits on the renewal itself: a loaded machine can hold the 30 ms timer back far longer.
    for (const end = Date.now() + 20_000; (readLease(lockFile(dir)) as LeaseHolder).heartbeatAt <= first && Date.now() < end;) await sleep(10);
    assert.ok((readLease(lockFile(dir)) as LeaseHolder).heartbeatAt > first, 'heartbeat renewed (waited 20 s)');
    let lost: LeaseHolder | undefined | 'no' = 'no';
    a.onDidLose((h) => (lost = h));
    writeLock(dir, { pid: process.pid, token: 'intruder' });
    assert.equal(a.heartbeat(), false);
    assert.equal(a.isWriter, false);
    assert.ok(lost !== 'no' && (lost as LeaseHolder | undefined)?.token === 'intruder');
    a.release();
    assert.equal((readLease(lockFile(dir)) as LeaseHolder).token, 'intruder', 'release leaves a lease that is not ours');
  });

  it('exactly one of several real processes becomes the writer', async () => {
    const dir = tmp();
    const results = await contend(dir, ['p1', 'p2', 'p3', 'p4'], 'hold', 400);
    const writers = results.filter((r) => r.first === 'writer');
    assert.equal(writers.length, 1, JSON.stringify(results));
    for (const f of results.filter((r) => r.first === 'follower')) assert.match(f.message, new RegExp(`pid ${writers[0]!.pid} \\(${writers[0]!.name}\\)`));
  });

  it('exactly one of several real processes takes over a stale lease', async () => {
    const dir = tmp();
    writeLock(dir, { pid: deadPid() });
    const results = await contend(dir, ['p1', 'p2', 'p3', 'p4'], 'hold', 400);
    assert.equal(results.filter((r) => r.first === 'writer').length, 1, JSON.stringify(results));
    assert.equal(fs.existsSync(lockFile(dir)), false);
  });

  it('a real process and this process: one writer, the other a follower', async () => {
    const dir = tmp();
    const mine = lease(dir, 'VS Code window');
    assert.equal(mine.acquire().role, 'writer');
    const results = await contend(dir, ['cli'], 'hold', 10);
    assert.equal(results[0]!.first, 'follower');
    assert.match(results[0]!.message, new RegExp(`pid ${process.pid} \\(VS Code window\\)`));
  });

  it('three processes append in turn through the lease: no event lost or duplicated', async () => {
    const dir = tmp();
    const N = 60;
    const names = ['a', 'b', 'c'];
    const results = await contend(dir, names, 'work', N);
    assert.equal(results.filter((r) => r.first === 'writer').length, 1, 'one initial writer');

    const lines = fs
      .readFileSync(path.join(dir, 'orchard', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const seqs = lines.map((l) => JSON.parse(l).seq as number);
    assert.deepEqual(
      seqs,
      Array.from({ length: names.length * N }, (_, i) => i + 1),
      'log is 1..3N, each once, in order',
    );
    const wrote = results.flatMap((r) => r.wrote as number[]).sort((x, y) => x - y);
    assert.deepEqual(wrote, seqs, 'every append landed exactly once');

    for (const r of results) {
      const seen = r.seen as number[];
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `${r.name} saw seq go back: ${seen}`);
      if (r.first === 'follower') assert.equal(r.watcherSeq, (r.wrote as number[])[0]! - 1, `${r.name}'s watcher was current when it took over`);
    }

    const s = await new FileStateStore(path.join(dir, 'orchard')).load();
    assert.equal(s.seq, names.length * N);
    for (const n of names) for (let i = 0; i < N; i++) assert.ok(s.tickets[`${n}-${i}`], `${n}-${i} present`);
  });
});
