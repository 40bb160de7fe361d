// Persistence in <git common dir>/orchard/: snapshot + event log, single-writer lease, follower watch.
import type { Logger } from '../../core/ports';
import { FileStateStore, type FileStateStoreOptions } from './fileStateStore';
import { WriterLease, type LeaseHolder, type WriterLeaseOptions } from './lease';
import { StateWatcher, type WatchOptions } from './watch';

export { FileStateStore, STATE_FILE, EVENTS_FILE } from './fileStateStore';
export type { FileStateStoreOptions, LoadReport, StoreStats } from './fileStateStore';
export { WriterLease, LEASE_FILE, followerMessage, pidAlive, readLease } from './lease';
export type { LeaseHolder, LeaseResult, WriterLeaseOptions } from './lease';
export { StateWatcher, watchState } from './watch';
export type { WatchOptions } from './watch';
export { StateSchemaError, EventLogError, StateReadOnlyError } from './errors';
export { MIGRATIONS, migrate } from './migrations';
export type { Migration, MigrationTable } from './migrations';
export { DurableJSONFile } from './durableFile';

export type OpenedState =
  | { role: 'writer'; store: FileStateStore; lease: WriterLease }
  | { role: 'follower'; store: FileStateStore; lease: WriterLease; holder: LeaseHolder; message: string; watcher: StateWatcher };

/**
 * Opens the repository's state as the writer if the lease is free, else as a read-only
 * follower whose watcher keeps the state current. Call load() on a writer's store;
 * a follower's state is `watcher.state`. Retry `lease.acquire()` later to promote.
 */
export async function openState(
  dir: string,
  options: { owner: string; log?: Logger; lease?: Omit<WriterLeaseOptions, 'owner'>; store?: FileStateStoreOptions; watch?: WatchOptions },
): Promise<OpenedState> {
  const lease = new WriterLease(dir, { ...options.lease, owner: options.owner });
  const r = lease.acquire();
  const log = options.log ? { log: options.log } : {};
  if (r.role === 'writer') return { role: 'writer', lease, store: new FileStateStore(dir, { ...log, ...options.store }) };
  const watcher = new StateWatcher(dir, { ...log, ...options.watch });
  await watcher.start();
  return {
    role: 'follower',
    lease,
    holder: r.holder,
    message: r.message,
    watcher,
    store: new FileStateStore(dir, { ...log, ...options.store, readOnly: true }),
  };
}
