/**
 * What the user sees when a start fails or a server crashes: one short message (errorFixes.ts) with the
 * actions that fix it (open the file at the line, use a free port or write it into the config, pick an
 * interpreter, restart, logs). A failure fixed by editing a file, with auto-restart on, is a notice that goes
 * away by itself once the fix is saved (fixNotices.ts); the others are error notifications with buttons.
 */
import * as vscode from 'vscode';
import type { ServerError, ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';
import { FIXED_BY_EDITING, fixesFor, shortError } from './errorFixes';

/** Ends a message with a full stop, so a suggestion can follow it. */
function sentence(message: string): string {
  return /[.!?…]$/.test(message.trim()) ? message.trim() : `${message.trim()}.`;
}

export async function openAt(file: string, line?: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const position = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
  await vscode.window.showTextDocument(doc, {
    selection: new vscode.Range(position, position),
    preview: false,
  });
}

const WHAT: Partial<Record<ServerError['kind'], string>> = {
  'config-invalid': 'the config is invalid',
  'app-import': 'the app could not be imported',
  'port-in-use': 'the port is taken',
};

/** Shows `error` for the server `info`. */
export async function showServerError(ctx: Ctx, info: ServerInfo, error: ServerError): Promise<void> {
  const name = ctx.label(info.id);
  if (error.traceback) ctx.output.channel.appendLine(`[${name}] ${error.traceback}`);
  if (error.kind === 'interpreter-missing' || error.kind === 'interpreter-too-old')
    return showInterpreterError(error.message);
  const what = WHAT[error.kind];
  const autoRestart = ctx.settings.autoRestart(vscode.Uri.parse(info.configUri));
  if (what && FIXED_BY_EDITING.has(error.kind) && autoRestart && info.state !== 'running') {
    if (!ctx.notices.isShowing(info.id, error)) ctx.notices.show(info, error, what);
    return;
  }
  const fixes = fixesFor(info, error);
  const message = `Server 3 (${name}): ${what ? `${what}: ` : ''}${sentence(shortError(error))}`;
  const choice = await vscode.window.showErrorMessage(message, ...fixes.map((f) => f.title));
  const fix = fixes.find((f) => f.title === choice);
  if (fix) await vscode.commands.executeCommand(fix.command, ...(fix.arguments ?? []));
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
