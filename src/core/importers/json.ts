// JSON parsing that reports where a syntax error is (line and column), for people who edit
// ticket files by hand.
import { errorText } from '../errors';
import type { ImportIssue } from '../errors';
import { IMPORT_LIMITS } from './validate';

export type ParsedFile = { ok: true; value: unknown } | { ok: false; issue: ImportIssue };

/** 1-based line and column of a 0-based offset in text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const o = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < o; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: o - lineStart + 1 };
}

export function parseJsonFile(name: string, text: string): ParsedFile {
  if (typeof text !== 'string') return { ok: false, issue: { file: name, message: 'could not be read as text' } };
  if (text.length > IMPORT_LIMITS.maxFileChars)
    return {
      ok: false,
      issue: { file: name, message: `is ${text.length} characters long (at most ${IMPORT_LIMITS.maxFileChars}); split it into several files` },
    };
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { ok: false, issue: { file: name, message: 'is empty; expected JSON such as { "tickets": [ … ] }' } };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (e) {
    const raw = errorText(e);
    const m = /at position (\d+)/.exec(raw);
    const offset = m ? Number(m[1]) : body.length;
    const { line, column } = lineColumn(body, offset);
    const what = raw.replace(/\s*in JSON at position \d+.*$/, '').replace(/^Unexpected end of JSON input$/, 'the file ends too early');
    return {
      ok: false,
      issue: {
        file: name,
        line,
        column,
        message: `is not valid JSON at line ${line}, column ${column}: ${what}. Check for a missing comma, quote or bracket, or a trailing comma (JSON allows none).`,
      },
    };
  }
}
