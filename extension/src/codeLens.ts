/**
 * The code lens at the top of every config file, reading its server's live state, so a user with the config
 * open starts, watches and stops the server without the command palette:
 *  - stopped (or never started): `Start`;
 *  - starting / restarting / stopping: what it is doing (Show Logs);
 *  - running: `Stop · Restart · Open http://HOST:PORT · N req/s` (the rate opens the live metrics), and
 *    `Not restarted: ...` when a saved change was refused (the old server keeps serving);
 *  - failed (a start or restart that did not come up, a crash): the failure and its fixes, then `Start`.
 *
 * For UI tests: every lens sits on line 0; titles start with a codicon (`$(play) Start`, `$(debug-stop) Stop`,
 * `$(globe) Open http://127.0.0.1:PORT`, `$(pulse) N req/s`, `$(error) ...`). It refreshes on every state
 * change and at most once a second for the rate, which it gets from the metrics stream (consumer 'codeLens',
 * subscribed only while a config editor with a running server is visible).
 */
import * as vscode from 'vscode';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import { CONFIG_LANGUAGE_ID } from './client';
import type { Ctx } from './ctx';
import { type ErrorFix, fixesFor, shortError } from './errorFixes';
import { formatRate } from './metricsMath';

const RATE_REFRESH_MS = 1000;
const BUSY: Partial<Record<ServerInfo['state'], string>> = {
  starting: 'Starting…',
  restarting: 'Restarting…',
  stopping: 'Stopping…',
};

/** The lenses' commands and titles for one server state. */
export function lensCommands(
  configUri: string,
  info: ServerInfo | undefined,
  requestsPerSec: number | undefined,
): vscode.Command[] {
  const start: vscode.Command = {
    title: '$(play) Start',
    command: 'server3.start',
    arguments: [configUri],
    tooltip: 'Start the server of this config (Server 3)',
  };
  if (!info || (info.state === 'stopped' && !info.error)) return [start];
  const busy = BUSY[info.state];
  if (busy)
    return [{ title: `$(loading~spin) ${busy}`, command: 'server3.showLogs', tooltip: 'Show the logs' }];
  const fix = (f: ErrorFix): vscode.Command => ({
    title: f.title,
    command: f.command,
    arguments: f.arguments,
  });
  if (info.state === 'running') {
    const lenses: vscode.Command[] = [
      {
        title: '$(debug-stop) Stop',
        command: 'server3.stop',
        arguments: [info.id],
        tooltip: 'Stop the server',
      },
      { title: '$(debug-restart) Restart', command: 'server3.restart', arguments: [info.id] },
    ];
    if (info.url)
      lenses.push({
        title: `$(globe) Open ${info.url}`,
        command: 'server3.openBrowser',
        arguments: [info.id],
        tooltip: 'Open the app in the browser',
      });
    lenses.push({
      title: `$(pulse) ${requestsPerSec === undefined ? '–' : formatRate(requestsPerSec)} req/s`,
      command: 'server3.showMetrics',
      arguments: [info.id],
      tooltip: 'Show the live metrics of every thread',
    });
    if (info.error) {
      const [first] = fixesFor(info, info.error);
      lenses.push({ ...fix(first), title: `$(warning) Not restarted: ${shortError(info.error, 90)}` });
    }
    return lenses;
  }
  // Stopped with an error (a start or restart that failed) or crashed: the failure, its fixes, Start again.
  const error = info.error ?? { kind: 'other' as const, message: 'The server stopped.' };
  const failure: vscode.Command = {
    title: `$(error) ${shortError(error, 90)}`,
    command: 'server3.showLogs',
    tooltip: shortError(error, 1000),
  };
  const fixes = fixesFor(info, error).filter((f) => f.command !== 'server3.showLogs');
  return [failure, ...fixes.map(fix), start];
}

export class ServerCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private rateTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      this.changed,
      vscode.languages.registerCodeLensProvider({ language: CONFIG_LANGUAGE_ID, scheme: 'file' }, this),
      ctx.onDidChangeServers(() => {
        this.changed.fire();
        this.updateSubscription();
      }),
      ctx.metrics.onDidUpdate(() => this.refreshRate()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.updateSubscription()),
    );
    this.updateSubscription();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const id = document.uri.toString();
    const info = this.ctx.get(id);
    const rate = this.ctx.metrics.get(id)?.requestsPerSec;
    const top = new vscode.Range(0, 0, 0, 0);
    return lensCommands(id, info, rate).map((command) => new vscode.CodeLens(top, command));
  }

  /** The rate changes with every snapshot: redraw at most once a second. */
  private refreshRate(): void {
    if (this.rateTimer) return;
    this.rateTimer = setTimeout(() => {
      this.rateTimer = undefined;
      this.changed.fire();
    }, RATE_REFRESH_MS);
  }

  /** Metrics are streamed for the lens only while a config editor whose server runs is visible. */
  private updateSubscription(): void {
    const running = new Set(this.ctx.runningIds());
    const wanted = vscode.window.visibleTextEditors.some((e) => running.has(e.document.uri.toString()));
    this.ctx.subscription.setVisible('codeLens', wanted);
  }

  dispose(): void {
    clearTimeout(this.rateTimer);
    for (const d of this.disposables) d.dispose();
  }
}
