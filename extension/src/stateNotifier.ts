/**
 * Speaks up about what happens to a server while no command is waiting for it: a crash, an auto-restart that
 * failed (the app no longer imports) or was refused (broken config: the old server keeps running). What a
 * command started (start, stop, restart) is reported by that command instead, never twice.
 */
import * as vscode from 'vscode';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';
import { showServerError } from './errorActions';

export function watchServerStates(ctx: Ctx): vscode.Disposable {
  const previous = new Map<string, ServerInfo>();
  return ctx.onDidChangeServers((info) => {
    if (!info) return;
    const before = previous.get(info.id);
    previous.set(info.id, info);
    if (ctx.isBusy(info.id) || !info.error) return;
    const crashed = info.state === 'crashed' && before?.state !== 'crashed';
    const restartFailed = info.state === 'stopped' && before?.state === 'restarting';
    const restartRefused =
      info.state === 'running' && before?.state === 'running' && before.error?.message !== info.error.message;
    if (crashed || restartFailed || restartRefused) {
      ctx.output.info(`${ctx.label(info.id)}: ${info.error.message}`);
      void showServerError(ctx, info, info.error, async (port) =>
        vscode.commands.executeCommand('server3.start', vscode.Uri.parse(info.configUri), port),
      );
    }
  });
}
