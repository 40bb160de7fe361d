// The agent terminal's name is written by terminalHost.ts and read back by terminals.ts (to ask
// whether closing it stops the ticket): every state's name gives back its ticket id.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { terminalName, ticketOfTerminalName } from '../../src/shared/terminalName';

it('every state mark round-trips the ticket id, long titles too; other terminals are not tickets', () => {
  for (const mark of ['…', '▶', '?', '✓', '✗', '■']) {
    for (const id of ['T1', 'API-2', 'x.y_z-9', 'B500']) {
      const name = terminalName(mark, { id, title: 'Add login form: with a colon — and a dash '.repeat(4) });
      assert.ok(name.length <= 80);
      assert.equal(ticketOfTerminalName(name), id, name);
    }
  }
  for (const other of ['bash', 'zsh', 'Orchard', 'Orchard: T1 — old style', 'Orchard ▶ : no id', 'node Orchard ▶ T1: x', 'Orchard ▶ T1 no colon']) {
    assert.equal(ticketOfTerminalName(other), undefined, other);
  }
});
