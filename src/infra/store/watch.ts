// For followers: keep a read-only view of the writer's state current. Watches events.jsonl
// (fs.watch on the directory, plus polling as a fallback for file systems where watching is
// unreliable), debounces, reads only the bytes appended since last time, folds the complete
// lines into the state and fires onDidChange. A shrunk or replaced log triggers a full reload.
import * as fs from 'node:fs';
import { Emitter, type Disposable, type Event } from '../../core/emitter';
import type { OrchardState } from '../../core/model';
import type { Logger } from '../../core/ports';
import { reduce } from '../../core/reduce';
import { scanEvents } from './eventLog';
import { FileStateStore } from './fileStateStore';

export interface WatchOptions {
  /** Coalesce bursts of change notifications (ms). Default 100. */
  debounceMs?: number;
  /** Poll the log's size this often (ms), in case fs.watch misses something. Default 1000. */
  pollMs?: number;
  log?: Logger;
}

export class StateWatcher implements Disposable {
  private readonly emitter = new Emitter<OrchardState>();
  /** Fires (with the updated state object) after new events were folded in or after a reload. */
  readonly onDidChange: Event<OrchardState> = this.emitter.event;
  private _state: OrchardState | undefined;
  private offset = 0;
  private line = 0;
  private ino = 0;
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private disposed = false;
  private readonly store: FileStateStore;
  private readonly debounceMs: number;

  constructor(
    readonly dir: string,
    private readonly options: WatchOptions = {},
  ) {
    this.store = new FileStateStore(dir, { readOnly: true, ...(options.log ? { log: options.log } : {}) });
    this.debounceMs = options.debounceMs ?? 100;
  }

  get state(): OrchardState {
    if (!this._state) throw new Error('StateWatcher: start() first');
    return this._state;
  }

  /** Loads the state and starts watching. */
  async start(): Promise<OrchardState> {
    await this.reload();
    try {
      this.watcher = fs.watch(this.dir, { persistent: false }, (_ev, name) => {
        if (!name || String(name).startsWith('events.jsonl')) this.schedule();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No directory yet or no watch support: polling covers it.
    }
    this.poll = setInterval(() => this.schedule(), this.options.pollMs ?? 1000);
    this.poll.unref?.();
    return this.state;
  }

  /** Checks for new events now. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.check();
        } catch (e) {
          this.options.log?.warn(`watching ${this.dir}: ${(e as Error).message}`);
        }
      } while (this.again && !this.disposed);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.emitter.dispose();
  }

  private schedule(): void {
    if (this.disposed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.refresh();
    }, this.debounceMs);
    this.debounce.unref?.();
  }

  private async reload(): Promise<void> {
    this._state = await this.store.load();
    const r = this.store.lastLoad!;
    this.offset = r.logGoodEnd;
    this.line = r.logLines;
    this.ino = statOf(this.store.eventsFile)?.ino ?? 0;
  }

  private async check(): Promise<void> {
    if (this.disposed) return;
    const st = statOf(this.store.eventsFile);
    if (!st) return;
    if (st.ino !== this.ino || st.size < this.offset) {
      const before = this._state?.seq;
      await this.reload();
      if (!this.disposed && this.state.seq !== before) this.emitter.fire(this.state);
      return;
    }
    if (st.size === this.offset) return;
    const fh = await fs.promises.open(this.store.eventsFile, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(st.size - this.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      buf = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    const r = scanEvents(buf, this.store.eventsFile, this.line, true);
    if (r.goodEnd === 0) return;
    this.offset += r.goodEnd;
    this.line = r.goodLines;
    let changed = false;
    const s = this.state;
    for (const e of r.events) {
      if (e.seq > s.seq) {
        reduce(s, e);
        changed = true;
      }
    }
    if (changed && !this.disposed) this.emitter.fire(s);
  }
}

/** Loads the state read-only and keeps it current; dispose() to stop. */
export async function watchState(dir: string, options: WatchOptions = {}): Promise<StateWatcher> {
  const w = new StateWatcher(dir, options);
  await w.start();
  return w;
}

function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}
