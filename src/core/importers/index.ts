// Ticket import: one interface, several formats. importTickets() reads every file, picks the
// importer that understands it, validates everything, checks the dependency graph across all
// files together, and either returns every ticket or throws one ImportError listing every
// problem (nothing is imported then).
import { ImportError, type ImportIssue } from '../errors';
import type { TicketSpec } from '../model';
import { finishImport } from './finish';
import { parseJsonFile } from './json';
import { orchardImporter } from './orchard';
import type { CollectResult, ImportFile, ImportOptions, TicketImporter } from './types';
import { workstreamImporter } from './workstreams';

export type { CollectResult, ImportFile, ImportOptions, LocatedTicket, TicketImporter } from './types';
export { orchardImporter, readOrchardTicket, ORCHARD_TICKET_KEYS, ORCHARD_TOP_KEYS } from './orchard';
export { workstreamImporter, parseEffort, workstreamPriority, WORKSTREAM_KEYS } from './workstreams';
export { graphIssues, findCycles } from './graph';
export { parseJsonFile, lineColumn } from './json';
export { IMPORT_LIMITS, TICKET_ID_PATTERN, ticketIdProblem, profileNameProblem, checkPattern } from './validate';
export { ImportError, formatImportIssue, type ImportIssue } from '../errors';

/** In order of preference: the first that can import a file gets it. */
export const IMPORTERS: readonly TicketImporter[] = [orchardImporter, workstreamImporter];

/** The importer for a file, or undefined when no importer recognises it. */
export function detectImporter(fileName: string, parsed: unknown, importers: readonly TicketImporter[] = IMPORTERS): TicketImporter | undefined {
  return importers.find((i) => i.canImport(fileName, parsed));
}

export interface ImportResult {
  tickets: TicketSpec[];
  /** Which importer read each file. */
  formats: Record<string, string>;
}

/** Like importTickets, also saying which importer read each file. Throws ImportError. */
export function importTicketsDetailed(
  files: readonly ImportFile[],
  options: ImportOptions = {},
  importers: readonly TicketImporter[] = IMPORTERS,
): ImportResult {
  const issues: ImportIssue[] = [];
  if (files.length === 0)
    throw new ImportError([{ file: '(none)', message: 'no files were given; choose a tickets .json file or ws-*.json workstream files' }]);
  const groups = new Map<TicketImporter, ImportFile[]>();
  const formats: Record<string, string> = {};
  const seenNames = new Set<string>();
  for (const f of files) {
    if (seenNames.has(f.name)) {
      issues.push({ file: f.name, message: 'was given twice; import each file once' });
      continue;
    }
    seenNames.add(f.name);
    const parsed = parseJsonFile(f.name, f.text);
    if (!parsed.ok) {
      issues.push(parsed.issue);
      continue;
    }
    const imp = detectImporter(f.name, parsed.value, importers);
    if (!imp) {
      issues.push({
        file: f.name,
        message: `is not a format Orchard can import; expected { "tickets": [ … ] } (Orchard tickets) or a ws-*.json workstream ({ "id", "depends_on", "files_scope", "tasks", "tool" })`,
      });
      continue;
    }
    formats[f.name] = imp.name;
    const g = groups.get(imp);
    if (g) g.push(f);
    else groups.set(imp, [f]);
  }
  const all: CollectResult = { tickets: [], issues };
  for (const [imp, group] of groups) {
    const r = imp.collect(group);
    all.tickets.push(...r.tickets);
    all.issues.push(...r.issues);
  }
  return { tickets: finishImport(all, options), formats };
}

/** Reads tickets from files in any supported format. All-or-nothing: throws ImportError. */
export function importTickets(files: readonly ImportFile[], options: ImportOptions = {}): TicketSpec[] {
  return importTicketsDetailed(files, options).tickets;
}
