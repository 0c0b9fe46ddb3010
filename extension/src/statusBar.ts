/**
 * One status bar item: the servers' state, address and live requests/s; clicking it shows the actions
 * (server3.showActions). It asks for metrics (slowly) only while a server runs and the window has focus.
 */
import * as vscode from 'vscode';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';
import { shortError } from './errorFixes';
import { formatCores, formatRate } from './metricsMath';

const ICONS: Record<ServerInfo['state'], string> = {
  starting: '$(loading~spin)',
  restarting: '$(loading~spin)',
  stopping: '$(loading~spin)',
  running: '$(server-process)',
  stopped: '$(debug-stop)',
  crashed: '$(error)',
};

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'server3.status',
    vscode.StatusBarAlignment.Left,
    10,
  );
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'Server 3';
    this.item.command = 'server3.showActions';
    this.disposables.push(
      this.item,
      ctx.onDidChangeServers(() => this.render()),
      ctx.metrics.onDidUpdate(() => this.render()),
      vscode.window.onDidChangeWindowState(() => this.updateSubscription()),
    );
    this.render();
  }

  private updateSubscription(): void {
    const wanted = vscode.window.state.focused && this.ctx.runningIds().length > 0;
    this.ctx.subscription.setVisible('statusBar', wanted);
  }

  /** The item's text, as shown (the host tests read it through the extension's exports). */
  get text(): string {
    return this.item.text;
  }

  render(): void {
    this.updateSubscription();
    const servers = this.ctx.list();
    const running = servers.filter((s) => s.state === 'running');
    const rate = running.reduce((sum, s) => sum + (this.ctx.metrics.get(s.id)?.requestsPerSec ?? 0), 0);
    const hasRates = running.some((s) => this.ctx.metrics.get(s.id));
    const rateText = hasRates ? ` · ${formatRate(rate)} req/s` : '';
    let text: string;
    let state: ServerInfo['state'];
    if (servers.length === 0) {
      text = 'Server 3';
      state = 'stopped';
    } else if (servers.length === 1 || running.length === 1) {
      const s = running[0] ?? servers[0];
      state = s.state;
      const where = s.state === 'running' && s.host ? ` ${s.host}:${s.port}` : '';
      text = `Server 3: ${s.state}${where}${s.state === 'running' ? rateText : ''}`;
    } else {
      state = running.length
        ? 'running'
        : servers.some((s) => s.state === 'crashed')
          ? 'crashed'
          : servers[0].state;
      text = `Server 3: ${running.length}/${servers.length} running${rateText}`;
    }
    // A failed start leaves the server stopped with an error: show that it needs attention. A running server
    // with an error kept the old config (a saved change was refused): say so quietly, no notification.
    const failed = servers.length > 0 && !running.length && servers.some((s) => s.error);
    const notRestarted = running.some((s) => s.error);
    if (notRestarted) text += ' · not restarted';
    this.item.text = `${failed || notRestarted ? '$(warning)' : ICONS[state]} ${text}`;
    this.item.backgroundColor =
      state === 'crashed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.tooltip = this.tooltip(servers);
    this.item.accessibilityInformation = { label: text.replace(/\$\([^)]*\)/g, '').trim(), role: 'button' };
    this.item.show();
  }

  private tooltip(servers: ServerInfo[]): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    if (!servers.length) md.appendMarkdown('No server started yet. Click for actions.');
    for (const s of servers) {
      md.appendMarkdown(`**${this.ctx.label(s.id)}**: ${s.state}`);
      if (s.url) md.appendMarkdown(` at ${s.url}`);
      if (s.pid) md.appendMarkdown(` (pid ${s.pid})`);
      const rates = this.ctx.metrics.get(s.id);
      const gil = rates?.gil ?? s.gil;
      if (s.state === 'running' && s.pythonVersion) {
        md.appendMarkdown(`  \nPython ${s.pythonVersion}`);
        if (gil === false) md.appendMarkdown(', GIL off: free-threaded, the threads run in parallel');
        else if (gil) md.appendMarkdown(', GIL on');
        if (rates?.cpuCores !== undefined) md.appendMarkdown(` · CPU ${formatCores(rates.cpuCores)}`);
      }
      if (s.error) {
        md.appendMarkdown('  \n$(warning) ');
        if (s.state === 'running') md.appendText('Not restarted, the server runs the last valid config: ');
        md.appendText(shortError(s.error));
        if (s.state === 'running' && s.error.kind === 'config-invalid')
          md.appendMarkdown('  \nSave a valid config to restart it.');
      }
      md.appendMarkdown('\n\n');
    }
    md.appendMarkdown('Click for Server 3 actions.');
    return md;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
