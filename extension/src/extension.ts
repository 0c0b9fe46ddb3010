/**
 * Extension entry: activation only. Placeholder: the extension issue fills this in
 * (ctx, commands, config, bootstrap, statusBar, views, ...).
 */
import * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // intentionally empty until the client lands
}

export function deactivate(): void {}
