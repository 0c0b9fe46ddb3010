/**
 * The "Threads" view (id `server3.threads`, in the "Server 3" activity-bar container): each server, then its
 * totals and each of its threads with live numbers.
 *
 * For UI tests (stable, no numbers in ids or labels):
 *  - server rows: label = the config path relative to the workspace (e.g. ".config_server"), tree item id
 *    `server3.server:<config uri>`, description starts with the state ("running · 127.0.0.1:8000 · 3.0 req/s");
 *    contextValue `server3.server.<state>`.
 *  - a "Totals" row first under each server (id `server3.totals:<config uri>`), then one row per thread,
 *    label = the runtime's thread name ("accept", "read", "app-1", "close"; "w1 app-1" with several workers),
 *    id `server3.thread:<config uri>:<worker>:<name>`, description: the schema's `views.thread` columns after
 *    the name (THREAD_COLUMNS), e.g. "busy|waiting · N/s · B% busy · queue D · cpu C s";
 *  - a running server's description ends with "GIL on" or "GIL off" (from its latest snapshot, else the ready
 *    message); the Totals row ends with "CPU <x.xx> cores" (process CPU seconds per wall second).
 *  - before the first snapshot (or with METRICS=off) the thread rows carry the names from the ready message and
 *    the description "no metrics yet ..." (no Totals row);
 *  - a thread whose death ended the server (error kind stage-died) gets a row first, label = its name, id
 *    `server3.died:<config uri>:<name>`, description "died: <cause> · restarted at HH:MM:SS" (or "· the server
 *    exited"), the traceback as its tooltip; it stays until the user starts, restarts or stops the server;
 *  - every row's aria label is "<label>: <description>", so `.monaco-list-row[aria-label^="accept:"]` finds it.
 * Metrics are requested only while this view is visible.
 */
import * as vscode from 'vscode';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';
import { LiveTree } from './liveTree';
import { THREAD_COLUMNS } from '../../server-runtime/src/contract.generated';
import { formatCores, formatRate, gilText, phraseText, type ThreadRates } from './metricsMath';

type Node =
  | { kind: 'server'; serverId: string }
  | { kind: 'totals'; serverId: string }
  | { kind: 'thread'; serverId: string; worker: number; multiWorker: boolean; thread: ThreadRates }
  | { kind: 'pending'; serverId: string; name: string }
  /** The thread whose death ended the server (a crash with kind stage-died), with its traceback. */
  | { kind: 'dead'; serverId: string; name: string };

const STATE_ICONS: Record<ServerInfo['state'], [string, string?]> = {
  running: ['vm-running', 'testing.iconPassed'],
  starting: ['loading~spin'],
  restarting: ['loading~spin'],
  stopping: ['loading~spin'],
  stopped: ['vm-outline'],
  crashed: ['error', 'testing.iconFailed'],
};

export class ThreadsTree extends LiveTree<Node> {
  constructor(private readonly ctx: Ctx) {
    super('server3.threads', ctx.subscription, [ctx.onDidChangeServers, ctx.metrics.onDidUpdate], {
      showCollapseAll: true,
    });
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.ctx.list().map((s) => ({ kind: 'server', serverId: s.id }));
    if (node.kind !== 'server') return [];
    const rates = this.ctx.metrics.get(node.serverId);
    const info = this.ctx.get(node.serverId);
    // A thread that died (the server exited; it was restarted, or not) shows first, with its traceback.
    const died: Node[] =
      info?.error?.kind === 'stage-died' && info.error.thread
        ? [{ kind: 'dead', serverId: node.serverId, name: info.error.thread }]
        : [];
    if (info?.state !== 'running') return died;
    // Before the first snapshot (or with METRICS=off) the thread names from the ready message still show.
    if (!rates)
      return [
        ...died,
        ...(info.threads ?? []).map((name) => ({ kind: 'pending' as const, serverId: node.serverId, name })),
      ];
    const multiWorker = rates.workers.length > 1;
    return [
      ...died,
      { kind: 'totals', serverId: node.serverId },
      ...rates.workers.flatMap((w) =>
        w.threads.map((thread) => ({
          kind: 'thread' as const,
          serverId: node.serverId,
          worker: w.worker,
          multiWorker,
          thread,
        })),
      ),
    ];
  }

  protected item(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'dead':
        return this.deadItem(node);
      case 'pending':
        return this.pendingItem(node);
      case 'server':
        return this.serverItem(node.serverId);
      case 'totals':
        return this.totalsItem(node.serverId);
      case 'thread':
        return this.threadItem(node);
    }
  }

  private serverItem(id: string): vscode.TreeItem {
    const info = this.ctx.get(id);
    const item = new vscode.TreeItem(this.ctx.label(id), vscode.TreeItemCollapsibleState.Expanded);
    item.id = `server3.server:${id}`;
    if (!info) return item;
    const rates = this.ctx.metrics.get(id);
    const parts: string[] = [info.state];
    if (info.state === 'running' && info.host) parts.push(`${info.host}:${info.port}`);
    if (info.state === 'running' && rates) parts.push(`${formatRate(rates.requestsPerSec)} req/s`);
    const gil = rates?.gil ?? info.gil;
    if (info.state === 'running' && gil !== undefined) parts.push(gilText(gil));
    const problems = info.state === 'running' ? (rates?.problems ?? []) : [];
    parts.push(...problems);
    if (info.error) parts.push(info.error.message);
    item.description = parts.join(' · ');
    const [icon, color] = problems.length
      ? ['warning', 'problemsWarningIcon.foreground']
      : STATE_ICONS[info.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = `server3.server.${info.state}`;
    item.tooltip = [
      `${this.ctx.label(id)}: ${info.state}`,
      info.url && `URL: ${info.url}`,
      info.pid && `pid ${info.pid}`,
      info.python &&
        `Python ${info.pythonVersion ?? ''}: ${info.python}${gil === false ? ' (free-threaded: the GIL is off, threads run in parallel)' : gil ? ' (GIL on)' : ''}`,
      rates?.cpuCores !== undefined &&
        `CPU: ${formatCores(rates.cpuCores)} busy (CPU seconds per second; above 1 the threads ran in parallel)`,
      ...problems.map((p) => `Health: ${p}`),
      info.error && `Problem: ${info.error.message}`,
    ]
      .filter(Boolean)
      .join('\n');
    return item;
  }

  private deadItem(node: Extract<Node, { kind: 'dead' }>): vscode.TreeItem {
    const info = this.ctx.get(node.serverId);
    const error = info?.error;
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
    item.id = `server3.died:${node.serverId}:${node.name}`;
    const cause = /thread died \((.*?)\)/.exec(error?.message ?? '')?.[1] ?? 'see the logs';
    const after =
      info?.state === 'running' ? /restarted at [\d:]+/.exec(error?.message ?? '')?.[0] : undefined;
    item.description = `died: ${cause} · ${after ?? 'the server exited'}`;
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    item.tooltip = new vscode.MarkdownString().appendCodeblock(
      error?.traceback ?? error?.message ?? '',
      'text',
    );
    item.command = { command: 'server3.showLogs', title: 'Show Logs' };
    return item;
  }

  private pendingItem(node: Extract<Node, { kind: 'pending' }>): vscode.TreeItem {
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
    item.id = `server3.thread:${node.serverId}:0:${node.name}`;
    item.description = 'no metrics yet (METRICS=off in the config turns them off)';
    item.iconPath = new vscode.ThemeIcon('circle-outline');
    return item;
  }

  private totalsItem(id: string): vscode.TreeItem {
    const rates = this.ctx.metrics.get(id)!;
    const item = new vscode.TreeItem('Totals', vscode.TreeItemCollapsibleState.None);
    item.id = `server3.totals:${id}`;
    const ms = (v?: number) => (v === undefined ? '–' : `${v}ms`);
    item.description = [
      `${formatRate(rates.requestsPerSec)} req/s`,
      `p50 ${ms(rates.p50Ms)}`,
      `p99 ${ms(rates.p99Ms)}`,
      `${rates.connectionsOpen} open`,
      `${rates.requests} requests`,
      ...(rates.cpuCores !== undefined ? [`CPU ${formatCores(rates.cpuCores)}`] : []),
    ].join(' · ');
    item.iconPath = new vscode.ThemeIcon('dashboard');
    item.tooltip =
      "Totals of the server; latency percentiles are over the last interval. CPU: the process's CPU seconds per second (above 1: its threads ran on several cores at once).";
    return item;
  }

  private threadItem(node: Extract<Node, { kind: 'thread' }>): vscode.TreeItem {
    const t = node.thread;
    const label = node.multiWorker ? `w${node.worker} ${t.name}` : t.name;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `server3.thread:${node.serverId}:${node.worker}:${t.name}`;
    item.description = THREAD_COLUMNS.flatMap((column, i) =>
      column.field === 'name' ? [] : [phraseText(column, t.shown[i])],
    ).join(' · ');
    item.iconPath =
      t.state === 'dead'
        ? new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'))
        : new vscode.ThemeIcon(
            t.state === 'busy' ? 'pulse' : t.state === 'stopped' ? 'circle-slash' : 'circle-outline',
          );
    item.tooltip = `${label} (${t.role}): ${t.items} items, ${t.errors} errors, queue depth ${t.queueDepth}, CPU ${t.cpuSeconds.toFixed(3)} s`;
    return item;
  }
}
