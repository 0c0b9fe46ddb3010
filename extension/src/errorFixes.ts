/**
 * A server's failure as the user reads it: one short line (paths relative to the workspace, no `error:`
 * labels, no absolute path repeated) and the fixes that apply, as commands. The code lens, the notifications
 * and the status bar all show failures through here, so they say the same thing.
 */
import * as vscode from 'vscode';
import type { ServerError, ServerInfo } from '../../server-runtime/src/protocol';

export interface ErrorFix {
  title: string;
  command: string;
  arguments?: unknown[];
}

/** Failures the user fixes by editing a file: with auto-restart on, saving the fix starts the server. */
export const FIXED_BY_EDITING: ReadonlySet<ServerError['kind']> = new Set(['config-invalid', 'app-import']);

/** The workspace-relative form of every absolute path under a workspace folder in `text`. */
export function relativePaths(text: string): string {
  let out = text;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const root = folder.uri.fsPath.replace(/\/+$/, '');
    // A path is the root followed by `/`; the root alone (a cwd in a message) becomes "the workspace folder".
    out = out.split(root + '/').join('');
    out = out.replace(new RegExp(`${escapeRegExp(root)}(?=[\\s)';:,]|$)`, 'g'), 'the workspace folder');
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One line for a failure: relative paths, `file:3: error: msg` as `file:3: msg`, at most `max` characters. */
export function shortError(error: ServerError, max = 300): string {
  const text = relativePaths(error.message)
    .replace(/^the config has an error: /, '')
    .replace(/:(\d+): error: /g, ':$1: ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `file:line` of a failure, relative to the workspace, when it has a place. */
export function placeOf(error: ServerError): string | undefined {
  if (!error.file) return undefined;
  return `${vscode.workspace.asRelativePath(error.file)}${error.line ? `:${error.line}` : ''}`;
}

/** The fixes of a failure, most useful first. */
export function fixesFor(info: ServerInfo, error: ServerError): ErrorFix[] {
  const fixes: ErrorFix[] = [];
  const place = placeOf(error);
  switch (error.kind) {
    case 'port-in-use':
      if (error.suggestedPort) {
        const port = error.suggestedPort;
        fixes.push({
          title: `Use Port ${port}`,
          command: 'server3.start',
          arguments: [info.configUri, port],
        });
        fixes.push({
          title: `Set PORT=${port} in the Config`,
          command: 'server3.setPort',
          arguments: [info.configUri, port],
        });
      }
      break;
    case 'config-invalid':
    case 'app-import':
      if (place)
        fixes.push({
          title: `Open ${place}`,
          command: 'server3.openLocation',
          arguments: [error.file, error.line],
        });
      break;
    case 'interpreter-missing':
    case 'interpreter-too-old':
      fixes.push({ title: 'Select Interpreter', command: 'server3.selectInterpreter' });
      break;
    case 'crashed':
    case 'stage-died':
      fixes.push({ title: 'Restart', command: 'server3.restart', arguments: [info.id] });
      break;
  }
  fixes.push({ title: 'Show Logs', command: 'server3.showLogs' });
  return fixes;
}

/** A `command:` link for markdown (notifications, tooltips). */
export function commandLink(fix: ErrorFix): string {
  const args = fix.arguments ? `?${encodeURIComponent(JSON.stringify(fix.arguments))}` : '';
  return `[${fix.title}](command:${fix.command}${args})`;
}
