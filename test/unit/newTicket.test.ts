// A ticket added by hand: the same id, defaults and checks from the CLI and from VS Code.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { ImportError } from '../../src/core/importers';
import { existingTicketIds, newTicketSpec, nextTicketId, ticketPatch } from '../../src/core/newTicket';

it('takes the next T<n> after the highest one, ignoring other ids', () => {
  assert.equal(nextTicketId([]), 'T1');
  assert.equal(nextTicketId(['T2', 'T10', 'AUTH-1', 'T3']), 'T11');
});

it('fills the id, the prompt (the title) and the priority; checks like an imported file, naming the field', () => {
  const t = newTicketSpec({ title: 'Add a login form', files: ['src/auth/**'] }, ['T1'], 'orchard add');
  assert.equal(t.id, 'T2');
  assert.equal(t.prompt, 'Add a login form');
  assert.equal(t.priority, 'P2');
  assert.deepEqual(t.files, ['src/auth/**']);
  assert.throws(
    () => newTicketSpec({ id: 'T1', title: 'again' }, ['T1'], 'Add Ticket'),
    (e: unknown) => ImportError.is(e) && /T1/.test((e as Error).message),
  );
  assert.throws(
    () => newTicketSpec({ title: 'x', priority: 'P9' }, [], 'Add Ticket'),
    (e: unknown) => ImportError.is(e) && /priority/.test((e as Error).message),
  );
});

it('an edit drops the id and the fields left undefined', () => {
  assert.deepEqual(ticketPatch({ id: 'T9', title: 'New title', prompt: undefined, files: [] }), { title: 'New title', files: [] });
  assert.deepEqual(existingTicketIds({ tickets: { T1: {}, 'AUTH-2': {} } }), ['T1', 'AUTH-2']);
});
