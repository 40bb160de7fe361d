// The one path for adding and sequencing tickets that the CLI and VS Code both take: ids from
// the live state, checks like an import, scopes kept inside the repository, edits for
// "Run in sequence" that only add what is missing.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ImportError } from '../../src/core/importers';
import type { Ticket, TicketSpec } from '../../src/core/model';
import { sequenceEdits, startPreflight } from '../../src/core/preflight';
import { addTicket, applySequence, importTicketFiles, type TicketIntake } from '../../src/infra/ticketIntake';

function ticket(id: string, o: Partial<Ticket> = {}): Ticket {
  return { id, title: id, prompt: id, priority: 'P2', dependsOn: [], files: [], labels: [], status: 'backlog', createdAt: 0, attempts: 0, ...o };
}

/** An orchestrator double: only what the intake calls, recording it. */
function intake(tickets: Ticket[], repo = mkdtempSync(join(tmpdir(), 'orchard-intake-'))) {
  const added: TicketSpec[][] = [];
  const edited: [string, unknown][] = [];
  const snapshot = { tickets: Object.fromEntries(tickets.map((t) => [t.id, t])) };
  const ctx = {
    repo,
    orchestrator: {
      snapshot,
      addTickets: async (specs: readonly TicketSpec[]) => void added.push([...specs]),
      editTicket: async (id: string, patch: unknown) => void edited.push([id, patch]),
    },
  } as unknown as TicketIntake;
  return { ctx, added, edited };
}

it('adds a typed ticket with the next free id and the defaults', async () => {
  const { ctx, added } = intake([ticket('T1'), ticket('T4')]);
  const t = await addTicket(ctx, { title: 'Add a login form', files: ['src/auth/**'] }, 'orchard add');
  assert.equal(t.id, 'T5');
  assert.equal(t.prompt, 'Add a login form');
  assert.deepEqual(added, [[t]]);
});

it('refuses a typed scope that leaves the repository through a symlink, as import does', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'orchard-intake-'));
  const outside = mkdtempSync(join(tmpdir(), 'orchard-outside-'));
  mkdirSync(join(repo, 'src'));
  symlinkSync(outside, join(repo, 'src', 'escape'));
  const { ctx, added } = intake([], repo);
  await assert.rejects(
    addTicket(ctx, { title: 'x', files: ['src/escape/a.txt'] }, 'Add Ticket'),
    (e: unknown) => ImportError.is(e) && /symlink/.test((e as Error).message),
  );
  const file = { name: 'tickets.json', text: JSON.stringify({ tickets: [{ id: 'A', title: 'a', prompt: 'a', files: ['src/escape/**'] }] }) };
  await assert.rejects(importTicketFiles(ctx, [file]), (e: unknown) => ImportError.is(e));
  assert.deepEqual(added, []);
});

it('imports files against the ids already taken', async () => {
  const { ctx, added } = intake([ticket('A')]);
  const file = { name: 'tickets.json', text: JSON.stringify({ tickets: [{ id: 'B', title: 'b', prompt: 'b', dependsOn: ['A'] }] }) };
  const tickets = await importTicketFiles(ctx, [file]);
  assert.deepEqual(
    tickets.map((t) => t.id),
    ['B'],
  );
  assert.equal(added.length, 1);
  await assert.rejects(
    importTicketFiles(ctx, [{ name: 'again.json', text: JSON.stringify({ tickets: [{ id: 'A', title: 'a', prompt: 'a' }] }) }]),
    (e: unknown) => ImportError.is(e),
  );
});

it('the start pre-flight reports only pairs with a starting ticket, and sequencing adds only missing edges', async () => {
  const all = {
    R: ticket('R', { status: 'running', files: ['src/a.ts'] }),
    S: ticket('S', { files: ['src/a.ts', 'src/b.ts'] }),
    U: ticket('U', { files: ['src/b.ts'] }),
    X: ticket('X', { status: 'running', files: ['docs/x.md'] }),
    Y: ticket('Y', { status: 'escalated', files: ['docs/x.md'] }),
  };
  const r = startPreflight(all, [all.S, all.U]);
  assert.deepEqual(r.pairs.map((p) => `${p.a}-${p.b}`).sort(), ['R-S', 'S-U']);
  assert.ok(r.sequence.every((e) => ['S', 'U'].includes(e.ticketId)));
  assert.deepEqual(
    sequenceEdits({ ...all, D: ticket('D', { status: 'done' }) }, [
      { ticketId: 'U', dependsOn: 'S' },
      { ticketId: 'U', dependsOn: 'R' },
      { ticketId: 'D', dependsOn: 'S' },
    ]),
    [{ ticketId: 'U', dependsOn: ['S', 'R'] }],
  );
  const { ctx, edited } = intake(Object.values(all));
  assert.deepEqual(await applySequence(ctx, r.sequence), [...new Set(r.sequence.map((e) => e.ticketId))]);
  assert.ok(edited.length > 0);
});
