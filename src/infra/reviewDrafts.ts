// The review comments a person drafted and has not sent yet, kept in the repository's state
// folder (`.git/orchard/review-drafts.json`) so a window reload or a crash does not lose them.
// One entry per ticket, for the run under review: drafts made on one attempt are not shown on
// the next. Written whole on each change (a few threads), durably, one write at a time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DurableJSONFile } from './store/durableFile';

/** A draft thread: the file relative to the worktree ('/'-separated), the 0-based line, its comments. */
export interface StoredDraftThread {
  file: string;
  line: number;
  bodies: string[];
}

export interface StoredDrafts {
  runId: string;
  threads: StoredDraftThread[];
}

interface DraftsFile {
  version: 1;
  tickets: Record<string, StoredDrafts>;
}

export const REVIEW_DRAFTS_FILE = 'review-drafts.json';

export class ReviewDraftStore {
  private readonly file: DurableJSONFile<DraftsFile>;
  private data: DraftsFile | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly stateDir: string,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {
    this.file = new DurableJSONFile(join(stateDir, REVIEW_DRAFTS_FILE));
  }

  /** Every ticket's drafts (read from disk once; a damaged file counts as none). */
  all(): Record<string, StoredDrafts> {
    return this.load().tickets;
  }

  /** Sets (or, with no threads, removes) a ticket's drafts; resolves once written. */
  set(ticketId: string, drafts: StoredDrafts | undefined): Promise<void> {
    const d = this.load();
    const had = ticketId in d.tickets;
    if (drafts?.threads.length) d.tickets[ticketId] = drafts;
    else if (had) delete d.tickets[ticketId];
    else return this.writing;
    const snapshot: DraftsFile = { version: 1, tickets: { ...d.tickets } };
    this.writing = this.writing.then(() => this.file.write(snapshot)).catch((e: unknown) => this.onError(e));
    return this.writing;
  }

  /** Resolves when every write asked for so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private load(): DraftsFile {
    if (this.data) return this.data;
    let data: DraftsFile = { version: 1, tickets: {} };
    try {
      const parsed = JSON.parse(readFileSync(this.file.file, 'utf8')) as Partial<DraftsFile>;
      if (parsed && typeof parsed.tickets === 'object' && parsed.tickets) data = { version: 1, tickets: parsed.tickets };
    } catch {
      // Missing (no drafts yet) or unreadable: start empty; the next change rewrites it.
    }
    this.data = data;
    return data;
  }
}
