/**
 * The "Requests" view (id `server3.requests`, in the "Server 3" activity-bar container under Threads): the
 * last requests of the running servers and the slowest of the current minute, live, filterable by route and
 * status class. Selecting a request opens its waterfall (requestPanel.ts); its context menu has "Copy as
 * curl". The request log is streamed only while this view (or the metrics panel) is visible.
 *
 * For UI tests (stable, no numbers in ids):
 *  - two group rows, labels "Recent" and "Slowest", ids `server3.requests.recent` / `server3.requests.slowest`,
 *    descriptions "<n> requests" (and the filter when one is set);
 *  - one row per request: label "<METHOD> <path>" (e.g. "GET /sleep"), description
 *    "<status> · <total> ms · <thread>" (" · w<N>" with several workers, " · <config>" with several servers),
 *    contextValue `server3.request`, id `server3.request:<group>:<server>|<worker>|<thread>|<seq>`;
 *  - every row's aria label is "<label>: <description>", so `.monaco-list-row[aria-label^="GET /sleep:"]`
 *    finds one;
 *  - the view's description (next to its title) says the filter, e.g. `route contains "/api", 5xx`.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { LiveTree } from './liveTree';
import {
  describeFilter,
  entryKey,
  parseFilter,
  type RequestEntry,
  type RequestFilter,
} from './requestsStore';

export type RequestsNode =
  { kind: 'group'; group: 'recent' | 'slowest' } | { kind: 'request'; group: string; entry: RequestEntry };

/** Rows under Recent (the store keeps up to 200 per worker; a view of a hundred is enough to scroll). */
const RECENT_ROWS = 100;

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

export class RequestsTree extends LiveTree<RequestsNode> {
  private filter: RequestFilter | undefined;

  constructor(private readonly ctx: Ctx) {
    super('server3.requests', ctx.requestsSubscription, [
      ctx.onDidChangeServers,
      (listener) => ctx.requests.onDidUpdate(listener), // a method of the store, not a bound event
    ]);
    void vscode.commands.executeCommand('setContext', 'server3.requestsFiltered', false);
    // A row opens its request when it becomes the selection, not only through its tree item's command: the
    // view refreshes whenever requests come in, a refresh drops the previous items' commands, and a click
    // landing on a row rendered before it ran nothing ("Actual command not found" in the extension host's
    // log). The selection is kept by row id across refreshes. The command stays for a click on the row
    // already selected (after the panel was closed); showing the same request twice loads it once.
    this.view.onDidChangeSelection(({ selection }) => {
      const [node] = selection;
      if (selection.length === 1 && node.kind === 'request') {
        void vscode.commands.executeCommand('server3.showRequest', node);
      }
    });
  }

  /** Select (and so open) the row of a request under Recent; false when the view does not list it. */
  async select(key: string): Promise<boolean> {
    const entry = this.entries('recent').find((e) => entryKey(e) === key);
    if (!entry) return false;
    await this.view.reveal({ kind: 'request', group: 'recent', entry }, { select: true, focus: false });
    return true;
  }

  /** "Filter Requests": a route substring and/or a status class ("/api 5xx"); empty clears it. */
  async askFilter(): Promise<RequestFilter | undefined> {
    const text = await vscode.window.showInputBox({
      title: 'Server 3: filter requests',
      prompt: 'A part of the path or route, and/or a status class (2xx, 4xx, 5xx...). Empty shows all.',
      placeHolder: '/users 5xx',
      value: [this.filter?.route, this.filter?.status].filter(Boolean).join(' '),
    });
    if (text === undefined) return this.filter;
    this.setFilter(parseFilter(text));
    return this.filter;
  }

  setFilter(filter: RequestFilter | undefined): void {
    this.filter = filter;
    this.view.description = describeFilter(filter) || undefined;
    void vscode.commands.executeCommand('setContext', 'server3.requestsFiltered', !!filter);
    this.changed.fire(undefined);
  }

  /** What the view lists now (the host tests read it through the extension's exports). */
  rows(): { group: string; label: string; description: string; entry: RequestEntry }[] {
    return (['recent', 'slowest'] as const).flatMap((group) =>
      this.entries(group).map((entry) => {
        const item = this.requestItem({ kind: 'request', group, entry });
        return { group, label: String(item.label), description: String(item.description), entry };
      }),
    );
  }

  private entries(group: 'recent' | 'slowest'): RequestEntry[] {
    const running = new Set(this.ctx.runningIds());
    const all =
      group === 'recent' ? this.ctx.requests.recent(this.filter) : this.ctx.requests.slowest(this.filter);
    return all.filter((e) => running.has(e.serverId)).slice(0, group === 'recent' ? RECENT_ROWS : undefined);
  }

  getChildren(node?: RequestsNode): RequestsNode[] {
    if (!node) {
      if (!this.ctx.runningIds().length) return [];
      return [
        { kind: 'group', group: 'recent' },
        { kind: 'group', group: 'slowest' },
      ];
    }
    if (node.kind !== 'group') return [];
    return this.entries(node.group).map((entry) => ({ kind: 'request', group: node.group, entry }));
  }

  /** Needed by reveal(): a request's parent is its group. */
  getParent(node: RequestsNode): RequestsNode | undefined {
    return node.kind === 'request' ? { kind: 'group', group: node.group as 'recent' | 'slowest' } : undefined;
  }

  protected item(node: RequestsNode): vscode.TreeItem {
    return node.kind === 'group' ? this.groupItem(node.group) : this.requestItem(node);
  }

  private groupItem(group: 'recent' | 'slowest'): vscode.TreeItem {
    const label = group === 'recent' ? 'Recent' : 'Slowest';
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `server3.requests.${group}`;
    const count = this.entries(group).length;
    item.description = [`${count} requests`, describeFilter(this.filter)].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(group === 'recent' ? 'history' : 'watch');
    item.tooltip =
      group === 'recent'
        ? 'The last requests of the running servers, newest first.'
        : 'The slowest requests of the current minute, slowest first.';
    return item;
  }

  private requestItem(node: Extract<RequestsNode, { kind: 'request' }>): vscode.TreeItem {
    const e = node.entry;
    const item = new vscode.TreeItem(`${e.method} ${e.path}`, vscode.TreeItemCollapsibleState.None);
    item.id = `server3.request:${node.group}:${entryKey(e)}`;
    const multiWorker = (this.ctx.get(e.serverId)?.workers ?? 1) > 1;
    const multiServer = this.ctx.runningIds().length > 1;
    item.description = [
      String(e.status),
      `${formatMs(e.totalMs)} ms`,
      e.thread,
      ...(multiWorker ? [`w${e.worker}`] : []),
      ...(multiServer ? [this.ctx.label(e.serverId)] : []),
    ].join(' · ');
    item.contextValue = 'server3.request';
    item.iconPath = new vscode.ThemeIcon(
      e.status >= 500 ? 'error' : e.status >= 400 ? 'warning' : 'pass',
      e.status >= 500
        ? new vscode.ThemeColor('testing.iconFailed')
        : e.status >= 400
          ? new vscode.ThemeColor('problemsWarningIcon.foreground')
          : undefined,
    );
    item.tooltip = [
      `${e.method} ${e.path} -> ${e.status} (route ${e.route})`,
      `total ${formatMs(e.totalMs)} ms: handoff ${formatMs(e.handoffMs)}, read ${formatMs(e.readMs)}, queue ${formatMs(e.queueMs)}, app ${formatMs(e.appMs)}, send ${formatMs(e.sendMs)}${e.lingerMs !== undefined && e.lingerMs !== null ? `, linger ${formatMs(e.lingerMs)}` : ''} ms`,
      `${e.thread}${multiWorker ? ` of worker ${e.worker}` : ''}, connection ${e.connection}, ${e.bytesIn} bytes in, ${e.bytesOut} out`,
    ].join('\n');
    item.command = { command: 'server3.showRequest', title: 'Show Request', arguments: [node] };
    return item;
  }
}
