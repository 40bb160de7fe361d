// The errors api.openai.com answers with, shared by the Chat Completions and Responses
// adapters: 429 rate_limit_exceeded with its x-ratelimit headers; an overloaded engine is a
// 503 server_error ("The server is overloaded or not ready yet.").
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json, type FaultKind } from '../scriptServer';

export function openaiFault(res: ServerResponse, kind: FaultKind, model: string, overloadedRetryAfter?: string): void {
  const reqId = `req_${randomBytes(12).toString('hex')}`;
  if (kind === 'rate-limit') {
    json(
      res,
      429,
      {
        error: {
          message: `Rate limit reached for ${model} in organization org-orchardtest on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in 2.4s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          type: 'tokens',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
      {
        'x-request-id': reqId,
        'retry-after': '1',
        'x-ratelimit-limit-tokens': '30000',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '2.4s',
      },
    );
  } else {
    json(
      res,
      503,
      { error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null } },
      { 'x-request-id': reqId, ...(overloadedRetryAfter && { 'retry-after': overloadedRetryAfter }) },
    );
  }
}
