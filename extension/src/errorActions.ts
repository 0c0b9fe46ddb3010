/**
 * What the user sees when a start fails or a server crashes: one message per kind of ServerError, each with
 * the action that fixes it (open the file at the line, use a free port, pick an interpreter, trust, logs).
 */
import * as vscode from 'vscode';
import type { ServerError, ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';

/** Ends a message with a full stop, so a suggestion can follow it. */
function sentence(message: string): string {
  return /[.!?]$/.test(message.trim()) ? message.trim() : `${message.trim()}.`;
}

export async function openAt(file: string, line?: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const position = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
  await vscode.window.showTextDocument(doc, {
    selection: new vscode.Range(position, position),
    preview: false,
  });
}

/** Shows `error` for the server `info`; `retryWithPort` starts it again with another port. */
export async function showServerError(
  ctx: Ctx,
  info: ServerInfo,
  error: ServerError,
  retryWithPort: (port: number) => Promise<unknown>,
): Promise<void> {
  const name = ctx.label(info.id);
  if (error.traceback) ctx.output.channel.appendLine(`[${name}] ${error.traceback}`);
  const where = error.file
    ? `${vscode.workspace.asRelativePath(error.file)}${error.line ? `:${error.line}` : ''}`
    : '';
  switch (error.kind) {
    case 'port-in-use': {
      const usePort = error.suggestedPort ? `Use Port ${error.suggestedPort}` : undefined;
      const choice = await vscode.window.showErrorMessage(
        `Server 3 (${name}): ${sentence(error.message)}${usePort ? ` Port ${error.suggestedPort} is free.` : ''}`,
        ...[usePort, 'Open Config'].filter((x): x is string => !!x),
      );
      if (choice === usePort && error.suggestedPort) await retryWithPort(error.suggestedPort);
      else if (choice === 'Open Config') await openAt(vscode.Uri.parse(info.configUri).fsPath);
      return;
    }
    case 'app-import':
    case 'config-invalid': {
      const what = error.kind === 'app-import' ? 'the app could not be imported' : 'the config is invalid';
      const open = where ? `Open ${where}` : undefined;
      const choice = await vscode.window.showErrorMessage(
        `Server 3 (${name}): ${what}: ${error.message}`,
        ...[open, 'Show Logs'].filter((x): x is string => !!x),
      );
      if (choice === open && error.file) await openAt(error.file, error.line);
      else if (choice === 'Show Logs') ctx.output.show();
      return;
    }
    case 'interpreter-missing':
    case 'interpreter-too-old':
      return showInterpreterError(error.message);
    default: {
      const choice = await vscode.window.showErrorMessage(
        `Server 3 (${name}): ${error.message}`,
        'Show Logs',
        ...(error.kind === 'crashed' || error.kind === 'stage-died' ? ['Restart'] : []),
      );
      if (choice === 'Show Logs') ctx.output.show();
      else if (choice === 'Restart') await vscode.commands.executeCommand('server3.restart', info.id);
    }
  }
}

export async function showInterpreterError(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(
    `Server 3: ${message}`,
    'Select Interpreter',
    'Open Settings',
  );
  // Ours lists every interpreter found (free-threaded ones too) and writes server3.pythonPath; the Python
  // extension's own picker is one of the ways to get there (it is used first when it has a selection).
  if (choice === 'Select Interpreter') await vscode.commands.executeCommand('server3.selectInterpreter');
  else if (choice === 'Open Settings')
    await vscode.commands.executeCommand('workbench.action.openSettings', 'server3.pythonPath');
}
