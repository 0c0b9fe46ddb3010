/**
 * Speaks up about what happens to a server while no command is waiting for it: a crash, an auto-restart that
 * failed (the app no longer imports). What a command started (start, stop, restart) is reported by that
 * command instead, never twice. An auto-restart refused because the saved config has errors (auto-save while
 * typing does that every second) is not a notification: the old server keeps serving, and the status bar and
 * the code lens say "not restarted" until a valid config is saved.
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
    if (restartRefused && info.error.kind === 'config-invalid') return; // quiet: see above
    if (crashed || restartFailed || restartRefused) {
      ctx.output.info(`${ctx.label(info.id)}: ${info.error.message}`);
      void showServerError(ctx, info, info.error);
    }
  });
}
