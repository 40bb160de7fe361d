// Anthropic Messages API (POST /v1/messages, SSE streaming) for Claude Code.
// Main-loop requests carry the Bash tool; anything else (titles, topic checks, the quota probe,
// token counting) is a side request. Model turns = assistant messages already in the history.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json, sse, type FaultKind, type Inspected, type ProtocolAdapter, type ReplyContext } from '../scriptServer';

const id = (p: string) => `${p}_${randomBytes(12).toString('hex')}`;

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content.filter((b: any) => b?.type === 'text' && typeof b.text === 'string').map((b: any) => b.text as string);
  return texts.length ? texts.join('\n') : undefined;
}

/** The shell tool of this request: Claude Code's `Bash` ({command, description}). */
function shellTool(body: any): string | undefined {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.find((t) => t?.name === 'Bash')?.name;
}

function usageOf(ctx: ReplyContext, output: number) {
  return { input_tokens: ctx.usage.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output };
}

export function anthropicMessage(
  res: ServerResponse,
  req: Inspected,
  ctx: ReplyContext,
  blocks: Array<{ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown }>,
  stop: 'end_turn' | 'tool_use',
): void {
  const model = req.model ?? 'claude-sonnet-4-5';
  const msgId = id('msg');
  if (!req.stream) {
    json(
      res,
      200,
      { id: msgId, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stop, stop_sequence: null, usage: usageOf(ctx, ctx.usage.output) },
      { 'request-id': id('req') },
    );
    return;
  }
  const events: Array<{ event: string; data: unknown }> = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { id: msgId, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usageOf(ctx, 1) },
      },
    },
  ];
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } } });
    } else {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } },
      });
      const js = JSON.stringify(b.input);
      const cut = Math.floor(js.length / 2);
      events.push({
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: js.slice(0, cut) } },
      });
      events.push({
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: js.slice(cut) } },
      });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({
    event: 'message_delta',
    data: { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: usageOf(ctx, ctx.usage.output) },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  sse(res, events);
}

export const anthropicAdapter: ProtocolAdapter = {
  name: 'anthropic',
  matches: (method, path) => method === 'POST' && (path === '/v1/messages' || path === '/v1/messages/count_tokens'),
  inspect(body, path) {
    const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
    const turns = messages.filter((m) => m?.role === 'assistant').length;
    let lastUserText: string | undefined;
    for (let i = messages.length - 1; i >= 0 && lastUserText === undefined; i--) if (messages[i]?.role === 'user') lastUserText = textOf(messages[i].content);
    const side = path.endsWith('/count_tokens') || !shellTool(body);
    return { turns, side, stream: body?.stream === true, model: body?.model, lastUserText };
  },
  reply(res, req, action, ctx) {
    if (action.kind === 'shell') {
      anthropicMessage(
        res,
        req,
        ctx,
        [
          {
            type: 'tool_use',
            id: `toolu_${action.callId}`,
            name: shellTool(ctx.body) ?? 'Bash',
            input: { command: action.command, description: 'Run a command' },
          },
        ],
        'tool_use',
      );
    } else {
      anthropicMessage(res, req, ctx, [{ type: 'text', text: action.text }], 'end_turn');
    }
  },
  side(res, req, ctx) {
    // count_tokens wants { input_tokens }.
    if (!('max_tokens' in (ctx.body ?? {}))) return json(res, 200, { input_tokens: 10 });
    // The session title (claude-haiku, output_config json_schema {title}); other small-model
    // checks get the same harmless JSON.
    anthropicMessage(res, req, { ...ctx, usage: { input: 10, output: 2 } }, [{ type: 'text', text: '{"title": "Scripted session"}' }], 'end_turn');
  },
  fault(res: ServerResponse, kind: FaultKind) {
    // As api.anthropic.com answers: 429 rate_limit_error with retry-after; 529 overloaded_error.
    const reqId = id('req');
    if (kind === 'rate-limit') {
      json(
        res,
        429,
        {
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message:
              'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.',
          },
          request_id: reqId,
        },
        {
          'request-id': reqId,
          'retry-after': '1',
          'x-should-retry': 'true',
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '0',
        },
      );
    } else {
      json(
        res,
        529,
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: reqId },
        { 'request-id': reqId, 'x-should-retry': 'true' },
      );
    }
  },
  other(req, res, path) {
    // Claude Code probes a few endpoints besides /v1/messages (none are needed offline).
    if (req.method === 'HEAD' || path === '/' || path === '/v1/models') {
      json(res, 200, { data: [], has_more: false });
      return true;
    }
    return false;
  },
};
