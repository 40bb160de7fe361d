// One writer per repository across processes: <dir>/writer.lock.
//
// Creating the lease is a hard link of a fully written temp file onto writer.lock: link()
// fails with EEXIST if the name exists, so exactly one contender wins and nobody ever reads a
// half-written lease. A lease is stale when its pid is dead on this host, or its heartbeat is
// older than staleMs. Taking over a stale lease happens under a short takeover mutex
// (writer.lock.takeover, also created with link): the stale file is renamed aside (kept for
// diagnosis), checked to be the very lease judged stale, and then the new lease is linked in;
// the link is still the only winning step, so two contenders cannot both win.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Emitter, type Disposable, type Event } from '../../core/emitter';
import { isSameProcess, processStartToken } from '../process';

export const LEASE_FILE = 'writer.lock';

export interface LeaseHolder {
  pid: number;
  hostname: string;
  /** ms since epoch */
  startedAt: number;
  /** ms since epoch */
  heartbeatAt: number;
  /** Who holds it, e.g. "VS Code window" or "orchard CLI". */
  owner: string;
  /** Unique per acquisition (distinguishes two leases in one process, or a reused pid). */
  token: string;
  /** The holder process's start time (Linux): a reused pid is not the holder. */
  pidStart?: string;
}

export type LeaseResult = { role: 'writer'; holder: LeaseHolder } | { role: 'follower'; holder: LeaseHolder; message: string };

export interface WriterLeaseOptions {
  owner: string;
  /** Renew heartbeatAt this often (ms). Default 5000. */
  heartbeatMs?: number;
  /** A lease whose heartbeat is older than this is stale (ms). Default 30000. */
  staleMs?: number;
  now?: () => number;
}

export class WriterLease implements Disposable {
  readonly file: string;
  private readonly owner: string;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  private mine: LeaseHolder | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly lostEmitter = new Emitter<LeaseHolder | undefined>();
  /** Fires when this writer finds its lease taken (it was judged stale, e.g. after a long suspend). */
  readonly onDidLose: Event<LeaseHolder | undefined> = this.lostEmitter.event;

  constructor(
    readonly dir: string,
    options: WriterLeaseOptions,
  ) {
    this.file = path.join(dir, LEASE_FILE);
    this.owner = options.owner;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.staleMs = options.staleMs ?? 30000;
    this.now = options.now ?? Date.now;
  }

  get isWriter(): boolean {
    return this.mine !== undefined;
  }

  /** Becomes the writer, or reports who is. Safe to call again (e.g. a follower retrying). */
  acquire(): LeaseResult {
    if (this.mine) return { role: 'writer', holder: this.mine };
    fs.mkdirSync(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 40; attempt++) {
      if (attempt >= 3) sleepSync(Math.min(50, 5 * attempt)); // a live contender holds the takeover mutex for a moment
      const t = this.now();
      const pidStart = processStartToken(process.pid);
      const me: LeaseHolder = {
        pid: process.pid,
        hostname: os.hostname(),
        startedAt: t,
        heartbeatAt: t,
        owner: this.owner,
        token: crypto.randomUUID(),
        ...(pidStart && { pidStart }),
      };
      if (this.tryCreate(me)) return this.won(me);
      const current = readLease(this.file);
      if (current === 'missing') continue; // released meanwhile: try again
      const stale = current === 'unreadable' ? this.unreadableIsStale() : this.isStale(current);
      if (!stale) return follower(current as LeaseHolder);
      if (this.takeOver(current, me)) return this.won(me);
      const now = readLease(this.file);
      if (typeof now === 'object' && now.token !== me.token && !this.isStale(now)) return follower(now);
    }
    const h = readLease(this.file);
    if (typeof h === 'object' && !this.isStale(h)) return follower(h);
    // Never a follower of a dead writer: that would tell the user a stopped Orchard is running.
    throw new Error(
      `${this.file}: the writer lease${typeof h === 'object' ? ` of pid ${h.pid} (not running)` : ''} could not be taken over: another process kept taking it over. Try again; if it persists, delete ${this.file}.takeover when no Orchard is running.`,
    );
  }

  /** Who holds the lease now (undefined when nobody does). */
  holder(): LeaseHolder | undefined {
    const h = readLease(this.file);
    return typeof h === 'object' ? h : undefined;
  }

  /** Stops the heartbeat and removes the lease if it is still ours. */
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const mine = this.mine;
    this.mine = undefined;
    if (!mine) return;
    const cur = readLease(this.file);
    if (typeof cur === 'object' && cur.token === mine.token) {
      try {
        fs.unlinkSync(this.file);
      } catch {
        /* already gone */
      }
    }
  }

  dispose(): void {
    this.release();
    this.lostEmitter.dispose();
  }

  /** Renews heartbeatAt now (also done on a timer). Returns false if the lease was lost. */
  heartbeat(): boolean {
    const mine = this.mine;
    if (!mine) return false;
    const cur = readLease(this.file);
    if (typeof cur !== 'object' || cur.token !== mine.token) {
      this.mine = undefined;
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.lostEmitter.fire(typeof cur === 'object' ? cur : undefined);
      return false;
    }
    mine.heartbeatAt = this.now();
    const tmp = `${this.file}.${mine.token}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(mine));
    fs.renameSync(tmp, this.file);
    return true;
  }

  /**
   * On this host the process itself answers: dead (or its pid reused) is stale at once, and a
   * holder known to be the very process that took the lease (its start time matches) is live
   * however old its heartbeat (a machine under load, or just back from sleep, misses beats;
   * taking its lease would make two writers). Elsewhere, and where start times cannot be read,
   * the heartbeat's age decides.
   */
  isStale(h: LeaseHolder): boolean {
    if (h.hostname === os.hostname()) {
      if (!isSameProcess(h.pid, h.pidStart)) return true;
      if (h.pidStart !== undefined && processStartToken(h.pid) === h.pidStart) return false;
    }
    return this.now() - h.heartbeatAt > this.staleMs;
  }

  private won(me: LeaseHolder): LeaseResult {
    this.mine = me;
    this.timer = setInterval(() => {
      try {
        this.heartbeat();
      } catch {
        /* transient fs error: try again next beat */
      }
    }, this.heartbeatMs);
    this.timer.unref?.();
    return { role: 'writer', holder: me };
  }

  private tryCreate(me: LeaseHolder): boolean {
    return linkNew(this.file, JSON.stringify(me), me.token);
  }

  /** An empty/garbled lease file (not written by us: we only link complete files) is stale once old. */
  private unreadableIsStale(): boolean {
    try {
      return this.now() - fs.statSync(this.file).mtimeMs > this.staleMs;
    } catch {
      return true;
    }
  }

  /**
   * Removes a takeover mutex whose holder is dead (same host, its pid gone or reused) or that
   * is older than 10 s. Renamed aside and checked to be the very mutex judged, so a new
   * contender's mutex is never removed by mistake.
   */
  private clearDeadMutex(mutex: string): void {
    let text: string;
    let mtimeMs: number;
    try {
      text = fs.readFileSync(mutex, 'utf8');
      mtimeMs = fs.statSync(mutex).mtimeMs;
    } catch {
      return; // gone: the caller tries again
    }
    let holder: { pid?: unknown; hostname?: unknown; pidStart?: unknown } = {};
    try {
      holder = JSON.parse(text) as typeof holder;
    } catch {
      /* garbled: only its age counts */
    }
    const dead =
      typeof holder.pid === 'number' &&
      (holder.hostname === undefined || holder.hostname === os.hostname()) &&
      !isSameProcess(holder.pid, typeof holder.pidStart === 'string' ? holder.pidStart : undefined);
    if (!dead && this.now() - mtimeMs <= 10_000) return;
    const aside = `${mutex}.dead-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
    try {
      fs.renameSync(mutex, aside);
    } catch {
      return;
    }
    let moved = '';
    try {
      moved = fs.readFileSync(aside, 'utf8');
    } catch {
      /* unreadable: treated as not the one judged */
    }
    if (moved !== text) {
      try {
        fs.linkSync(aside, mutex); // a new contender's mutex: put it back
      } catch {
        /* another one exists now; it wins */
      }
    }
    fs.rmSync(aside, { force: true });
  }

  private takeOver(judged: LeaseHolder | 'unreadable', me: LeaseHolder): boolean {
    const mutex = `${this.file}.takeover`;
    const mine = { pid: me.pid, hostname: me.hostname, at: this.now(), token: me.token, ...(me.pidStart && { pidStart: me.pidStart }) };
    if (!linkNew(mutex, JSON.stringify(mine), me.token)) {
      // Someone else is taking over, or was killed while taking over: its mutex is cleared at
      // once when its process is gone (the caller then tries again), after 10 s otherwise.
      this.clearDeadMutex(mutex);
      return false;
    }
    try {
      // Re-check under the mutex: still the same lease, still stale?
      const cur = readLease(this.file);
      if (cur === 'missing') return this.tryCreate(me);
      if (typeof cur === 'object' && (typeof judged !== 'object' || cur.token !== judged.token || !this.isStale(cur))) return false;
      if (cur === 'unreadable' && !this.unreadableIsStale()) return false;
      const aside = `${this.file}.stale-${process.pid}-${me.token.slice(0, 8)}`;
      try {
        fs.renameSync(this.file, aside);
      } catch {
        return false;
      }
      const moved = readLease(aside);
      if (typeof cur === 'object' && (typeof moved !== 'object' || moved.token !== cur.token || moved.heartbeatAt !== cur.heartbeatAt)) {
        // Not the lease we judged (renewed or replaced in between): put it back untouched.
        try {
          fs.linkSync(aside, this.file);
        } catch {
          /* someone created a new one; it wins */
        }
        fs.rmSync(aside, { force: true });
        return false;
      }
      fs.rmSync(aside, { force: true });
      return this.tryCreate(me);
    } finally {
      fs.rmSync(mutex, { force: true });
    }
  }
}

/** Blocks this thread for ms (acquire() is synchronous; the waits are a few ms each). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function follower(h: LeaseHolder): LeaseResult {
  return { role: 'follower', holder: h, message: followerMessage(h) };
}

export function followerMessage(h: LeaseHolder): string {
  const d = new Date(h.startedAt);
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const where = h.hostname === os.hostname() ? '' : ` on ${h.hostname}`;
  return `Orchard is already running in pid ${h.pid}${where} (${h.owner}), started ${hhmm}; this window shows its state read-only.`;
}

/** Atomically creates `file` with `content`, failing (false) if it exists. */
function linkNew(file: string, content: string, token: string): boolean {
  const tmp = `${file}.${token}.tmp`;
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return createExclusive(file, content);
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Fallback for file systems without hard links: O_EXCL create, then write. */
function createExclusive(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

export function readLease(file: string): LeaseHolder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const v = JSON.parse(text) as Partial<LeaseHolder>;
    if (v && typeof v.pid === 'number' && typeof v.heartbeatAt === 'number' && typeof v.token === 'string') {
      return {
        pid: v.pid,
        hostname: String(v.hostname ?? ''),
        startedAt: Number(v.startedAt ?? v.heartbeatAt),
        heartbeatAt: v.heartbeatAt,
        owner: String(v.owner ?? 'unknown'),
        token: v.token,
        ...(typeof v.pidStart === 'string' && { pidStart: v.pidStart }),
      };
    }
  } catch {
    /* fall through */
  }
  return 'unreadable';
}

export { pidAlive } from '../process';
