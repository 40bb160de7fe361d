// A scripted model server for the conformance suite: it plays the model for a real agent CLI
// on 127.0.0.1, speaking the CLI's vendor wire protocol through a protocol adapter
// (protocols/<name>.ts). The script is a list of steps, one per model turn: call the CLI's
// shell tool with a command, or answer with text (which ends the agent's turn). The server
// keeps no conversation state: the adapter counts the model turns already in the request's
// history, and that count is the next step. Faults (429 rate limit, 529/503 overloaded) are
// answered before the script for the first N main-loop requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step = { shell: string } | { text: string };

export interface ModelScript {
  steps: Step[];
  /** Text once the steps are used up (default "Done."). */
  finalText?: string;
}

export type FaultKind = 'rate-limit' | 'overloaded';

export interface Fault {
  kind: FaultKind;
  /** How many main-loop requests get the fault (default 1). */
  times?: number;
}

/** What an adapter read from one request. */
export interface Inspected {
  /** Model turns already in the history: the index of the next step. */
  turns: number;
  /** A request outside the agent's main loop (title, summary, next-speaker check, token count…). */
  side?: boolean;
  stream: boolean;
  model?: string;
  /** The newest user text (a prompt, or an answer typed into the terminal). */
  lastUserText?: string;
}

export type Action = { kind: 'shell'; command: string; callId: string } | { kind: 'text'; text: string };

export interface ReplyContext {
  /** Usage the reply reports (the server counts them; tests check Orchard parsed them). */
  usage: { input: number; output: number };
  /** The request's body, parsed. */
  body: any;
}

export interface ProtocolAdapter {
  name: string;
  /** Whether this adapter serves the request (method and path without the query string). */
  matches(method: string, path: string): boolean;
  inspect(body: any, path: string): Inspected;
  /** Writes the model's turn (streamed when the request asked for it). */
  reply(res: ServerResponse, req: Inspected, action: Action, ctx: ReplyContext): void;
  /** Answers a side request (titles, checks): something harmless. */
  side?(res: ServerResponse, req: Inspected, ctx: ReplyContext): void;
  /** The vendor's error for a fault. */
  fault(res: ServerResponse, kind: FaultKind): void;
  /** Anything else the CLI asks for (model lists, quota, telemetry); true when answered. */
  other?(req: IncomingMessage, res: ServerResponse, path: string, body: any): boolean;
}

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  kind: 'main' | 'side' | 'fault' | 'other' | 'unknown';
  step?: number;
  action?: Action;
  body?: unknown;
  /** The marker of the script the request played. */
  script?: string;
}

export interface ScriptServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Usage reported so far, summed over main-loop replies. */
  usage: { input: number; output: number };
  setScript(script: Scripts): void;
  setFaults(faults: Fault[]): void;
  close(): Promise<void>;
}

export const USAGE_PER_TURN = { input: 1200, output: 150 };

/**
 * One script, or several keyed by a marker: a request whose body holds the marker (the ticket's
 * prompt, which every request of its conversation carries) plays that script.
 */
export type Scripts = ModelScript | Record<string, ModelScript>;

const isScript = (s: Scripts): s is ModelScript => Array.isArray((s as ModelScript).steps);

export async function startScriptServer(opts: {
  adapter: ProtocolAdapter;
  script: Scripts;
  faults?: Fault[];
  port?: number;
  keepBodies?: boolean;
}): Promise<ScriptServer> {
  let scripts = opts.script;
  const scriptFor = (raw: string): ModelScript => {
    if (isScript(scripts)) return scripts;
    for (const [marker, s] of Object.entries(scripts)) if (raw.includes(marker)) return s;
    return { steps: [], finalText: 'Done.' };
  };
  let faults = (opts.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const requests: RecordedRequest[] = [];
  const usage = { input: 0, output: 0 };
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any = undefined;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const rec: RecordedRequest = { at: Date.now(), method: req.method ?? 'GET', path, kind: 'unknown', ...(opts.keepBodies && { body }) };
      const marker = isScript(scripts) ? undefined : Object.keys(scripts).find((m) => raw.includes(m));
      if (marker) rec.script = marker;
      requests.push(rec);
      try {
        if (opts.adapter.matches(rec.method, path)) {
          const seen = opts.adapter.inspect(body, path);
          const ctx: ReplyContext = { usage: { ...USAGE_PER_TURN }, body };
          if (seen.side) {
            rec.kind = 'side';
            if (opts.adapter.side) opts.adapter.side(res, seen, ctx);
            else opts.adapter.reply(res, seen, { kind: 'text', text: 'ok' }, ctx);
            return;
          }
          const fault = faults.find((f) => f.left > 0);
          if (fault) {
            fault.left--;
            rec.kind = 'fault';
            opts.adapter.fault(res, fault.kind);
            return;
          }
          rec.kind = 'main';
          rec.step = seen.turns;
          const script = scriptFor(raw);
          const step = script.steps[seen.turns];
          const action: Action = !step
            ? { kind: 'text', text: script.finalText ?? 'Done.' }
            : 'shell' in step
              ? { kind: 'shell', command: step.shell, callId: `call_${++calls}_${seen.turns}` }
              : { kind: 'text', text: step.text };
          rec.action = action;
          usage.input += ctx.usage.input;
          usage.output += ctx.usage.output;
          opts.adapter.reply(res, seen, action, ctx);
          return;
        }
        if (opts.adapter.other?.(req, res, path, body)) {
          rec.kind = 'other';
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `script server: nothing at ${rec.method} ${path}` } }));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `script server: ${(e as Error).stack}` } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    usage,
    setScript: (s) => (scripts = s),
    setFaults: (f) => (faults = f.map((x) => ({ ...x, left: x.times ?? 1 }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Server-sent events: `event:` lines where the protocol names them, `data:` JSON. */
export function sse(res: ServerResponse, events: Array<{ event?: string; data: unknown }>, done = false): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
  if (done) res.write('data: [DONE]\n\n');
  res.end();
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
