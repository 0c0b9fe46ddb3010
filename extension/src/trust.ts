/**
 * Workspace Trust: starting the server imports the workspace's Python code, so it never happens in an
 * untrusted workspace. Editing configs (the language server) works everywhere.
 */
import * as vscode from 'vscode';

export async function ensureTrusted(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showWarningMessage(
    'Server 3 will not start: this workspace is not trusted, and starting the server runs its Python code. Trust the workspace first.',
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
