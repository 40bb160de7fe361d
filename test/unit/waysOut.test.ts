// Which way out an answer names: by id where the question carries ways, by label only for
// Orchard's merge questions recorded before ways had ids.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { CONFLICT_WAYS, labelsOf, wayOutOf } from '../../src/core/waysOut';

it('reads the way out by id, whatever the label says', () => {
  const e = { options: labelsOf(CONFLICT_WAYS), ways: [...CONFLICT_WAYS] };
  assert.equal(wayOutOf(e, 'Keep the branch for later'), 'keep-for-later');
  assert.equal(wayOutOf(e, 'Nonsense'), undefined);
});

it("an agent's question, or a screen's options, are never ways out; an old merge question goes by its labels", () => {
  assert.equal(wayOutOf({ askedBy: 'T1-r1', options: ['Discard', 'Merge now'] }, 'Discard'), undefined);
  assert.equal(wayOutOf({ options: ['Yes, continue', 'Later'] }, 'Later'), undefined, "a first-run screen's Later");
  assert.equal(wayOutOf({ options: ['Merge now', 'Send back to the agent', 'Discard'] }, 'Merge now'), 'merge-now');
  assert.equal(wayOutOf({ options: ['Stash and update', 'Later'] }, 'Later'), 'later');
});
