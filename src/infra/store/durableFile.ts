// A lowdb adapter that writes JSON atomically *and* durably.
//
// lowdb's JSONFile goes through steno's Writer, which writes `.state.json.tmp` and renames it
// over the target (atomic on POSIX), but never fsyncs: after a power loss the renamed file may
// be empty. It also pretty-prints (2-space indent), about a third bigger for a 10,000-ticket
// state. This adapter writes compact JSON to a per-process temp file, fsyncs it, renames it
// over the target and fsyncs the directory, so the snapshot is either the old or the new one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Adapter } from 'lowdb';

export interface WriteStats {
  writes: number;
  lastBytes: number;
  lastMs: number;
}

export class DurableJSONFile<T> implements Adapter<T> {
  readonly stats: WriteStats = { writes: 0, lastBytes: 0, lastMs: 0 };

  constructor(readonly file: string) {}

  /** Not used by the store (it reads raw text to recover from damage); kept for lowdb. */
  async read(): Promise<T | null> {
    try {
      return JSON.parse(await fs.promises.readFile(this.file, 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async write(data: T): Promise<void> {
    const t0 = performance.now();
    const text = JSON.stringify(data);
    const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, this.file);
    syncDir(path.dirname(this.file));
    this.stats.writes++;
    this.stats.lastBytes = Buffer.byteLength(text);
    this.stats.lastMs = performance.now() - t0;
  }
}

/** fsync a directory so a rename/create in it survives a crash (no-op where unsupported). */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open directories; EISDIR/EPERM elsewhere: best effort.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A timestamp safe in file names on every platform. */
export function fileStamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

/** Moves file aside to `<file>.<tag>-<timestamp>` (never deletes); returns the new path. */
export function moveAside(file: string, tag: string): string {
  let target = `${file}.${tag}-${fileStamp()}`;
  for (let i = 1; fs.existsSync(target); i++) target = `${file}.${tag}-${fileStamp()}-${i}`;
  fs.renameSync(file, target);
  return target;
}
