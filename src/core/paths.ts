// Paths and globs of a ticket's scope. Patterns are repository-relative with '/'
// separators; '**' matches any number of segments, '*' and '?' stay within a segment.
// A pattern without wildcards names a file or a whole directory (itself and below).

export function normalizePattern(p: string): string {
  let s = p.trim().replace(/\\/g, '/').replace(/\/+/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  if (s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

export function hasWildcard(p: string): boolean {
  return /[*?]/.test(p);
}

function segments(p: string): string[] {
  const s = normalizePattern(p);
  const segs = s === '' ? [] : s.split('/');
  // A literal names a file or a directory: it covers everything below too.
  if (!hasWildcard(s)) segs.push('**');
  return segs;
}

/** Whether two segment patterns (with * and ?) can match one common string. */
function segmentsIntersect(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === '*') r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i === a.length || j === b.length) r = false;
    else r = (a[i] === b[j] || a[i] === '?' || b[j] === '?') && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Whether some path could be matched by both patterns (so two runs holding them could collide). */
export function patternsOverlap(a: string, b: string): boolean {
  // Fast path: two literals overlap when one names the other or a directory above it.
  if (!hasWildcard(a) && !hasWildcard(b)) {
    const x = normalizePattern(a);
    const y = normalizePattern(b);
    return x === y || x === '' || y === '' || x.startsWith(y + '/') || y.startsWith(x + '/');
  }
  const A = segments(a);
  const B = segments(b);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (B.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === A.length && j === B.length) r = true;
    else if (A[i] === '**') r = go(i + 1, j) || (j < B.length && go(i, j + 1));
    else if (B[j] === '**') r = go(i, j + 1) || (i < A.length && go(i + 1, j));
    else if (i === A.length || j === B.length) r = false;
    else r = segmentsIntersect(A[i]!, B[j]!) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Whether a concrete path is matched by a pattern. */
export function matchesPath(pattern: string, path: string): boolean {
  return patternsOverlap(pattern, normalizePattern(path).replace(/[*?]/g, '_'));
}

/** The part of a pattern before its first wildcard segment (used to index patterns). */
export function staticPrefix(p: string): string {
  const segs = normalizePattern(p).split('/');
  const out: string[] = [];
  for (const s of segs) {
    if (hasWildcard(s)) break;
    out.push(s);
  }
  return out.join('/');
}

/**
 * Rejects patterns that point outside the repository: absolute paths, drive letters,
 * '..' segments. Returns a message naming the problem, or undefined when it is fine.
 */
export function scopeProblem(p: string): string | undefined {
  if (typeof p !== 'string' || p.trim() === '') return 'is empty';
  if (p.includes('\0')) return 'contains a NUL character';
  const s = p.replace(/\\/g, '/');
  if (s.startsWith('/') || /^[A-Za-z]:/.test(s)) return `"${p}" is absolute; use a path relative to the repository root`;
  if (s.split('/').includes('..')) return `"${p}" leaves the repository ('..'); use a path inside it`;
  return undefined;
}

/**
 * An index of patterns by static prefix (a trie over the literal leading segments), so
 * that finding the patterns that may overlap one pattern does not compare it with all.
 * Two patterns can only overlap when one's static prefix is a segment-prefix of the
 * other's; candidates() returns exactly those, overlapping() confirms with patternsOverlap.
 */
export class PatternIndex<T> {
  private readonly root: TrieNode<T> = { children: new Map(), items: [] };
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(pattern: string, value: T): void {
    let node = this.root;
    for (const seg of prefixSegments(pattern)) {
      let next = node.children.get(seg);
      if (!next) {
        next = { children: new Map(), items: [] };
        node.children.set(seg, next);
      }
      node = next;
    }
    node.items.push({ pattern, value });
    this.count++;
  }

  /** Entries whose static prefix is related to pattern's (a superset of the overlapping ones). */
  candidates(pattern: string): Array<{ pattern: string; value: T }> {
    const out: Array<{ pattern: string; value: T }> = [];
    let node: TrieNode<T> | undefined = this.root;
    for (const seg of prefixSegments(pattern)) {
      for (const it of node.items) out.push(it);
      node = node.children.get(seg);
      if (!node) return out;
    }
    const stack: TrieNode<T>[] = [node];
    while (stack.length) {
      const n = stack.pop()!;
      for (const it of n.items) out.push(it);
      for (const c of n.children.values()) stack.push(c);
    }
    return out;
  }

  /** Entries whose pattern overlaps pattern. */
  overlapping(pattern: string): Array<{ pattern: string; value: T }> {
    return this.candidates(pattern).filter((it) => patternsOverlap(it.pattern, pattern));
  }
}

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  items: Array<{ pattern: string; value: T }>;
}

function prefixSegments(p: string): string[] {
  const s = staticPrefix(p);
  return s === '' ? [] : s.split('/');
}
