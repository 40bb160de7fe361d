// The store of draft review comments (infra/reviewDrafts): what one window writes, the next
// reads from disk; an entry without threads is removed; a damaged file counts as no drafts.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REVIEW_DRAFTS_FILE, ReviewDraftStore } from '../../src/infra/reviewDrafts';

describe('review comment drafts on disk', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'orchard-drafts-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a second store on the same folder (the next window) reads what the first wrote', async () => {
    const d = dir();
    const first = new ReviewDraftStore(d);
    await first.set('T1', { runId: 'T1-r1', threads: [{ file: 'src/a.ts', line: 4, bodies: ['name it', 'and test it'] }] });
    await first.set('T2', { runId: 'T2-r3', threads: [{ file: 'b.md', line: 0, bodies: ['typo'] }] });
    assert.deepEqual(new ReviewDraftStore(d).all(), {
      T1: { runId: 'T1-r1', threads: [{ file: 'src/a.ts', line: 4, bodies: ['name it', 'and test it'] }] },
      T2: { runId: 'T2-r3', threads: [{ file: 'b.md', line: 0, bodies: ['typo'] }] },
    });
  });

  it('no threads (or undefined) removes the ticket; writes land in the order asked', async () => {
    const d = dir();
    const s = new ReviewDraftStore(d);
    void s.set('T1', { runId: 'T1-r1', threads: [{ file: 'a', line: 1, bodies: ['x'] }] });
    void s.set('T2', { runId: 'T2-r1', threads: [{ file: 'b', line: 2, bodies: ['y'] }] });
    void s.set('T1', undefined);
    await s.set('T2', { runId: 'T2-r1', threads: [] });
    assert.deepEqual(JSON.parse(readFileSync(join(d, REVIEW_DRAFTS_FILE), 'utf8')), { version: 1, tickets: {} });
    assert.deepEqual(new ReviewDraftStore(d).all(), {});
  });

  it('a damaged file counts as no drafts, and the next change rewrites it', async () => {
    const d = dir();
    writeFileSync(join(d, REVIEW_DRAFTS_FILE), '{"version":1,"tick');
    const s = new ReviewDraftStore(d);
    assert.deepEqual(s.all(), {});
    await s.set('T1', { runId: 'T1-r2', threads: [{ file: 'a', line: 0, bodies: ['z'] }] });
    assert.deepEqual(new ReviewDraftStore(d).all().T1?.runId, 'T1-r2');
  });

  it('a write that fails is reported, not thrown', async () => {
    const errors: unknown[] = [];
    const s = new ReviewDraftStore(join(dir(), 'missing', 'folder'), (e) => errors.push(e));
    await s.set('T1', { runId: 'T1-r1', threads: [{ file: 'a', line: 0, bodies: ['z'] }] });
    assert.equal(errors.length, 1);
  });
});
