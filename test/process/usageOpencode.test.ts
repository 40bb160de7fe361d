// Orchard's OpenCode plugin (the turn-end / needs-input reports of interactive runs), driven with
// the event shapes the real TUI sends (OpenCode 1.18.33); it runs a process for every call.
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { opencodePluginSource } from '../../src/infra/agents/clis/opencode';

describe("OpenCode: Orchard's plugin", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function withPlugin(
    f: (emit: (type: string, properties: Record<string, unknown>) => Promise<void>, calls: () => string[]) => Promise<void>,
  ): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'orchard-oc-plugin-'));
    try {
      const log = join(dir, 'calls.log');
      const stub = join(dir, 'orchard agent');
      // One line per call: the arguments joined by a tab.
      writeFileSync(stub, `#!/bin/sh\n(IFS='\t'; printf '%s\\n' "$*") >> '${log}'\n`);
      chmodSync(stub, 0o755);
      const file = join(dir, 'orchard-opencode-plugin.js');
      writeFileSync(file, opencodePluginSource(stub));
      const mod = (await import(pathToFileURL(file).href)) as { OrchardHooks: () => Promise<{ event: (e: { event: unknown }) => Promise<void> }> };
      const hooks = await mod.OrchardHooks();
      let n = 0;
      const emit = (type: string, properties: Record<string, unknown>) => hooks.event({ event: { id: `evt_${++n}`, type, properties } });
      const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
      await f(emit, calls);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  async function until(what: string, f: () => boolean): Promise<void> {
    const end = Date.now() + 60_000; // the plugin runs a process per call: generous on a loaded machine
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out after 60 s waiting for ${what}`);
      await sleep(20);
    }
  }
  const S = 'ses_1';
  const assistant = (id: string, tokens: Record<string, unknown>, cost = 0) => ({ sessionID: S, info: { id, sessionID: S, role: 'assistant', tokens, cost } });
  const text = (messageID: string, t: string) => ({ sessionID: S, part: { id: `prt_${messageID}`, sessionID: S, messageID, type: 'text', text: t } });

  it('a turn end reports the usage so far, then turn-end with the last assistant text; once per busy spell', async () => {
    await withPlugin(async (emit, calls) => {
      await emit('session.created', { sessionID: S, info: { id: S } });
      await emit('message.updated', { sessionID: S, info: { id: 'msg_u', sessionID: S, role: 'user' } });
      await emit('message.part.updated', text('msg_u', 'the prompt'));
      await emit('session.status', { sessionID: S, status: { type: 'busy' } });
      await emit('message.updated', assistant('msg_a1', { input: 1000, output: 100, reasoning: 20, cache: { read: 500, write: 0 } }, 0.01));
      await emit('message.updated', assistant('msg_a2', { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } }));
      await emit('message.part.updated', text('msg_a2', 'Which greeting do you want?'));
      await emit('message.updated', assistant('msg_a2', { input: 1200, output: 150, reasoning: 0, cache: { read: 0, write: 0 } }, 0.02));
      // A subagent's session going idle is not the agent's turn end.
      await emit('session.created', { sessionID: 'ses_child', info: { id: 'ses_child', parentID: S } });
      await emit('session.idle', { sessionID: 'ses_child' });
      await emit('session.idle', { sessionID: S });
      await emit('session.idle', { sessionID: S });
      await until('turn-end', () => calls().some((c) => c.startsWith('hook\tturn-end')));
      await sleep(200);
      const c = calls();
      assert.equal(c.length, 2, c.join('\n'));
      assert.equal(c[0], 'usage\t--input-tokens\t2700\t--output-tokens\t270\t--usd\t0.03');
      const [, , payload] = c[1]!.split('\t');
      assert.deepEqual(JSON.parse(payload!), { hook_event_name: 'session.idle', session_id: S, last_assistant_message: 'Which greeting do you want?' });
    });
  });
  it('an aborted turn (Esc, or SIGTERM when Orchard stops the run) is no turn end; the next turn is', async () => {
    await withPlugin(async (emit, calls) => {
      await emit('session.status', { sessionID: S, status: { type: 'busy' } });
      await emit('message.updated', assistant('msg_a1', { input: 1200, output: 150, reasoning: 0, cache: { read: 0, write: 0 } }));
      await emit('session.error', { sessionID: S, error: { name: 'MessageAbortedError', data: { message: 'Aborted' } } });
      await emit('session.idle', { sessionID: S });
      await emit('session.status', { sessionID: S, status: { type: 'busy' } });
      await emit('message.part.updated', text('msg_a1', 'Done.'));
      await emit('session.idle', { sessionID: S });
      await until('turn-end', () => calls().some((c) => c.startsWith('hook\tturn-end')));
      await sleep(100);
      const c = calls();
      assert.deepEqual(
        c.map((l) => l.split('\t').slice(0, 2).join(' ')),
        ['usage --input-tokens', 'usage --input-tokens', 'hook turn-end'],
        c.join('\n'),
      );
      assert.equal(JSON.parse(c[2]!.split('\t')[2]!).last_assistant_message, 'Done.');
    });
  });
  it('a turn that ended on an error says so; permission and question asks are needs-input', async () => {
    await withPlugin(async (emit, calls) => {
      await emit('session.status', { sessionID: S, status: { type: 'busy' } });
      await emit('permission.asked', { id: 'per_1', sessionID: S, permission: 'external_directory', patterns: ['/etc/*'], metadata: {}, always: [] });
      await emit('question.asked', { id: 'que_1', sessionID: S, questions: [{ question: 'Which file?', header: 'File', options: [] }] });
      await emit('session.error', { sessionID: S, error: { name: 'APIError', data: { message: 'Rate limit reached for gpt-4.1', statusCode: 429 } } });
      await emit('session.idle', { sessionID: S });
      await until('turn-end', () => calls().some((c) => c.startsWith('hook\tturn-end')));
      const c = calls();
      assert.equal(c.length, 3, c.join('\n'));
      assert.deepEqual(JSON.parse(c[0]!.split('\t')[2]!).message, 'OpenCode asks permission: external_directory /etc/*');
      assert.deepEqual(JSON.parse(c[1]!.split('\t')[2]!).message, 'Which file?');
      assert.deepEqual(JSON.parse(c[2]!.split('\t')[2]!).last_assistant_message, 'OpenCode stopped on an error: Rate limit reached for gpt-4.1');
    });
  });
});
