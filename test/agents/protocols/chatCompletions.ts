// OpenAI Chat Completions (POST /v1/chat/completions, SSE streaming) for the CLIs that speak it
// to a custom provider: OpenCode (@ai-sdk/openai-compatible) and Copilot CLI (own-provider
// mode). The client sends the whole history in `messages` on every request, so the server stays
// stateless: model turns = assistant messages already in `messages` (one per step: a tool-call
// step is an assistant message followed by its `tool` results). The shell tool is found by name
// in the request's `tools` (`bash` for OpenCode and Copilot); a request without one (session
// titles, summaries, compaction) is a side request.
//
// Streaming follows api.openai.com: a first chunk with the role, tool-call chunks (id, name,
// then the arguments), a chunk with finish_reason, and — when the request asked for it with
// `stream_options.include_usage` (or always: `usageChunk: 'always'`) — a last chunk with empty
// `choices` and `usage`; then `data: [DONE]`.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json, sse, type Action, type FaultKind, type Inspected, type ProtocolAdapter, type ReplyContext } from '../scriptServer';
import { openaiFault } from './openaiErrors';

const id = (p: string) => `${p}-${randomBytes(12).toString('hex')}`;

/** Names a shell tool goes by, in order of preference. */
export const SHELL_TOOL_NAMES = ['bash', 'shell', 'run_shell_command', 'shell_command', 'exec_command', 'powershell'];

export type ShellTool = { name: string; args: (command: string) => Record<string, unknown> };

/** The request's tool names (`tools[].function.name`, or `tools[].name`). */
export function toolNames(body: any): string[] {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.map((t) => t?.function?.name ?? t?.name).filter((n): n is string => typeof n === 'string');
}

/** The request's shell tool, with arguments shaped by its JSON schema. */
export function shellTool(body: any): ShellTool | undefined {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  const names = toolNames(body);
  const name = SHELL_TOOL_NAMES.find((n) => names.includes(n));
  if (!name) return undefined;
  const tool = tools.find((t) => (t?.function?.name ?? t?.name) === name);
  const props: Record<string, any> = tool?.function?.parameters?.properties ?? tool?.parameters?.properties ?? {};
  const required: string[] = tool?.function?.parameters?.required ?? tool?.parameters?.required ?? [];
  return {
    name,
    args(command) {
      const key = 'command' in props ? 'command' : 'cmd' in props ? 'cmd' : 'command';
      const a: Record<string, unknown> = { [key]: props[key]?.type === 'array' ? ['bash', '-lc', command] : command };
      // OpenCode's bash requires a description; others accept one.
      if ('description' in props || required.includes('description')) a.description = 'Run a shell command';
      return a;
    },
  };
}

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content.filter((b: any) => (b?.type === 'text' || b?.type === 'input_text') && typeof b.text === 'string').map((b: any) => b.text as string);
  return texts.length ? texts.join('\n') : undefined;
}

/** The newest user text of a request (a prompt, or an answer typed into the terminal). */
export function lastUserText(body: any): string | undefined {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i]?.role !== 'user') continue;
    const t = textOf(msgs[i].content);
    if (t !== undefined) return t;
  }
  return undefined;
}

export interface ChatCompletionsOptions {
  /** When to send the final `usage` chunk: as the API does ('requested'), or 'always'. */
  usageChunk?: 'requested' | 'always';
  /** Model ids for `GET /v1/models` (default: none). */
  models?: string[];
  /**
   * A `retry-after` header (seconds) on the 503 "overloaded" answer too. api.openai.com sends
   * none there, so clients back off exponentially (OpenCode: 2 s × 2^n, 5 retries, about 70 s
   * before it gives up); tests that exhaust the retries may shorten that with '1'.
   */
  overloadedRetryAfter?: string;
}

function usageOf(u: { input: number; output: number }) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function respond(res: ServerResponse, req: Inspected, body: any, action: Action, usage: { input: number; output: number }, opts: ChatCompletionsOptions): void {
  const model = req.model ?? 'gpt-4.1';
  const created = Math.floor(Date.now() / 1000);
  const cid = id('chatcmpl');
  const u = usageOf(usage);
  let message: Record<string, unknown>;
  let finish: 'tool_calls' | 'stop';
  if (action.kind === 'shell') {
    const tool = shellTool(body) ?? { name: 'bash', args: (command: string) => ({ command }) };
    message = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: action.callId, type: 'function', function: { name: tool.name, arguments: JSON.stringify(tool.args(action.command)) } }],
    };
    finish = 'tool_calls';
  } else {
    message = { role: 'assistant', content: action.text, refusal: null };
    finish = 'stop';
  }
  if (!req.stream) {
    json(res, 200, {
      id: cid,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: 'fp_orchard',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage: u,
    });
    return;
  }
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null) => ({
    id: cid,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_orchard',
    choices: [{ index: 0, delta, logprobs: null, finish_reason }],
  });
  const events: unknown[] = [];
  if (action.kind === 'shell') {
    const tc = (message.tool_calls as any[])[0];
    events.push(
      chunk(
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }],
          refusal: null,
        },
        null,
      ),
    );
    const args: string = tc.function.arguments;
    const cut = Math.floor(args.length / 2);
    for (const part of [args.slice(0, cut), args.slice(cut)]) if (part) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] }, null));
  } else {
    const text = action.text;
    events.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
    const cut = Math.floor(text.length / 2);
    for (const part of [text.slice(0, cut), text.slice(cut)]) if (part) events.push(chunk({ content: part }, null));
  }
  events.push(chunk({}, finish));
  if (opts.usageChunk === 'always' || body?.stream_options?.include_usage === true)
    events.push({ id: cid, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_orchard', choices: [], usage: u });
  sse(
    res,
    events.map((data) => ({ data })),
    true,
  );
}

/** A Chat Completions adapter; `chatCompletionsAdapter` is the default one. */
export function makeChatCompletionsAdapter(opts: ChatCompletionsOptions = {}): ProtocolAdapter {
  return {
    name: 'openai-chat-completions',
    matches: (method, path) => method === 'POST' && /^(\/v1)?\/chat\/completions$/.test(path),
    inspect(body) {
      const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
      const turns = msgs.filter((m) => m?.role === 'assistant').length;
      const system = msgs
        .filter((m) => m?.role === 'system' || m?.role === 'developer')
        .map((m) => textOf(m.content) ?? '')
        .join('\n');
      // Titles and summaries come without tools (OpenCode: "You are a title generator").
      const side = !shellTool(body) || /you are a title generator/i.test(system);
      return { turns, side, stream: body?.stream === true, model: typeof body?.model === 'string' ? body.model : undefined, lastUserText: lastUserText(body) };
    },
    reply(res, req, action, ctx: ReplyContext) {
      respond(res, req, ctx.body, action, ctx.usage, opts);
    },
    side(res, req, ctx) {
      respond(res, req, ctx.body, { kind: 'text', text: 'Orchard scripted session' }, { input: 10, output: 2 }, opts);
    },
    fault(res: ServerResponse, kind: FaultKind) {
      openaiFault(res, kind, 'gpt-4.1', opts.overloadedRetryAfter);
    },
    other(req, res, path) {
      if (req.method === 'GET' && /^(\/v1)?\/models\/?$/.test(path)) {
        json(res, 200, { object: 'list', data: (opts.models ?? []).map((m) => ({ id: m, object: 'model', created: 0, owned_by: 'orchard' })) });
        return true;
      }
      return false;
    },
  };
}

export const chatCompletionsAdapter: ProtocolAdapter = makeChatCompletionsAdapter();
