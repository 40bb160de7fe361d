// OpenAI Responses API (POST /v1/responses, SSE streaming) for Codex CLI.
// Codex sends the whole history in `input` on every request (store: false), so the server stays
// stateless: model turns = function_call items + assistant messages already in `input`. Its
// shell tool depends on the model's metadata: `exec_command` {cmd} (unified exec, the default
// for unknown models in 0.171), `shell_command` {command: string} or `shell` {command: [argv]};
// the adapter answers with whichever the request's tool list holds. Compaction
// (`/v1/responses/compact`) and requests without a shell tool are side requests.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json, sse, type FaultKind, type Inspected, type ProtocolAdapter, type ReplyContext } from '../scriptServer';
import { openaiFault } from './openaiErrors';

const id = (p: string) => `${p}_${randomBytes(12).toString('hex')}`;

type ShellTool = { name: string; args: (command: string) => Record<string, unknown> };

/** The shell tool of this request and how its arguments are shaped. */
export function shellTool(body: any): ShellTool | undefined {
  const names = new Set<string>();
  const walk = (tools: unknown) => {
    if (!Array.isArray(tools)) return;
    for (const t of tools as any[]) {
      if (typeof t?.name === 'string') names.add(t.name);
      walk(t?.tools);
    }
  };
  walk(body?.tools);
  // A command prefixed "#escalate " asks to run outside the sandbox: the TUI's approval question.
  if (names.has('exec_command'))
    return {
      name: 'exec_command',
      args: (cmd) =>
        cmd.startsWith('#escalate ')
          ? {
              cmd: cmd.slice('#escalate '.length),
              yield_time_ms: 10_000,
              sandbox_permissions: 'require_escalated',
              justification: 'Run this outside the sandbox?',
            }
          : { cmd, yield_time_ms: 10_000 },
    };
  if (names.has('shell_command')) return { name: 'shell_command', args: (command) => ({ command, timeout_ms: 60_000 }) };
  if (names.has('shell')) return { name: 'shell', args: (command) => ({ command: ['bash', '-lc', command], timeout_ms: 60_000 }) };
  if (names.has('local_shell')) return { name: 'local_shell', args: (command) => ({ command: ['bash', '-lc', command] }) };
  return undefined;
}

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .filter((b: any) => (b?.type === 'input_text' || b?.type === 'output_text' || b?.type === 'text') && typeof b.text === 'string')
    .map((b: any) => b.text as string);
  return texts.length ? texts.join('\n') : undefined;
}

function usageOf(ctx: ReplyContext) {
  return {
    input_tokens: ctx.usage.input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: ctx.usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: ctx.usage.input + ctx.usage.output,
  };
}

function respond(res: ServerResponse, req: Inspected, ctx: ReplyContext, item: Record<string, unknown>): void {
  const model = req.model ?? 'gpt-5';
  const respId = id('resp');
  const created_at = Math.floor(Date.now() / 1000);
  const base = { id: respId, object: 'response', created_at, model, status: 'in_progress', output: [] as unknown[] };
  const done = { ...base, status: 'completed', output: [item], usage: usageOf(ctx) };
  if (!req.stream) {
    json(res, 200, done, { 'x-request-id': id('req') });
    return;
  }
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  let seq = 0;
  const push = (type: string, data: Record<string, unknown>) => events.push({ event: type, data: { type, sequence_number: seq++, ...data } });
  push('response.created', { response: base });
  push('response.in_progress', { response: base });
  if (item.type === 'message') {
    const text = ((item.content as any[])[0]?.text as string) ?? '';
    push('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    push('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    const cut = Math.floor(text.length / 2);
    for (const delta of [text.slice(0, cut), text.slice(cut)])
      if (delta) push('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta });
    push('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text });
    push('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
  } else {
    const args = item.arguments as string;
    push('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
    push('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: args });
    push('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: args });
  }
  push('response.output_item.done', { output_index: 0, item });
  push('response.completed', { response: done });
  sse(res, events);
}

export const openaiResponsesAdapter: ProtocolAdapter = {
  name: 'openai-responses',
  matches: (method, path) => method === 'POST' && /^\/(v1\/)?responses(\/compact)?$/.test(path),
  inspect(body, path) {
    const input: any[] = Array.isArray(body?.input) ? body.input : [];
    const turns = input.filter(
      (i) => i?.type === 'function_call' || i?.type === 'local_shell_call' || (i?.type === 'message' && i.role === 'assistant'),
    ).length;
    let lastUserText: string | undefined;
    for (let i = input.length - 1; i >= 0 && lastUserText === undefined; i--) {
      const it = input[i];
      // Codex puts its environment context in user messages too; the human's text is the last other one.
      if (it?.type === 'message' && it.role === 'user') {
        const t = textOf(it.content);
        if (t && !t.trimStart().startsWith('<')) lastUserText = t;
      }
    }
    const side = path.endsWith('/compact') || !shellTool(body);
    return { turns, side, stream: body?.stream === true, model: body?.model, lastUserText };
  },
  reply(res, req, action, ctx) {
    if (action.kind === 'shell') {
      const tool = shellTool(ctx.body) ?? { name: 'exec_command', args: (cmd: string) => ({ cmd }) };
      respond(res, req, ctx, {
        type: 'function_call',
        id: id('fc'),
        status: 'completed',
        name: tool.name,
        arguments: JSON.stringify(tool.args(action.command)),
        call_id: action.callId,
      });
    } else {
      respond(res, req, ctx, {
        type: 'message',
        id: id('msg'),
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: action.text, annotations: [] }],
      });
    }
  },
  side(res, req, ctx) {
    // /responses/compact wants the compacted history back: keep it as it was.
    if (ctx.body && Array.isArray(ctx.body.input) && req.stream === false && !ctx.body.tools) return json(res, 200, { output: ctx.body.input });
    respond(
      res,
      req,
      { ...ctx, usage: { input: 10, output: 2 } },
      { type: 'message', id: id('msg'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
    );
  },
  fault(res: ServerResponse, kind: FaultKind) {
    openaiFault(res, kind, 'gpt-5');
  },
  other(req, res, path) {
    // Model list (provider model discovery): nothing needed offline.
    if (req.method === 'GET' && /^\/(v1\/)?models\/?$/.test(path)) {
      json(res, 200, { object: 'list', data: [], models: [] });
      return true;
    }
    return false;
  },
};
