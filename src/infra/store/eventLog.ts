// events.jsonl: one JSON event per line, appended and fsynced before append() returns.
import * as fs from 'node:fs';
import type { OrchardEvent } from '../../core/events';
import { EventLogError } from './errors';
import { moveAside, syncDir } from './durableFile';
import * as path from 'node:path';

export interface ScanResult {
  events: OrchardEvent[];
  /** Byte offset just after the last good line (including its newline when it has one). */
  goodEnd: number;
  /** True when the last good line has no trailing newline (complete JSON, newline lost). */
  goodUnterminated: boolean;
  /** Number of lines up to and including the last good line. */
  goodLines: number;
  /** Unreadable bytes after the last good line (a torn write), if any. */
  tornBytes: number;
}

function parseEvent(text: string): OrchardEvent | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const o = v as { seq?: unknown; type?: unknown };
  if (typeof o.seq !== 'number' || !Number.isInteger(o.seq) || o.seq < 1) return 'missing or invalid "seq"';
  if (typeof o.type !== 'string') return 'missing "type"';
  return v as OrchardEvent;
}

/**
 * Parses buf (the log from byte `base`, line `baseLine`). Unreadable lines after the last good
 * one are a torn tail; an unreadable line followed by a good one throws EventLogError.
 * When `completeOnly`, an unterminated last segment is never consumed (a writer may be
 * mid-append); it is reported as torn bytes but not as an error.
 */
export function scanEvents(buf: Buffer, file: string, baseLine = 0, completeOnly = false): ScanResult {
  const events: OrchardEvent[] = [];
  let firstBad: { line: number; detail: string } | undefined;
  let goodEnd = 0;
  let goodLines = 0;
  let goodUnterminated = false;
  let start = 0;
  let line = baseLine;
  while (start < buf.length) {
    let nl = buf.indexOf(10, start);
    const terminated = nl !== -1;
    if (!terminated) nl = buf.length;
    line++;
    if (!terminated && completeOnly) break;
    const text = buf.toString('utf8', start, nl).trim();
    if (text.length > 0) {
      const r = parseEvent(text);
      if (typeof r === 'string') {
        firstBad ??= { line, detail: r };
      } else {
        if (firstBad) throw new EventLogError(file, firstBad.line, firstBad.detail);
        events.push(r);
        goodEnd = terminated ? nl + 1 : nl;
        goodLines = line;
        goodUnterminated = !terminated;
      }
    } else if (!firstBad) {
      goodEnd = terminated ? nl + 1 : nl;
      goodLines = line;
    }
    start = nl + 1;
  }
  return { events, goodEnd, goodUnterminated, goodLines, tornBytes: buf.length - goodEnd };
}

export interface ReadLogResult extends ScanResult {
  /** Where the torn tail was moved, when it was repaired. */
  tornAside?: string;
  /** Size of the log after repair (the offset the next append lands at). */
  size: number;
}

/**
 * Reads the whole log. With `repair`, a torn tail is copied to `<file>.torn-<ts>` and the log
 * is truncated to the last good line (and a lost final newline is restored).
 */
export function readEventLog(file: string, repair: boolean): ReadLogResult {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], goodEnd: 0, goodLines: 0, goodUnterminated: false, tornBytes: 0, size: 0 };
    throw e;
  }
  const r: ReadLogResult = { ...scanEvents(buf, file, 0, !repair), size: buf.length };
  if (!repair) return r;
  if (r.tornBytes > 0) {
    const aside = `${file}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.writeFileSync(aside, buf.subarray(r.goodEnd));
    r.tornAside = aside;
  }
  if (r.tornBytes > 0 || r.goodUnterminated) {
    const fd = fs.openSync(file, 'r+');
    try {
      fs.ftruncateSync(fd, r.goodEnd);
      if (r.goodUnterminated) fs.writeSync(fd, '\n', r.goodEnd);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    r.size = r.goodEnd + (r.goodUnterminated ? 1 : 0);
    r.goodEnd = r.size;
    r.goodUnterminated = false;
  }
  return r;
}

/** Appends lines and makes them durable (fdatasync) before resolving. */
export class EventLogWriter {
  private fh: fs.promises.FileHandle | undefined;
  appends = 0;
  bytes = 0;

  constructor(
    readonly file: string,
    private readonly durable = true,
  ) {}

  async append(text: string): Promise<void> {
    if (!this.fh) {
      const existed = fs.existsSync(this.file);
      this.fh = await fs.promises.open(this.file, 'a');
      if (!existed) syncDir(path.dirname(this.file));
    }
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten;
    if (this.durable) await this.fh.datasync();
    this.appends++;
    this.bytes += buf.length;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

export { moveAside };
