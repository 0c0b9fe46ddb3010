/**
 * Context keys for package.json's `when` clauses, kept in step with the servers the supervisor reports:
 *  - `server3.serverRunning`: some server is running: Stop, Restart and Open in Browser show in the command
 *    palette, the Threads view's title and the menus only then;
 *  - `server3.activeConfigs`: the paths (Uri.path) of the configs whose server is starting, running,
 *    restarting or stopping: a config editor's title shows Stop for those and Start for the others
 *    (`resourcePath in server3.activeConfigs`). Paths, not URIs: in a remote window (WSL, code-server) the
 *    workbench sees vscode-remote:// URIs where this extension sees file:// ones; the path is the same.
 */
import * as vscode from 'vscode';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';

const ACTIVE_STATES: ReadonlySet<ServerInfo['state']> = new Set([
  'starting',
  'running',
  'restarting',
  'stopping',
]);

export interface ContextKeyValues {
  'server3.serverRunning': boolean;
  'server3.activeConfigs': string[];
}

export class ContextKeys implements vscode.Disposable {
  private current: ContextKeyValues | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.subscription = ctx.onDidChangeServers(() => this.update());
    this.update();
  }

  /** What was last set (the host tests read it through the extension's exports). */
  get values(): ContextKeyValues | undefined {
    return this.current;
  }

  private update(): void {
    const servers = this.ctx.list();
    const next: ContextKeyValues = {
      'server3.serverRunning': servers.some((s) => s.state === 'running'),
      'server3.activeConfigs': servers
        .filter((s) => ACTIVE_STATES.has(s.state))
        .map((s) => vscode.Uri.parse(s.configUri).path)
        .sort(),
    };
    for (const key of Object.keys(next) as (keyof ContextKeyValues)[]) {
      if (JSON.stringify(next[key]) !== JSON.stringify(this.current?.[key]))
        void vscode.commands.executeCommand('setContext', key, next[key]);
    }
    this.current = next;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
