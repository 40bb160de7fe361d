import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, parseHostMessage, parseWebviewMessage, PROTOCOL_VERSION, REQUEST_COMMANDS } from '../../src/shared/protocol';

describe('parseWebviewMessage', () => {
  test('accepts each known message', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', protocol: PROTOCOL_VERSION }), { type: 'ready', protocol: 1 });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', protocol: 1, lastVersion: 12 }), { type: 'ready', protocol: 1, lastVersion: 12 });
    assert.deepEqual(parseWebviewMessage({ type: 'resync', reason: 'gap' }), { type: 'resync', reason: 'gap' });
    assert.deepEqual(parseWebviewMessage({ type: 'select', ticketId: 'T1' }), { type: 'select', ticketId: 'T1' });
    assert.deepEqual(parseWebviewMessage({ type: 'rendered', version: 3, eventAt: 1, visibleAt: 5, renderMs: 0.5 }), {
      type: 'rendered',
      version: 3,
      eventAt: 1,
      visibleAt: 5,
      renderMs: 0.5,
    });
    for (const kind of ['openTerminal', 'showDiff', 'cancelTicket', 'retryTicket', 'mergeNow'] as const) {
      assert.deepEqual(parseWebviewMessage({ type: 'request', id: 4, request: { kind, ticketId: 'T2' } }), {
        type: 'request',
        id: 4,
        request: { kind, ticketId: 'T2' },
      });
    }
    assert.deepEqual(parseWebviewMessage({ type: 'request', id: 1, request: { kind: 'saveSnapshot' } }), {
      type: 'request',
      id: 1,
      request: { kind: 'saveSnapshot' },
    });
  });

  test('answers: option or guidance kept, empty ones dropped, extra fields stripped', () => {
    assert.deepEqual(
      parseWebviewMessage({ type: 'request', id: 9, request: { kind: 'answerEscalation', escalationId: 'run-1-q1', option: 'Postgres', evil: true } }),
      {
        type: 'request',
        id: 9,
        request: { kind: 'answerEscalation', escalationId: 'run-1-q1', option: 'Postgres' },
      },
    );
    assert.deepEqual(
      parseWebviewMessage({ type: 'request', id: 9, request: { kind: 'answerEscalation', escalationId: 'e', option: '', guidance: '  use sqlite ' } }),
      {
        type: 'request',
        id: 9,
        request: { kind: 'answerEscalation', escalationId: 'e', guidance: '  use sqlite ' },
      },
    );
  });

  test('rejects what it does not know or what is malformed', () => {
    const bad: unknown[] = [
      null,
      'ready',
      [],
      {},
      { type: 'nope' },
      { type: 'ready' },
      { type: 'ready', protocol: -1 },
      { type: 'ready', protocol: 1, lastVersion: 'x' },
      { type: 'request', id: 1.5, request: { kind: 'openTerminal', ticketId: 'T1' } },
      { type: 'request', id: 1, request: { kind: 'openTerminal' } },
      { type: 'request', id: 1, request: { kind: 'openTerminal', ticketId: '' } },
      { type: 'request', id: 1, request: { kind: 'openTerminal', ticketId: 'x'.repeat(LIMITS.id + 1) } },
      { type: 'request', id: 1, request: { kind: 'runShell', command: 'rm -rf /' } },
      { type: 'request', id: 1, request: { kind: 'answerEscalation', escalationId: 'e', guidance: 'x'.repeat(LIMITS.guidance + 1) } },
      { type: 'request', id: 1, request: { kind: 'answerEscalation', escalationId: 'e', option: 3 } },
      { type: 'rendered', version: 1, eventAt: NaN, visibleAt: 1, renderMs: 1 },
      { type: 'select', ticketId: 5 },
    ];
    for (const m of bad) assert.equal(parseWebviewMessage(m), undefined, JSON.stringify(m));
  });
});

describe('parseHostMessage', () => {
  test('checks the shape of snapshot, patch and response', () => {
    assert.ok(parseHostMessage({ type: 'snapshot', version: 1, view: { nodes: [] }, eventAt: 0, compact: false }));
    assert.ok(parseHostMessage({ type: 'patch', patch: { from: 1, to: 2, now: 0 }, eventAt: 0 }));
    assert.ok(parseHostMessage({ type: 'response', id: 3, ok: true }));
    assert.equal(parseHostMessage({ type: 'snapshot', version: 1 }), undefined);
    assert.equal(parseHostMessage({ type: 'patch', patch: { from: 'a' } }), undefined);
    assert.equal(parseHostMessage({ type: 'other' }), undefined);
  });
});

test('each request maps to an orchard.* command', () => {
  for (const c of Object.values(REQUEST_COMMANDS)) assert.match(c, /^orchard\.[a-zA-Z]+$/);
});
