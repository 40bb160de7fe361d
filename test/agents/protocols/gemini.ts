// Gemini API (v1beta) as Gemini CLI speaks it: POST /v1beta/models/<model>:streamGenerateContent?alt=sse
// (the agent loop, server-sent events), :generateContent (JSON-schema side calls: next-speaker
// check, model routing, loop detection, summaries) and :countTokens. Tool calls are
// `functionCall` parts; the CLI's shell tool is `run_shell_command` with `{command, description?,
// dir_path?, is_background?}` (0.61.0). Usage is `usageMetadata`.
import type { ServerResponse } from 'node:http';
import { json, sse, type FaultKind, type Inspected, type ProtocolAdapter, type ReplyContext } from '../scriptServer';

interface Part {
  text?: string;
  thought?: boolean;
  functionCall?: { name: string; args?: unknown; id?: string };
  functionResponse?: unknown;
}
interface Content {
  role?: string;
  parts?: Part[];
}

const SHELL_TOOL = 'run_shell_command';

function shellToolName(body: any): string {
  const decls: Array<{ name?: string }> = (body?.tools ?? []).flatMap((t: any) => t?.functionDeclarations ?? []);
  return decls.find((d) => d.name === SHELL_TOOL)?.name ?? decls.find((d) => /shell/i.test(d.name ?? ''))?.name ?? SHELL_TOOL;
}

/** A JSON answer that fits a side call's response schema (the CLI validates the fields it reads). */
function fromSchema(schema: any, key = ''): unknown {
  if (!schema || typeof schema !== 'object') return null;
  if (Array.isArray(schema.enum) && schema.enum.length) {
    // Next-speaker check: the user speaks next (the agent's turn is over); routing: flash.
    if (schema.enum.includes('user')) return 'user';
    if (schema.enum.includes('flash')) return 'flash';
    return schema.enum[0];
  }
  const type = String(Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? 'object')).toLowerCase();
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = fromSchema(v, k);
      return out;
    }
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'number':
    case 'integer':
      // Loop detection's confidence: no loop.
      return 0;
    default:
      if (key === 'next_speaker') return 'user';
      if (key === 'model_choice') return 'flash';
      return key === 'reasoning' ? 'scripted server' : '';
  }
}

export const geminiAdapter: ProtocolAdapter = {
  name: 'gemini',
  matches(method, path) {
    return method === 'POST' && /^\/v1(beta|alpha)?\/models\/[^/]+:(streamGenerateContent|generateContent|countTokens)$/.test(path);
  },
  inspect(body, path): Inspected {
    const model = /\/models\/([^/:]+):/.exec(path)?.[1];
    const stream = path.endsWith(':streamGenerateContent');
    const contents: Content[] = body?.contents ?? body?.generateContentRequest?.contents ?? [];
    const cfg = body?.generationConfig ?? body?.config ?? {};
    // Side calls: token counts, and non-streamed structured answers (next speaker, routing,
    // loop check, summaries). The agent loop always streams and always offers tools.
    const side =
      path.endsWith(':countTokens') ||
      !stream ||
      !!cfg.responseJsonSchema ||
      !!cfg.responseSchema ||
      cfg.responseMimeType === 'application/json' ||
      !(body?.tools ?? []).length;
    // Model turns already answered: model contents holding a function call or real text
    // (thoughts alone are not a turn). Consecutive model contents are one turn.
    let turns = 0;
    let prevModel = false;
    let lastUserText: string | undefined;
    for (const c of contents) {
      const parts = c.parts ?? [];
      if (c.role === 'model') {
        const counts = parts.some((p) => p.functionCall || (p.text && !p.thought));
        if (counts && !prevModel) turns++;
        prevModel = prevModel || counts;
      } else {
        prevModel = false;
        const t = parts
          .filter((p) => typeof p.text === 'string' && !p.functionResponse)
          .map((p) => p.text)
          .join('\n');
        if (t.trim()) lastUserText = t;
      }
    }
    return { turns, side, stream, ...(model && { model }), ...(lastUserText !== undefined && { lastUserText }) };
  },
  reply(res, req, action, ctx) {
    const parts: Part[] =
      action.kind === 'shell'
        ? [{ functionCall: { name: shellToolName(ctx.body), args: { command: action.command, description: 'scripted step' }, id: action.callId } }]
        : [{ text: action.text }];
    const usageMetadata = { promptTokenCount: ctx.usage.input, candidatesTokenCount: ctx.usage.output, totalTokenCount: ctx.usage.input + ctx.usage.output };
    const chunk = {
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata,
      modelVersion: req.model ?? 'gemini-scripted',
      responseId: `resp_${Date.now()}`,
    };
    if (req.stream) sse(res, [{ data: chunk }]);
    else json(res, 200, chunk);
  },
  side(res, req, ctx: ReplyContext) {
    const body = ctx.body ?? {};
    const cfg = body?.generationConfig ?? {};
    const schema = cfg.responseJsonSchema ?? cfg.responseSchema;
    const usageMetadata = { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 };
    if (!body?.generationConfig && !body?.tools && (body?.contents || body?.generateContentRequest)) {
      // A :countTokens request.
      json(res, 200, { totalTokens: 100 });
      return;
    }
    const text = schema || cfg.responseMimeType === 'application/json' ? JSON.stringify(fromSchema(schema ?? { type: 'object' })) : 'ok';
    const chunk = {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata,
      modelVersion: req.model ?? 'gemini-scripted',
    };
    if (req.stream) sse(res, [{ data: chunk }]);
    else json(res, 200, chunk);
  },
  fault(res: ServerResponse, kind: FaultKind) {
    // As the Gemini API answers them (google.rpc.Status in an `error` object).
    if (kind === 'rate-limit') {
      // A per-minute quota, as the API words it (RetryInfo short, so tests stay short; the CLI
      // waits what RetryInfo says, and gives up after general.maxAttempts, 10 by default).
      json(res, 429, {
        error: {
          code: 429,
          message:
            'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash\nPlease retry in 1s.',
          status: 'RESOURCE_EXHAUSTED',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [
                {
                  quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                  quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                  quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
                  quotaValue: '10',
                },
              ],
            },
            {
              '@type': 'type.googleapis.com/google.rpc.Help',
              links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
            },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
          ],
        },
      });
    } else {
      json(res, 503, { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } });
    }
  },
  other(req, res, path) {
    // Model listing (some versions look the model up); anything else is left to a 404.
    if (req.method === 'GET' && /^\/v1(beta)?\/models\/?$/.test(path)) {
      json(res, 200, {
        models: [{ name: 'models/gemini-2.5-flash', supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'] }],
      });
      return true;
    }
    return false;
  },
};

export default geminiAdapter;
