// The one protocol between the dashboard host (src/vscode/dashboard.ts) and its webview
// (src/webview). Both import this file; the webview imports nothing else outside src/shared.
//
//   webview → host  ready {protocol, lastVersion?}   (handshake: the host posts nothing before it)
//   host → webview  snapshot {version, view}         (after ready, and after resync)
//   host → webview  patch {patch: from → to}         (incremental; coalesced, ≤ 10/s)
//   webview → host  resync                           (a patch did not follow its version)
//   webview → host  request {id, request}            (an action; answered by response {id})
//   webview → host  rendered {version, eventAt, visibleAt}   (latency measurement)
//   webview → host  select {ticketId}                (the user selected a ticket)
//
// Everything that arrives from the webview is checked by parseWebviewMessage before use.
import type { DashboardPatch, DashboardView } from './dashboardView';

export const PROTOCOL_VERSION = 1;

// ---- requests (webview asks the host to act) ------------------------------------------

export type DashboardRequest =
  | { kind: 'answerEscalation'; escalationId: string; option?: string; guidance?: string }
  | { kind: 'openTerminal'; ticketId: string }
  | { kind: 'showDiff'; ticketId: string }
  | { kind: 'cancelTicket'; ticketId: string }
  | { kind: 'retryTicket'; ticketId: string }
  | { kind: 'mergeNow'; ticketId: string }
  | { kind: 'approve'; ticketId: string }
  | { kind: 'openReview'; ticketId: string }
  | { kind: 'requestChanges'; ticketId: string }
  | { kind: 'saveSnapshot' };

export type DashboardRequestKind = DashboardRequest['kind'];

// ---- messages -------------------------------------------------------------------------

export type WebviewToHost =
  | { type: 'ready'; protocol: number; lastVersion?: number }
  | { type: 'resync'; reason: string }
  | { type: 'request'; id: number; request: DashboardRequest }
  | { type: 'rendered'; version: number; eventAt: number; visibleAt: number; renderMs: number }
  | { type: 'select'; ticketId: string };

export type HostToWebview =
  | { type: 'snapshot'; version: number; view: DashboardView; eventAt: number; compact: boolean }
  | { type: 'patch'; patch: DashboardPatch; eventAt: number }
  | { type: 'response'; id: number; ok: boolean; message?: string };

// ---- validation -----------------------------------------------------------------------

export const LIMITS = { id: 200, option: 500, guidance: 20_000, reason: 500 } as const;

type Fields = Record<string, unknown>;
const isObj = (x: unknown): x is Fields => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown, max: number): x is string => typeof x === 'string' && x.length <= max;
const idStr = (x: unknown): x is string => str(x, LIMITS.id) && x.length > 0;
const int = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function parseRequest(r: unknown): DashboardRequest | undefined {
  if (!isObj(r)) return undefined;
  switch (r.kind) {
    case 'answerEscalation': {
      if (!idStr(r.escalationId)) return undefined;
      if (r.option !== undefined && !str(r.option, LIMITS.option)) return undefined;
      if (r.guidance !== undefined && !str(r.guidance, LIMITS.guidance)) return undefined;
      const option = typeof r.option === 'string' && r.option ? r.option : undefined;
      const guidance = typeof r.guidance === 'string' && r.guidance.trim() ? r.guidance : undefined;
      const out: DashboardRequest = { kind: 'answerEscalation', escalationId: r.escalationId };
      if (option !== undefined) out.option = option;
      if (guidance !== undefined) out.guidance = guidance;
      return out;
    }
    case 'openTerminal':
    case 'showDiff':
    case 'cancelTicket':
    case 'retryTicket':
    case 'mergeNow':
    case 'approve':
    case 'openReview':
    case 'requestChanges':
      return idStr(r.ticketId) ? { kind: r.kind, ticketId: r.ticketId } : undefined;
    case 'saveSnapshot':
      return { kind: 'saveSnapshot' };
    default:
      return undefined;
  }
}

/** A message from the webview, checked field by field; undefined when it is not one we know. */
export function parseWebviewMessage(m: unknown): WebviewToHost | undefined {
  if (!isObj(m)) return undefined;
  switch (m.type) {
    case 'ready':
      if (!int(m.protocol)) return undefined;
      if (m.lastVersion !== undefined && !int(m.lastVersion)) return undefined;
      return m.lastVersion === undefined ? { type: 'ready', protocol: m.protocol } : { type: 'ready', protocol: m.protocol, lastVersion: m.lastVersion };
    case 'resync':
      return { type: 'resync', reason: str(m.reason, LIMITS.reason) ? m.reason : 'unknown' };
    case 'request': {
      if (!int(m.id)) return undefined;
      const request = parseRequest(m.request);
      return request ? { type: 'request', id: m.id, request } : undefined;
    }
    case 'rendered':
      if (!int(m.version) || !num(m.eventAt) || !num(m.visibleAt) || !num(m.renderMs)) return undefined;
      return { type: 'rendered', version: m.version, eventAt: m.eventAt, visibleAt: m.visibleAt, renderMs: m.renderMs };
    case 'select':
      return idStr(m.ticketId) ? { type: 'select', ticketId: m.ticketId } : undefined;
    default:
      return undefined;
  }
}

/** The webview's light check of what the host sends (the host is trusted; this catches bugs). */
export function parseHostMessage(m: unknown): HostToWebview | undefined {
  if (!isObj(m)) return undefined;
  switch (m.type) {
    case 'snapshot':
      return int(m.version) && isObj(m.view) && Array.isArray((m.view as Fields).nodes) ? (m as unknown as HostToWebview) : undefined;
    case 'patch':
      return isObj(m.patch) && int((m.patch as Fields).from) && int((m.patch as Fields).to) ? (m as unknown as HostToWebview) : undefined;
    case 'response':
      return int(m.id) && typeof m.ok === 'boolean' ? (m as unknown as HostToWebview) : undefined;
    default:
      return undefined;
  }
}

/** The VS Code command each request runs (arguments: the ticket id, or escalation id + answer). */
export const REQUEST_COMMANDS: Readonly<Record<Exclude<DashboardRequestKind, 'saveSnapshot'>, string>> = {
  answerEscalation: 'orchard.answerEscalation',
  openTerminal: 'orchard.openTerminal',
  showDiff: 'orchard.showDiff',
  cancelTicket: 'orchard.cancelTicket',
  retryTicket: 'orchard.retryTicket',
  mergeNow: 'orchard.mergeNow',
  approve: 'orchard.approve',
  openReview: 'orchard.openReview',
  requestChanges: 'orchard.requestChanges',
};
