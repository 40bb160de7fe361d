// The common end of every import: graph checks over everything read, then all-or-nothing.
import { ImportError } from '../errors';
import type { TicketSpec } from '../model';
import { graphIssues } from './graph';
import type { CollectResult, ImportOptions } from './types';

export function finishImport(collected: CollectResult, options: ImportOptions = {}): TicketSpec[] {
  const issues = [...collected.issues, ...graphIssues(collected.tickets, options.existingIds ?? [])];
  if (issues.length) throw new ImportError(issues);
  return collected.tickets.map((t) => t.spec);
}
