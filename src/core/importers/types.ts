// The contract every ticket importer implements.
import type { ImportIssue } from '../errors';
import type { TicketSpec } from '../model';

export interface ImportFile {
  /** File name as the user knows it (basename or workspace-relative path); used in messages. */
  name: string;
  text: string;
}

export interface ImportOptions {
  /** Ids of tickets that already exist: dependencies may name them; new tickets may not reuse them. */
  existingIds?: Iterable<string>;
}

/** A ticket read from a file, with where it came from (for graph messages). */
export interface LocatedTicket {
  spec: TicketSpec;
  file: string;
  index: number;
  /** The name of the dependency field in that format ("dependsOn", "depends_on"). */
  dependsField: string;
  /** The name of the id field in that format. */
  idField: string;
}

export interface CollectResult {
  tickets: LocatedTicket[];
  /** Every ticket with a valid id, including ones with other problems (listed in issues),
   *  so graph checks see them all. Only usable when issues is empty. */
  issues: ImportIssue[];
}

export interface TicketImporter {
  readonly name: string;
  /** Whether this importer understands the file (by name and/or parsed JSON content). */
  canImport(fileName: string, parsed: unknown): boolean;
  /** Reads, validates and graph-checks the files; throws ImportError listing every problem. */
  import(files: readonly ImportFile[], options?: ImportOptions): TicketSpec[];
  /** Reads and validates the files without graph checks; never throws. */
  collect(files: readonly ImportFile[]): CollectResult;
}
