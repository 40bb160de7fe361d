// Snapshot migrations: MIGRATIONS[n] turns a schema-n snapshot into a schema-(n+1) one.
// A snapshot without a `schema` field is schema 0 (the pre-release shape).
import { SCHEMA_VERSION } from '../../core/model';
import { StateSchemaError } from './errors';

export type Migration = (old: Record<string, unknown>) => Record<string, unknown>;
export type MigrationTable = Readonly<Record<number, Migration>>;

export const MIGRATIONS: MigrationTable = {
  // v0 kept tickets as an array and had no lock generation counter.
  0: (old) => {
    const list = Array.isArray(old['tickets']) ? (old['tickets'] as Array<Record<string, unknown>>) : [];
    const tickets: Record<string, unknown> = {};
    for (const t of list) if (t && typeof t['id'] === 'string') tickets[t['id']] = { labels: [], dependsOn: [], files: [], attempts: 0, ...t };
    const locks = Array.isArray(old['locks']) ? old['locks'] : [];
    const lockGeneration = locks.reduce((m: number, l: { generation?: unknown }) => Math.max(m, typeof l.generation === 'number' ? l.generation : 0), 0);
    return { ...old, schema: 1, tickets, runs: old['runs'] ?? {}, locks, lockGeneration };
  },
};

export function schemaOf(raw: Record<string, unknown>): number {
  return typeof raw['schema'] === 'number' ? raw['schema'] : 0;
}

/**
 * Applies migrations until `target`. Throws StateSchemaError for a newer schema; throws a
 * plain Error when a step is missing. Returns the migrated object and the schema it came from.
 */
export function migrate(
  raw: Record<string, unknown>,
  file: string,
  table: MigrationTable = MIGRATIONS,
  target: number = SCHEMA_VERSION,
): { state: Record<string, unknown>; from: number } {
  const from = schemaOf(raw);
  if (from > target) throw new StateSchemaError(file, from, target);
  let s = raw;
  for (let v = from; v < target; v++) {
    const step = table[v];
    if (!step) throw new Error(`${file}: no migration from schema ${v} to ${v + 1}`);
    s = step(s);
    s['schema'] = v + 1;
  }
  return { state: s, from };
}
