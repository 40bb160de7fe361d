// Errors the store raises for conditions a user must act on (never for recoverable damage).

/** The snapshot was written by a newer Orchard. Nothing has been touched. */
export class StateSchemaError extends Error {
  override readonly name = 'StateSchemaError';
  constructor(
    readonly file: string,
    readonly schema: number,
    readonly supported: number,
  ) {
    super(`${file} was written by a newer Orchard (schema ${schema}); update Orchard (this version reads schema ≤ ${supported}). Nothing was changed.`);
  }
}

/** A line in the middle of events.jsonl is unreadable. Nothing has been touched. */
export class EventLogError extends Error {
  override readonly name = 'EventLogError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: unreadable event (${detail}). The log was left as it is; fix or remove that line, or move the file aside to start over.`);
  }
}

/** The store refuses writes (read-only follower, or load() failed). */
export class StateReadOnlyError extends Error {
  override readonly name = 'StateReadOnlyError';
}
