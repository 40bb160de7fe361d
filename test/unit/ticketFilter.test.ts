// The Tickets view's filter: status, label and text, alone and together, and how it is described.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ticket } from '../../src/core/model';
import { describeFilter, filterMessage, isActive, labelsOf, matchesFilter, normalizeFilter } from '../../src/vscode/ticketFilter';

const ticket = (id: string, over: Partial<Ticket> = {}): Ticket => ({
  id,
  title: `Ticket ${id}`,
  prompt: `Do ${id}`,
  priority: 'P2',
  dependsOn: [],
  files: [],
  labels: [],
  status: 'backlog',
  createdAt: 0,
  attempts: 0,
  ...over,
});

const board = [
  ticket('T1', { title: 'Add login form', labels: ['ui', 'auth'], status: 'running', files: ['src/login.ts'] }),
  ticket('T2', { title: 'Fix payment rounding', labels: ['billing'], status: 'failed' }),
  ticket('T3', { title: 'Login rate limit', labels: ['Auth', 'security'], status: 'backlog', prompt: 'Throttle the login endpoint' }),
  ticket('T4', { title: 'Docs', status: 'done' }),
];
const ids = (f: Parameters<typeof matchesFilter>[1]) => board.filter((t) => matchesFilter(t, f)).map((t) => t.id);

describe('ticket filter', () => {
  test('no filter, or an empty one, lets every ticket through', () => {
    assert.deepEqual(ids(undefined), ['T1', 'T2', 'T3', 'T4']);
    assert.deepEqual(ids({}), ['T1', 'T2', 'T3', 'T4']);
    assert.equal(normalizeFilter({ statuses: [], labels: [], text: '   ' }), undefined);
    assert.equal(isActive({ text: ' ' }), false);
    assert.equal(isActive({ labels: ['ui'] }), true);
  });

  test('status: any of the chosen states', () => {
    assert.deepEqual(ids({ statuses: ['running', 'failed'] }), ['T1', 'T2']);
    assert.deepEqual(ids({ statuses: ['escalated'] }), []);
  });

  test('label: any of the chosen labels, case-insensitive', () => {
    assert.deepEqual(ids({ labels: ['auth'] }), ['T1', 'T3']);
    assert.deepEqual(ids({ labels: ['billing', 'security'] }), ['T2', 'T3']);
  });

  test('text: every word, in id, title, prompt, labels or files', () => {
    assert.deepEqual(ids({ text: 'login' }), ['T1', 'T3']);
    assert.deepEqual(ids({ text: 'LOGIN throttle' }), ['T3']);
    assert.deepEqual(ids({ text: 't2' }), ['T2']);
    assert.deepEqual(ids({ text: 'src/login' }), ['T1']);
    assert.deepEqual(ids({ text: 'nothing-matches' }), []);
  });

  test('parts combine: each part that is set must match', () => {
    assert.deepEqual(ids({ statuses: ['backlog', 'running'], labels: ['auth'], text: 'rate' }), ['T3']);
    assert.deepEqual(ids({ statuses: ['done'], labels: ['auth'] }), []);
  });

  test('labels of the board, sorted once each', () => {
    assert.deepEqual(labelsOf(board), ['auth', 'Auth', 'billing', 'security', 'ui']);
  });

  test('the filter in words, and the line above the tree', () => {
    assert.equal(describeFilter(undefined), '');
    assert.equal(describeFilter({ statuses: ['running', 'failed'], labels: ['ui'], text: ' login ' }), 'status: running, failed · label: ui · “login”');
    assert.equal(filterMessage({ text: 'login' }, 2, 20), 'Filtered (“login”): 2 of 20 tickets');
    assert.equal(filterMessage({}, 20, 20), undefined);
  });
});
