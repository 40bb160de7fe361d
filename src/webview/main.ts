// The dashboard front end (browser bundle, iife). It speaks only the shared protocol: sends
// `ready`, gets one snapshot, then applies patches in version order (a gap asks for a
// resync). Sections update in place: slot rows, escalation cards and graph nodes are
// keyed, so a typed answer survives updates and the graph is laid out again only when its
// shape changes. State (last view, selection) is kept with setState for hide and reload.
import { applyPatch, type DashboardPatch, type DashboardView, type EscalationView, type ReviewQueueItemView, type SlotView } from '../shared/dashboardView';
import { layoutGraph, type GraphLayout } from '../shared/graphLayout';
import { parseHostMessage, PROTOCOL_VERSION, type DashboardRequest, type HostToWebview, type WebviewToHost } from '../shared/protocol';
import { etaShort } from '../shared/eta';
import { esc, etaSpan, formatElapsed, ganttSvg, graphSvg, nodeSvg, reviewGatesText, SLOT_LABEL, STATUS_LABEL } from '../shared/render';
import { headerTiles, progressSvg } from '../shared/snapshot';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface Saved {
  view: DashboardView;
  version: number;
  selected?: string;
  compact: boolean;
}

const vscode = acquireVsCodeApi();
const post = (m: WebviewToHost) => vscode.postMessage(m);
const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => root.querySelector(sel) as T;

let view: DashboardView | undefined;
let version = -1;
let selected: string | undefined;
let compact = document.body.classList.contains('compact');
/** host clock − local clock, so elapsed times tick in the host's time. */
let clockOffset = 0;
let layout: GraphLayout | undefined;
let shapeKey = '';
const nodeEls = new Map<string, SVGGElement>();
let nextRequestId = 1;
const pending = new Map<number, (ok: boolean, message?: string) => void>();

const hostNow = () => Date.now() + clockOffset;

// ---- skeleton -------------------------------------------------------------------------

function skeleton(): void {
  document.getElementById('app')!.innerHTML = `
<h1><span class="codicon codicon-dashboard" aria-hidden="true"></span> Orchard <span id="batch" class="muted"></span></h1>
<div id="header"></div>
<ul id="alerts" class="alerts" aria-live="polite"></ul>
<div class="layout">
  <div>
    <h2><span class="codicon codicon-hubot" aria-hidden="true"></span> Agents</h2>
    <table id="slots" aria-label="Agent slots"><thead><tr><th>Slot</th><th>Ticket</th><th>Elapsed</th><th>Progress</th><th>State</th><th class="actions"><span class="sr">Actions</span></th></tr></thead><tbody></tbody></table>
    <section class="full-only">
      <h2><span class="codicon codicon-type-hierarchy-sub" aria-hidden="true"></span> Dependency graph <span id="cp" class="count"></span></h2>
      <div class="legend" id="legend"></div>
      <div id="graph" class="scroll" aria-label="Dependency graph"></div>
      <div id="selection" aria-live="polite"></div>
      <h2><span class="codicon codicon-graph-line" aria-hidden="true"></span> Timeline</h2>
      <div id="gantt"></div>
    </section>
  </div>
  <div>
    <h2><span class="codicon codicon-comment-discussion" aria-hidden="true"></span> Escalations <span id="esc-count" class="count"></span></h2>
    <div id="escalations" aria-live="polite"></div>
    <h2><span class="codicon codicon-eye" aria-hidden="true"></span> Review queue <span id="review-count" class="count"></span></h2>
    <div id="review"></div>
    <h2><span class="codicon codicon-git-merge" aria-hidden="true"></span> Merge queue <span id="merge-count" class="count"></span></h2>
    <div id="merge"></div>
    <section class="full-only">
      <h2><span class="codicon codicon-pulse" aria-hidden="true"></span> Metrics</h2>
      <table id="metrics" aria-label="Metrics with targets and alert thresholds"><thead><tr><th>Metric</th><th>Value</th><th>Target</th><th>Alert</th></tr></thead><tbody></tbody></table>
      <p><button id="save-snapshot" type="button"><span class="codicon codicon-save" aria-hidden="true"></span> Save HTML snapshot</button></p>
    </section>
  </div>
</div>
<div id="toast" class="toast" role="status" hidden></div>`;
  $('#legend').innerHTML =
    ['backlog', 'ready', 'running', 'in-review', 'queued-for-merge', 'done', 'escalated', 'blocked', 'failed', 'cancelled']
      .map((s) => `<span class="st-${s}"><span class="sw"></span>${esc(STATUS_LABEL[s] ?? s)}</span>`)
      .join('') + '<span><span class="cp"></span>critical path</span>';
}

// ---- rendering ------------------------------------------------------------------------

function renderHeader(v: DashboardView): void {
  $('#header').innerHTML = headerTiles(v, hostNow());
  $('#batch').textContent =
    `${v.header.batch === 'not-started' ? 'not started' : v.header.batch === 'running' ? 'running' : 'batch ended'}${v.header.mode ? ` · ${v.header.mode}` : ''}${v.header.readOnly ? ' · read-only (another window runs the batch)' : ''}`;
  $('#esc-count').textContent = `${v.header.escalations} waiting`;
  $('#merge-count').textContent = `${v.header.mergeQueue}`;
  $('#review-count').textContent = `${v.header.review ?? 0} waiting`;
}

function actionButton(kind: DashboardRequest['kind'], ticketId: string, icon: string, label: string): string {
  return `<button class="icon" type="button" data-action="${kind}" data-ticket="${esc(ticketId)}" title="${esc(label)}" aria-label="${esc(`${label} ${ticketId}`)}"><span class="codicon codicon-${icon}" aria-hidden="true"></span></button>`;
}

function slotRow(s: SlotView): string {
  const busy = s.state !== 'idle';
  const attn = s.state === 'escalated' || s.state === 'waiting-input';
  const ticket = s.ticketId
    ? `<button class="icon linkish" type="button" data-select="${esc(s.ticketId)}" aria-label="Select ${esc(s.ticketId)}">${esc(s.ticketId)}</button> ${esc(s.title ?? '')}${s.attempt && s.attempt > 1 ? ` <span class="muted">(attempt ${s.attempt})</span>` : ''}`
    : '<span class="muted">—</span>';
  const elapsed =
    s.startedAt !== undefined
      ? `<span data-start="${s.startedAt}">${formatElapsed(hostNow() - s.startedAt)}</span>`
      : s.until !== undefined
        ? `<span class="muted" data-until="${s.until}">in ${formatElapsed(s.until - hostNow())}</span>`
        : '';
  const progress = s.runId
    ? `${progressSvg(s.progress)} <span class="muted">${typeof s.progress === 'number' ? `${Math.round(s.progress)}%` : ''}${s.eta ? ` ${etaSpan(s.eta, hostNow())} left` : ''}</span>`
    : '';
  const icon = attn ? 'warning' : s.state === 'rate-limited' ? 'watch' : s.state === 'running' ? 'sync' : s.state === 'idle' ? 'circle-outline' : 'loading';
  const state = `<span class="pill s-${s.state}"><span class="codicon codicon-${icon}" aria-hidden="true"></span>${esc(SLOT_LABEL[s.state] ?? s.state)}</span>${s.message ? ` <span class="muted msg">${esc(s.message)}</span>` : ''}`;
  const actions =
    s.ticketId && busy && s.runId
      ? actionButton('openTerminal', s.ticketId, 'terminal', 'Open terminal') +
        actionButton('showDiff', s.ticketId, 'diff', 'Show diff') +
        actionButton('cancelTicket', s.ticketId, 'stop-circle', 'Cancel')
      : '';
  return `<tr class="slot${attn ? ' attn' : ''}" data-slot="${s.slot}"><td>Agent ${s.slot}</td><td>${ticket}</td><td class="num">${elapsed}</td><td>${progress}</td><td>${state}</td><td class="actions">${actions}</td></tr>`;
}

function renderSlots(v: DashboardView, changed?: readonly SlotView[]): void {
  const body = $('#slots tbody');
  if (!changed || body.children.length !== v.slots.length) {
    body.innerHTML = v.slots.map(slotRow).join('');
    return;
  }
  for (const s of changed) {
    const tr = body.querySelector(`tr[data-slot="${s.slot}"]`);
    if (tr) tr.outerHTML = slotRow(s);
  }
}

function escalationCard(e: EscalationView): string {
  const opts = e.options
    .map((o, i) => `<button type="button" class="${i === 0 ? 'primary' : ''}" data-answer="${esc(e.id)}" data-option="${esc(o)}">${esc(o)}</button>`)
    .join('');
  return `<div class="esc" data-esc="${esc(e.id)}" role="group" aria-label="${esc(`Escalation from ${e.ticketId}`)}">
<div class="meta"><span class="codicon codicon-warning" aria-hidden="true"></span> <button class="icon" type="button" data-select="${esc(e.ticketId)}">${esc(e.ticketId)}</button> ${esc(e.title)} · ${esc(e.trigger)} · waiting <span data-start="${e.createdAt}">${formatElapsed(hostNow() - e.createdAt)}</span>${e.requiresHuman ? ' · needs a human decision' : ''}</div>
<div class="q">${esc(e.question)}</div>${e.context ? `<div class="ctx">${esc(e.context)}</div>` : ''}
${opts ? `<div class="opts" aria-label="Options">${opts}</div>` : ''}
<form data-guidance="${esc(e.id)}"><label class="sr" for="g-${esc(e.id)}">Guidance for ${esc(e.ticketId)}</label><input id="g-${esc(e.id)}" name="guidance" placeholder="Or write guidance for the agent…" autocomplete="off"><button type="submit" disabled>Send</button></form></div>`;
}

function renderEscalations(v: DashboardView): void {
  const box = $('#escalations');
  if (!v.escalations.length) {
    box.innerHTML = '<p class="empty">No escalations waiting.</p>';
    return;
  }
  box.querySelector('.empty')?.remove();
  const have = new Map<string, Element>();
  for (const el of Array.from(box.querySelectorAll('[data-esc]'))) have.set(el.getAttribute('data-esc')!, el);
  const want = new Set(v.escalations.map((e) => e.id));
  for (const [id, el] of have) if (!want.has(id)) el.remove();
  // Keep existing cards (a half-typed answer stays); add new ones in queue order.
  let prev: Element | null = null;
  for (const e of v.escalations) {
    let el = have.get(e.id);
    if (!el) {
      const tpl = document.createElement('template');
      tpl.innerHTML = escalationCard(e).trim();
      el = tpl.content.firstElementChild!;
    }
    if (prev ? prev.nextElementSibling !== el : box.firstElementChild !== el) {
      if (prev) prev.after(el);
      else box.prepend(el);
    }
    prev = el;
  }
}

function renderMerge(v: DashboardView): void {
  $('#merge').innerHTML = v.mergeQueue.length
    ? `<table aria-label="Merge queue"><tbody>${v.mergeQueue
        .map(
          (m, i) =>
            `<tr><td class="num">${i + 1}</td><td><button class="icon" type="button" data-select="${esc(m.ticketId)}">${esc(m.ticketId)}</button> ${esc(m.title)}</td><td>${esc(STATUS_LABEL[m.status] ?? m.status)}</td><td class="actions">${m.status === 'queued-for-merge' ? actionButton('mergeNow', m.ticketId, 'git-merge', 'Merge now') + actionButton('showDiff', m.ticketId, 'diff', 'Show diff') + actionButton('cancelTicket', m.ticketId, 'close', 'Remove from queue (cancel)') : ''}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="empty">Nothing waiting to merge.</p>';
}

function reviewRow(r: ReviewQueueItemView): string {
  const gatesOk = r.gates.every((g) => g.passed);
  const files = `${r.files} file${r.files === 1 ? '' : 's'}`;
  const detail = [r.summary ?? '', r.rounds ? `review ${r.rounds + 1}` : ''].filter(Boolean).join(' · ');
  return `<tr data-review="${esc(r.ticketId)}"><td><button class="icon" type="button" data-select="${esc(r.ticketId)}">${esc(r.ticketId)}</button> ${esc(r.title)}${detail ? `<div class="muted msg">${esc(detail)}</div>` : ''}</td><td class="num" title="${esc(r.why)}">waiting <span data-start="${r.since}">${formatElapsed(hostNow() - r.since)}</span></td><td class="num" title="${esc(r.fileList.join('\n'))}">${files}</td><td class="${gatesOk ? '' : 'bad'}">${esc(reviewGatesText(r.gates))}</td><td class="actions">${actionButton('approve', r.ticketId, 'check', 'Approve') + actionButton('openReview', r.ticketId, 'diff-multiple', 'Open review') + actionButton('requestChanges', r.ticketId, 'request-changes', 'Request changes')}</td></tr>`;
}

function renderReview(v: DashboardView): void {
  const q = v.reviewQueue ?? [];
  $('#review').innerHTML = q.length
    ? `<table aria-label="Review queue"><thead><tr><th>Ticket</th><th>Since</th><th>Files</th><th>Gates</th><th class="actions"><span class="sr">Actions</span></th></tr></thead><tbody>${q.map(reviewRow).join('')}</tbody></table>`
    : '<p class="empty">Nothing waiting for review.</p>';
}

function renderMetrics(v: DashboardView): void {
  $('#metrics tbody').innerHTML = v.metrics
    .map(
      (m) =>
        `<tr class="metric ${m.status}" data-metric="${esc(m.key)}"><td>${m.status === 'alert' ? '<span class="codicon codicon-error" aria-label="alert"></span> ' : m.status === 'warn' ? '<span class="codicon codicon-warning" aria-label="warning"></span> ' : ''}${esc(m.label)}</td><td class="v num">${esc(m.display)}</td><td class="num muted">${esc(m.target)}</td><td class="num muted">${esc(m.alertAt)}</td></tr>`,
    )
    .join('');
  $('#alerts').innerHTML = v.alerts.map((a) => `<li><span class="codicon codicon-error" aria-hidden="true"></span>${esc(a)}</li>`).join('');
}

function graphShape(v: DashboardView): string {
  return `${v.nodes.map((n) => n.id).join('\u0001')}\u0002${v.edges.map((e) => `${e.from}\u0001${e.to}`).join('\u0001')}`;
}

function renderGraph(v: DashboardView, changedIds?: readonly string[]): void {
  const box = $('#graph');
  $('#cp').textContent = v.nodes.length ? `${v.nodes.length} tickets · critical path ${v.criticalLength} min` : '';
  if (compact) return;
  const key = graphShape(v);
  if (key !== shapeKey || !layout || !changedIds) {
    if (!v.nodes.length) {
      box.innerHTML = '<p class="empty">No tickets yet. Add or import tickets in the Tickets view.</p>';
      shapeKey = key;
      return;
    }
    if (key !== shapeKey || !layout) {
      // Laying out hundreds of tickets takes a moment: paint the rest of the dashboard first.
      shapeKey = key;
      layout = undefined;
      if (v.nodes.length > 150) {
        box.innerHTML = `<p class="empty">Laying out ${v.nodes.length} tickets…</p>`;
        const token = key;
        setTimeout(() => {
          if (shapeKey !== token || !view) return;
          layout = layoutGraph(view.nodes, view.edges);
          drawGraph(view, layout);
        }, 0);
        return;
      }
      layout = layoutGraph(v.nodes, v.edges);
    }
    drawGraph(v, layout);
    return;
  }
  // Same shape: only recolour the nodes that changed (and edge highlights if the path moved).
  const byId = new Map(v.nodes.map((n) => [n.id, n]));
  for (const id of changedIds) {
    const n = byId.get(id);
    const el = nodeEls.get(id);
    const p = layout.nodes.get(id);
    if (!n || !el || !p) continue;
    const tpl = document.createElementNS('http://www.w3.org/2000/svg', 'g');
    tpl.innerHTML = nodeSvg(n, p.width, p.height, id === selected);
    const fresh = tpl.firstElementChild as SVGGElement;
    el.replaceWith(fresh);
    nodeEls.set(id, fresh);
  }
}

function drawGraph(v: DashboardView, l: GraphLayout): void {
  const box = $('#graph');
  box.innerHTML = graphSvg(v, l, selected);
  nodeEls.clear();
  for (const el of Array.from(box.querySelectorAll<SVGGElement>('g.node'))) nodeEls.set(el.dataset.id!, el);
}

function renderGantt(v: DashboardView): void {
  if (compact) return;
  const box = $('#gantt');
  box.innerHTML = ganttSvg(v, hostNow(), Math.max(300, box.clientWidth || 700));
}

function renderSelection(v: DashboardView): void {
  const box = $('#selection');
  const n = selected ? v.nodes.find((x) => x.id === selected) : undefined;
  for (const el of nodeEls.values()) el.classList.toggle('selected', el.dataset.id === selected);
  if (!n) {
    box.innerHTML = '';
    return;
  }
  const deps = v.edges.filter((e) => e.to === n.id).map((e) => e.from);
  const dependents = v.edges.filter((e) => e.from === n.id).map((e) => e.to);
  const runs = v.bars.filter((b) => b.ticketId === n.id).length;
  const canRetry = ['failed', 'blocked', 'escalated', 'cancelled'].includes(n.status);
  const canCancel = !['done', 'failed', 'cancelled'].includes(n.status);
  box.innerHTML = `<div class="banner st-${n.status}" data-selected="${esc(n.id)}"><strong>${esc(n.id)}</strong> ${esc(n.title)} · <span class="pill">${esc(STATUS_LABEL[n.status] ?? n.status)}</span> · ${esc(n.priority)} · ${runs} run(s)${n.critical ? ' · on the critical path' : ''}
${n.cannotFinish ? `<div class="muted">cannot finish as things stand: ${esc(n.cannotFinish)}</div>` : n.eta ? `<div class="muted">predicted finish ${etaSpan(n.eta, hostNow())}${n.eta.end === undefined ? ' after the batch starts' : ''}${n.eta.waitsOnHuman ? ' (assumes you answer now)' : ''}</div>` : ''}${deps.length ? `<div class="muted">depends on ${deps.map(esc).join(', ')}</div>` : ''}${dependents.length ? `<div class="muted">needed by ${dependents.map(esc).join(', ')}</div>` : ''}${n.reason ? `<div class="muted">${esc(n.reason)}</div>` : ''}
<div>${runs ? actionButton('openTerminal', n.id, 'terminal', 'Open terminal') + actionButton('showDiff', n.id, 'diff', 'Show diff') : ''}${canRetry ? actionButton('retryTicket', n.id, 'debug-restart', 'Retry') : ''}${canCancel ? actionButton('cancelTicket', n.id, 'stop-circle', 'Cancel') : ''}</div></div>`;
}

function renderAll(v: DashboardView): void {
  renderHeader(v);
  renderSlots(v);
  renderEscalations(v);
  renderReview(v);
  renderMerge(v);
  renderMetrics(v);
  renderGraph(v);
  renderGantt(v);
  renderSelection(v);
}

function renderPatch(v: DashboardView, p: DashboardPatch): void {
  if (p.header) renderHeader(v);
  if (p.slots) renderSlots(v, p.slots.remove.length || p.slots.order ? undefined : p.slots.upsert);
  if (p.escalations) renderEscalations(v);
  if (p.reviewQueue) renderReview(v);
  if (p.mergeQueue) renderMerge(v);
  if (p.metrics || p.alerts) renderMetrics(v);
  if (p.nodes || p.edges) renderGraph(v, p.edges || p.nodes?.remove.length || p.nodes?.order ? undefined : p.nodes?.upsert.map((n) => n.id));
  if (p.bars || p.predicted || v.bars.some((b) => b.end === undefined)) renderGantt(v);
  if (p.nodes || p.edges || p.bars) renderSelection(v);
}

// ---- state ----------------------------------------------------------------------------

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function save(): void {
  // Debounced: the view of 500 tickets is a few hundred KB; no need to store it per patch.
  if (saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    if (view) vscode.setState({ view, version, selected, compact } satisfies Saved);
  }, 500);
}

function reportRendered(eventAt: number, t0: number): void {
  const renderMs = performance.now() - t0;
  const v = version;
  // After the next frame the DOM is painted: that is when the user can see the change.
  requestAnimationFrame(() =>
    setTimeout(() => {
      const visibleAt = Date.now();
      document.body.dataset.version = String(v);
      document.body.dataset.latencyMs = String(Math.round(visibleAt - eventAt));
      document.body.dataset.renderMs = renderMs.toFixed(2);
      post({ type: 'rendered', version: v, eventAt, visibleAt, renderMs });
    }, 0),
  );
}

function onMessage(raw: unknown): void {
  const m: HostToWebview | undefined = parseHostMessage(raw);
  if (!m) return;
  const t0 = performance.now();
  switch (m.type) {
    case 'snapshot': {
      compact = m.compact;
      document.body.classList.toggle('compact', compact);
      view = m.view;
      version = m.version;
      clockOffset = view.now - Date.now();
      shapeKey = '';
      renderAll(view);
      save();
      reportRendered(m.eventAt, t0);
      break;
    }
    case 'patch': {
      if (!view || m.patch.from !== version) {
        post({ type: 'resync', reason: `patch ${m.patch.from}→${m.patch.to} after version ${version}` });
        return;
      }
      view = applyPatch(view, m.patch);
      version = m.patch.to;
      clockOffset = m.patch.now - Date.now();
      renderPatch(view, m.patch);
      save();
      reportRendered(m.eventAt, t0);
      break;
    }
    case 'response': {
      const done = pending.get(m.id);
      pending.delete(m.id);
      done?.(m.ok, m.message);
      break;
    }
  }
}

function request(r: DashboardRequest, onDone?: (ok: boolean) => void): void {
  const id = nextRequestId++;
  pending.set(id, (ok, message) => {
    if (message) toast(message, !ok);
    onDone?.(ok);
  });
  post({ type: 'request', id, request: r });
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
function toast(text: string, error: boolean): void {
  const el = $('#toast');
  el.textContent = text;
  el.classList.toggle('error', error);
  el.hidden = false;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

function select(id: string | undefined): void {
  selected = id;
  if (view) renderSelection(view);
  if (id) post({ type: 'select', ticketId: id });
  save();
}

// ---- events ---------------------------------------------------------------------------

function disableCard(id: string, disabled: boolean): void {
  const card = document.querySelector(`[data-esc="${CSS.escape(id)}"]`);
  for (const b of Array.from(card?.querySelectorAll('button, input') ?? [])) (b as HTMLButtonElement).disabled = disabled;
  if (!disabled) sendOnlyWithText(card?.querySelector<HTMLInputElement>('form[data-guidance] input'));
}

/** A guidance form's Send button is enabled only while its box holds some text (Send on nothing did nothing). */
function sendOnlyWithText(input: HTMLInputElement | null | undefined): void {
  const send = input?.form?.querySelector<HTMLButtonElement>('button[type="submit"]');
  if (send) send.disabled = input!.disabled || input!.value.trim() === '';
}

document.addEventListener('click', (ev) => {
  const t = ev.target as Element;
  const answer = t.closest<HTMLElement>('[data-answer]');
  if (answer) {
    const escalationId = answer.dataset.answer!;
    disableCard(escalationId, true);
    request({ kind: 'answerEscalation', escalationId, option: answer.dataset.option! }, (ok) => !ok && disableCard(escalationId, false));
    return;
  }
  const action = t.closest<HTMLElement>('[data-action]');
  if (action) {
    const kind = action.dataset.action as Exclude<DashboardRequest['kind'], 'answerEscalation' | 'saveSnapshot'>;
    request({ kind, ticketId: action.dataset.ticket! });
    return;
  }
  const sel = t.closest<Element>('[data-select], g.node');
  if (sel) {
    select(sel.getAttribute('data-select') ?? sel.getAttribute('data-id') ?? undefined);
    return;
  }
  if (t.closest('#save-snapshot')) request({ kind: 'saveSnapshot' });
});

document.addEventListener('keydown', (ev) => {
  const node = (ev.target as Element).closest?.('g.node');
  if (node && (ev.key === 'Enter' || ev.key === ' ')) {
    ev.preventDefault();
    select(node.getAttribute('data-id') ?? undefined);
  }
  if (ev.key === 'Escape' && selected) select(undefined);
});

document.addEventListener('input', (ev) => {
  const t = ev.target as Element;
  if (t instanceof HTMLInputElement && t.closest('form[data-guidance]')) sendOnlyWithText(t);
});

document.addEventListener('submit', (ev) => {
  const form = (ev.target as Element).closest<HTMLFormElement>('form[data-guidance]');
  if (!form) return;
  ev.preventDefault();
  const input = form.querySelector('input')!;
  const guidance = input.value.trim();
  if (!guidance) return;
  const escalationId = form.dataset.guidance!;
  disableCard(escalationId, true);
  request({ kind: 'answerEscalation', escalationId, guidance }, (ok) => !ok && disableCard(escalationId, false));
});

window.addEventListener('message', (ev) => onMessage(ev.data));

// Elapsed times tick locally; the timeline of live runs grows every few seconds.
let ticks = 0;
setInterval(() => {
  const now = hostNow();
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-start]'))) el.textContent = formatElapsed(now - Number(el.dataset.start));
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-until]'))) el.textContent = `in ${formatElapsed(Number(el.dataset.until) - now)}`;
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-eta-end]'))) el.textContent = etaShort({ end: Number(el.dataset.etaEnd) }, now);
  if (++ticks % 5 === 0 && view && (view.bars.some((b) => b.end === undefined) || view.predicted?.bars.length)) renderGantt(view);
}, 1000);

let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  if (resizeTimer) clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => view && renderGantt(view), 150);
});

// ---- start ----------------------------------------------------------------------------

skeleton();
const saved = vscode.getState() as Saved | undefined;
if (saved?.view) {
  // Show the last view at once (hidden and shown again, or reloaded); the host's snapshot follows.
  view = saved.view;
  version = saved.version;
  selected = saved.selected;
  compact = saved.compact;
  document.body.classList.toggle('compact', compact);
  renderAll(view);
}
document.body.dataset.orchard = 'ready';
post(saved?.view ? { type: 'ready', protocol: PROTOCOL_VERSION, lastVersion: saved.version } : { type: 'ready', protocol: PROTOCOL_VERSION });
