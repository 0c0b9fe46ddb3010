/** Typed access to the extension's settings (package.json `contributes.configuration`). */
import * as vscode from 'vscode';

export class Settings {
  private get section() {
    return vscode.workspace.getConfiguration('server3');
  }

  pythonPath(scope?: vscode.Uri): string {
    return vscode.workspace.getConfiguration('server3', scope).get<string>('pythonPath', '').trim();
  }

  autoRestart(scope?: vscode.Uri): boolean {
    return vscode.workspace.getConfiguration('server3', scope).get<boolean>('autoRestart', true);
  }

  autoRestartDelayMs(scope?: vscode.Uri): number {
    return Math.max(
      50,
      vscode.workspace.getConfiguration('server3', scope).get<number>('autoRestartDelay', 300),
    );
  }

  get metricsIntervalMs(): number {
    return Math.min(5000, Math.max(100, this.section.get<number>('metricsInterval', 500)));
  }

  get stopTimeoutMs(): number {
    return Math.max(100, this.section.get<number>('stopTimeout', 5000));
  }
}
