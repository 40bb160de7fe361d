// "Orchard: Filter Tickets…" and "Orchard: Clear Ticket Filter": the Tickets view's filter
// (status, label, text) chosen through a QuickPick and an InputBox, shown above the tree
// (the view's message) and remembered per workspace. The matching itself is ticketFilter.ts.
import * as vscode from 'vscode';
import { TICKET_STATUSES, type TicketStatus } from '../core/model';
import type { OrchardController } from './controller';
import { Disposable } from './lifecycle';
import { filterMessage, labelsOf, matchesFilter, normalizeFilter, type TicketFilter } from './ticketFilter';
import { STATUS_LABEL } from './treeNodes/nodes';

const MEMORY_KEY = 'orchard.ticketFilter';

export class TicketFilterControl extends Disposable {
  private value: TicketFilter | undefined;
  private readonly changed = this._register(new vscode.EventEmitter<TicketFilter | undefined>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly controller: OrchardController,
    private readonly memory?: vscode.Memento,
  ) {
    super();
    this.value = normalizeFilter(memory?.get<TicketFilter>(MEMORY_KEY));
    this._register(vscode.commands.registerCommand('orchard.filterTickets', (f?: TicketFilter) => (f ? this.set(f) : this.ask())));
    this._register(vscode.commands.registerCommand('orchard.clearTicketFilter', () => this.set(undefined)));
    void vscode.commands.executeCommand('setContext', 'orchard.ticketFilterActive', !!this.value);
  }

  get current(): TicketFilter | undefined {
    return this.value;
  }

  /** Sets (or, with undefined or an empty filter, clears) the filter; returns it. */
  set(f: TicketFilter | undefined): TicketFilter | undefined {
    this.value = normalizeFilter(f);
    void this.memory?.update(MEMORY_KEY, this.value);
    void vscode.commands.executeCommand('setContext', 'orchard.ticketFilterActive', !!this.value);
    this.changed.fire(this.value);
    return this.value;
  }

  /** The line above the tree ("Filtered (…): 5 of 20 tickets"), or undefined without a filter. */
  message(): string | undefined {
    const s = this.controller.state();
    if (!this.value || !s) return undefined;
    const all = Object.values(s.tickets);
    return filterMessage(this.value, all.filter((t) => matchesFilter(t, this.value)).length, all.length);
  }

  /** The palette form: pick what to filter by, then its values; each choice applies at once. */
  private async ask(): Promise<TicketFilter | undefined> {
    const f: TicketFilter = { ...this.value };
    const tickets = Object.values(this.controller.state()?.tickets ?? {});
    type Choice = vscode.QuickPickItem & { id: 'status' | 'label' | 'text' | 'clear' };
    const choices: Choice[] = [
      { id: 'status', label: '$(list-filter) Status…', description: f.statuses?.join(', ') },
      { id: 'label', label: '$(tag) Label…', description: f.labels?.join(', ') },
      { id: 'text', label: '$(search) Text…', description: f.text },
    ];
    if (this.value) choices.push({ id: 'clear', label: '$(clear-all) Clear Filter' });
    const pick = await vscode.window.showQuickPick(choices, { title: 'Filter Tickets', placeHolder: 'Filter the Tickets view by status, label or text' });
    if (!pick) return this.value;
    if (pick.id === 'clear') return this.set(undefined);
    if (pick.id === 'status') {
      const present = new Set(tickets.map((t) => t.status));
      const items = TICKET_STATUSES.map((st) => ({
        label: STATUS_LABEL[st] ?? st,
        description: present.has(st) ? `${tickets.filter((t) => t.status === st).length}` : 'none now',
        status: st as TicketStatus,
        picked: f.statuses?.includes(st) ?? false,
      }));
      const picked = await vscode.window.showQuickPick(items, {
        title: 'Filter Tickets: status',
        placeHolder: 'Show tickets in any of these states (none: all)',
        canPickMany: true,
      });
      if (!picked) return this.value;
      f.statuses = picked.map((p) => p.status);
    } else if (pick.id === 'label') {
      const labels = labelsOf(tickets);
      if (labels.length === 0) {
        void vscode.window.showInformationMessage('Orchard: no ticket has a label.');
        return this.value;
      }
      const picked = await vscode.window.showQuickPick(
        labels.map((l) => ({ label: l, picked: f.labels?.includes(l) ?? false })),
        { title: 'Filter Tickets: label', placeHolder: 'Show tickets with any of these labels (none: all)', canPickMany: true },
      );
      if (!picked) return this.value;
      f.labels = picked.map((p) => p.label);
    } else {
      const text = await vscode.window.showInputBox({
        title: 'Filter Tickets: text',
        prompt: 'Words in the id, title, prompt, labels or files (empty: no text filter)',
        value: f.text,
      });
      if (text === undefined) return this.value;
      f.text = text;
    }
    return this.set(f);
  }
}
