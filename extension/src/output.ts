/**
 * The "Server 3" output channel: the servers' own logs (stderr), their access logs (stdout) and the
 * supervisor's notes, each line tagged with the server it came from when several run.
 */
import * as vscode from 'vscode';
import type { LogParams } from '../../server-runtime/src/protocol';

export const OUTPUT_CHANNEL_NAME = 'Server 3';

export class Output implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME);

  /** `label` names the server (its config file, relative to the workspace). */
  appendLog(log: LogParams, label: string, tagged: boolean): void {
    const prefix = (tagged ? `[${label}] ` : '') + (log.stream === 'supervisor' ? '[server3] ' : '');
    for (const line of log.lines) this.channel.appendLine(prefix + line);
  }

  info(message: string): void {
    this.channel.appendLine(`[server3] ${message}`);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
