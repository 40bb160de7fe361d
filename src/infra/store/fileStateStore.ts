// StatePort on files in <git common dir>/orchard/:
//   state.json    the snapshot (lowdb, written atomically + fsynced, debounced)
//   events.jsonl  the durable record: every event is appended and fsynced before append()
//                 returns; the snapshot is only a cache of the fold of this log.
// load() = snapshot + replay of the events after snapshot.seq, so a crash between an append
// and the next snapshot write loses nothing. Damaged files are moved aside, never deleted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Low } from 'lowdb';
import type { Disposable } from '../../core/emitter';
import type { OrchardEvent } from '../../core/events';
import { emptyState, SCHEMA_VERSION, type OrchardState } from '../../core/model';
import type { Logger, StatePort } from '../../core/ports';
import { replay } from '../../core/reduce';
import { DurableJSONFile, fileStamp, moveAside } from './durableFile';
import { StateReadOnlyError, StateSchemaError } from './errors';
import { EventLogWriter, readEventLog } from './eventLog';
import { migrate, MIGRATIONS, type MigrationTable } from './migrations';

export const STATE_FILE = 'state.json';
export const EVENTS_FILE = 'events.jsonl';

export interface FileStateStoreOptions {
  /** Follower mode: never writes, never repairs; a torn tail is ignored (the writer may be mid-append). */
  readOnly?: boolean;
  log?: Logger;
  /** Quiet period before a snapshot write (ms). Default 200. */
  debounceMs?: number;
  /** Longest a dirty snapshot waits while snapshot() keeps being called (ms). Default 1000. */
  maxWaitMs?: number;
  /** fdatasync each append (default true). Only benchmarks turn this off. */
  durableAppends?: boolean;
  /** Override for tests. */
  migrations?: MigrationTable;
  /** Override for tests. */
  schemaVersion?: number;
}

export interface StoreStats {
  snapshotWrites: number;
  lastSnapshotBytes: number;
  lastSnapshotMs: number;
  appends: number;
  appendedBytes: number;
}

/** What the last load() found and did, for diagnostics and tests. */
export interface LoadReport {
  snapshot: 'ok' | 'missing' | 'damaged' | 'migrated';
  /** Where a damaged snapshot was moved. */
  damagedAside?: string;
  /** Where a migrated snapshot's original was copied. */
  migratedFrom?: { schema: number; backup?: string };
  /** Events folded on top of the snapshot. */
  replayed: number;
  /** Events in the log. */
  logEvents: number;
  /** Where a torn log tail was moved. */
  tornAside?: string;
  /** Unreadable trailing bytes (follower: left in place). */
  tornBytes: number;
  /** Size of events.jsonl after load (bytes). */
  logSize: number;
  /** Offset just after the last complete, readable line (where a follower resumes). */
  logGoodEnd: number;
  /** Line number of that line. */
  logLines: number;
}

const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m, ...a) => console.warn(`[orchard] ${m}`, ...a),
  error: (m, ...a) => console.error(`[orchard] ${m}`, ...a),
};

export class FileStateStore implements StatePort, Disposable {
  readonly stateFile: string;
  readonly eventsFile: string;
  readonly readOnly: boolean;
  lastLoad: LoadReport | undefined;

  private readonly log: Logger;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly adapter: DurableJSONFile<OrchardState>;
  private readonly db: Low<OrchardState>;
  private readonly writer: EventLogWriter;
  private readonly migrations: MigrationTable;
  private readonly schemaVersion: number;

  private loaded = false;
  private refused: Error | undefined;
  private lastSeq = 0;
  /** Sequence number of the last event whose append has completed (fsynced). */
  private durableSeq = 0;
  private appendWaiters: (() => void)[] = [];
  private pending: OrchardState | undefined;
  private firstDirtyAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private appendChain: Promise<void> = Promise.resolve();
  private snapshotChain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly dir: string,
    options: FileStateStoreOptions = {},
  ) {
    this.stateFile = path.join(dir, STATE_FILE);
    this.eventsFile = path.join(dir, EVENTS_FILE);
    this.readOnly = options.readOnly ?? false;
    this.log = options.log ?? consoleLogger;
    this.debounceMs = options.debounceMs ?? 200;
    this.maxWaitMs = options.maxWaitMs ?? 1000;
    this.migrations = options.migrations ?? MIGRATIONS;
    this.schemaVersion = options.schemaVersion ?? SCHEMA_VERSION;
    this.adapter = new DurableJSONFile<OrchardState>(this.stateFile);
    this.db = new Low<OrchardState>(this.adapter, emptyState());
    this.writer = new EventLogWriter(this.eventsFile, options.durableAppends ?? true);
  }

  get stats(): StoreStats {
    return {
      snapshotWrites: this.adapter.stats.writes,
      lastSnapshotBytes: this.adapter.stats.lastBytes,
      lastSnapshotMs: this.adapter.stats.lastMs,
      appends: this.writer.appends,
      appendedBytes: this.writer.bytes,
    };
  }

  /** Sequence number of the last event known to be in the log (or the snapshot). */
  get seq(): number {
    return this.lastSeq;
  }

  async load(): Promise<OrchardState> {
    this.refused = undefined;
    try {
      return await this.doLoad();
    } catch (e) {
      // A newer schema or a corrupt log: refuse every write so nothing gets overwritten.
      this.refused = e as Error;
      throw e;
    }
  }

  private async doLoad(): Promise<OrchardState> {
    if (!this.readOnly) fs.mkdirSync(this.dir, { recursive: true });
    const report: LoadReport = { snapshot: 'ok', replayed: 0, logEvents: 0, tornBytes: 0, logSize: 0, logGoodEnd: 0, logLines: 0 };

    // 1. The snapshot, as raw text so damage can be told apart from absence.
    let snap: OrchardState | undefined;
    let text: string | undefined;
    try {
      text = fs.readFileSync(this.stateFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      report.snapshot = 'missing';
    }
    let damage: string | undefined;
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = text.trim() === '' ? undefined : JSON.parse(text);
        if (raw === undefined) damage = 'empty file';
      } catch (e) {
        damage = `invalid JSON (${(e as Error).message})`;
      }
      if (!damage && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) damage = 'not a JSON object';
      if (!damage) {
        // Throws StateSchemaError for a newer schema, before anything is touched.
        const m = migrate(raw as Record<string, unknown>, this.stateFile, this.migrations, this.schemaVersion);
        const problem = shapeProblem(m.state);
        if (problem) damage = problem;
        else {
          snap = m.state as unknown as OrchardState;
          if (m.from !== this.schemaVersion) {
            report.snapshot = 'migrated';
            report.migratedFrom = { schema: m.from };
          }
        }
      }
    }

    // 2. The log (repairs a torn tail when writing; throws EventLogError on mid-file damage).
    const logResult = readEventLog(this.eventsFile, !this.readOnly);
    report.logEvents = logResult.events.length;
    report.tornBytes = logResult.tornBytes;
    report.logSize = logResult.size;
    report.logGoodEnd = logResult.goodEnd;
    report.logLines = logResult.goodLines;
    if (logResult.tornAside) {
      report.tornAside = logResult.tornAside;
      this.log.warn(
        `${this.eventsFile}: torn last line (${logResult.tornBytes} bytes, an interrupted write) moved to ${logResult.tornAside}; log truncated to line ${logResult.goodLines}.`,
      );
    }

    // 3. Set damage aside only now that the log is known to be readable.
    if (damage) {
      report.snapshot = 'damaged';
      if (!this.readOnly) {
        report.damagedAside = moveAside(this.stateFile, 'damaged');
        this.log.warn(`${this.stateFile}: ${damage}; moved to ${report.damagedAside} and rebuilt from ${this.eventsFile} (${logResult.events.length} events).`);
      } else {
        this.log.warn(`${this.stateFile}: ${damage}; showing the state rebuilt from ${this.eventsFile}.`);
      }
    }
    if (report.snapshot === 'migrated' && !this.readOnly && report.migratedFrom) {
      const backup = `${this.stateFile}.schema-${report.migratedFrom.schema}-${fileStamp()}`;
      fs.copyFileSync(this.stateFile, backup);
      report.migratedFrom.backup = backup;
      this.log.info(`${this.stateFile}: migrated from schema ${report.migratedFrom.schema} to ${this.schemaVersion}; original kept as ${backup}.`);
    }

    const base = snap ?? emptyState();
    base.schema = this.schemaVersion;
    const before = base.seq;
    const state = replay(logResult.events, base);
    report.replayed = logResult.events.filter((e) => e.seq > before).length;
    const logLast = logResult.events.length ? logResult.events[logResult.events.length - 1]!.seq : 0;
    this.lastSeq = Math.max(state.seq, logLast);
    this.durableSeq = this.lastSeq;
    this.loaded = true;
    this.lastLoad = report;

    if (!this.readOnly) {
      if (report.snapshot !== 'ok' && (report.snapshot !== 'missing' || report.replayed > 0)) {
        this.pending = state;
        await this.flush();
      } else if (report.replayed > 0) {
        this.snapshot(state); // fold the replayed tail into the snapshot soon
      }
    }
    return state;
  }

  async append(events: readonly OrchardEvent[]): Promise<void> {
    this.assertWritable();
    if (events.length === 0) return;
    let seq = this.lastSeq;
    for (const e of events) {
      if (!(e.seq > seq)) throw new Error(`append: event seq ${e.seq} is not after ${seq} (another writer, or a stale state?)`);
      seq = e.seq;
    }
    this.lastSeq = seq;
    let text = '';
    for (const e of events) text += JSON.stringify(e) + '\n';
    const p = this.appendChain.then(async () => {
      await this.writer.append(text);
      this.durableSeq = Math.max(this.durableSeq, seq);
      for (const wake of this.appendWaiters.splice(0)) wake();
    });
    this.appendChain = p.catch(() => {});
    await p;
  }

  snapshot(state: OrchardState): void {
    this.assertWritable();
    // Kept by reference: the caller folds events into the same object; it is serialised at
    // write time, so a burst of changes costs one write of the latest state.
    this.pending = state;
    const now = Date.now();
    this.firstDirtyAt ??= now;
    const due = Math.min(now + this.debounceMs, this.firstDirtyAt + this.maxWaitMs);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush().catch((e) => this.log.error(`${this.stateFile}: snapshot write failed: ${(e as Error).message}`));
      },
      Math.max(0, due - now),
    );
    this.timer.unref?.();
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const state = this.pending;
    this.pending = undefined;
    this.firstDirtyAt = undefined;
    if (state) {
      this.assertWritable();
      const p = this.snapshotChain.then(async () => {
        // Never let the snapshot run ahead of what is durable in the log. The state is shared
        // with the caller, who folds events in before their append is even queued: wait until
        // every event it holds is appended (it is serialised synchronously right after).
        await this.appendChain;
        for (let i = 0; state.seq > this.durableSeq && i < 50 && !this.closed; i++) {
          await new Promise<void>((wake) => {
            const t = setTimeout(wake, 100);
            this.appendWaiters.push(() => {
              clearTimeout(t);
              wake();
            });
          });
        }
        if (state.seq > this.durableSeq) {
          // Its events never reached the log (the writer stopped): the log stays the truth.
          this.log.warn(`${this.stateFile}: snapshot at seq ${state.seq} not written; the log ends at ${this.durableSeq}`);
          return;
        }
        this.db.data = state;
        await this.db.write();
      });
      this.snapshotChain = p.catch(() => {});
    }
    await this.snapshotChain;
    await this.appendChain;
  }

  /** Flushes pending data and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.readOnly && !this.refused && this.pending) await this.flush();
    await this.appendChain;
    await this.snapshotChain;
    this.closed = true;
    await this.writer.close();
  }

  dispose(): void {
    this.close().catch((e) => this.log.error(`closing ${this.dir}: ${(e as Error).message}`));
  }

  private assertWritable(): void {
    if (this.readOnly) throw new StateReadOnlyError(`${this.dir} is open read-only (another Orchard holds the writer lease).`);
    if (this.refused) throw new StateReadOnlyError(`${this.dir}: refusing to write: ${this.refused.message}`);
    if (!this.loaded) throw new Error('FileStateStore: load() before writing');
    if (this.closed) throw new Error('FileStateStore: closed');
  }
}

function shapeProblem(s: Record<string, unknown>): string | undefined {
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (typeof s['seq'] !== 'number') return 'missing "seq"';
  if (!isObj(s['tickets'])) return '"tickets" is not an object';
  if (!isObj(s['runs'])) return '"runs" is not an object';
  if (!Array.isArray(s['locks'])) return '"locks" is not an array';
  if (typeof s['lockGeneration'] !== 'number') s['lockGeneration'] = 0;
  return undefined;
}

export { StateSchemaError };
