// Output patterns and number readers shared by the CLI definitions.

/** What the agent CLIs print when they hit a rate limit, a usage cap or an overloaded service. */
export const COMMON_RATE_LIMIT_PATTERNS = [
  'rate[ -]?limit',
  // A status code, not any number: "429 Too Many Requests", "status: 429", "code":429.
  '(status|code|error|http)["\':= ]{0,4}429\\b',
  '\\b429 too many',
  'usage limit',
  'quota exceeded',
  'too many requests',
  'resource_exhausted',
  'overloaded',
];
export const COMMON_NEEDS_INPUT = ['\\(y/n\\)', '\\[y/n\\]', 'do you want to proceed\\?', 'waiting for (your )?input'];

// Terminal escape sequences (CSI and OSC) are control characters by definition.
// eslint-disable-next-line no-control-regex
export const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

export const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
};

/** Multiplier suffixes some CLIs print (12.3k tokens). */
export const scaled = (s: string | undefined, suffix: string | undefined): number | undefined => {
  const n = num(s);
  if (n === undefined) return undefined;
  const k = suffix?.toLowerCase();
  return Math.round(n * (k === 'k' ? 1e3 : k === 'm' ? 1e6 : 1));
};

/** The last JSON object in a CLI's output holding `must`: one per line (JSONL) or a pretty tail. */
export function lastJsonObject(text: string, must: string): Record<string, unknown> | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l.startsWith('{') && l.includes(must)) {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        /* not a whole object */
      }
    }
  }
  const start = text.lastIndexOf('\n{');
  for (let s = start; s >= 0; s = text.lastIndexOf('\n{', s - 1)) {
    try {
      const o = JSON.parse(text.slice(s)) as Record<string, unknown>;
      if (JSON.stringify(o).includes(must)) return o;
    } catch {
      /* keep looking */
    }
    if (s === 0) break;
  }
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* no JSON */
    }
  }
  return undefined;
}
