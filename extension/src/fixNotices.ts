/**
 * "Fix it and save": the notification for a failure the user fixes by editing a file (a config error, an app
 * that does not import) while auto-restart is on, so saving the fix starts the server again. It goes away by
 * itself when its cause is fixed: when that server runs again, is stopped, or fails differently.
 *
 * Why a progress notification: VS Code's API cannot close a message notification (showErrorMessage), and an
 * error toast with buttons stays until clicked; a withProgress notification closes when its promise settles.
 * Its fixes are links in the message (`[Open hello/wsgi.py:3](command:...)`), its Cancel button dismisses it.
 */
import * as vscode from 'vscode';
import type { ServerError, ServerInfo } from '../../server-runtime/src/protocol';
import type { Ctx } from './ctx';
import { commandLink, fixesFor, shortError } from './errorFixes';

interface OpenNotice {
  message: string;
  close: () => void;
}

export class FixNotices implements vscode.Disposable {
  private readonly open = new Map<string, OpenNotice>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.subscription = ctx.onDidChangeServers((info) => {
      if (!info) return;
      const notice = this.open.get(info.id);
      // Closed once the server runs (or is stopped) without an error, or when another error replaces this one.
      if (notice && (!info.error || info.error.message !== notice.message)) this.close(info.id);
    });
  }

  /** Whether a notice about exactly this error of this server is showing (no second one is needed). */
  isShowing(id: string, error: ServerError): boolean {
    return this.open.get(id)?.message === error.message;
  }

  /** The ids of the servers with a notice showing (for tests, through the extension's exports). */
  showing(): string[] {
    return [...this.open.keys()];
  }

  show(info: ServerInfo, error: ServerError, what: string): void {
    this.close(info.id);
    const links = fixesFor(info, error).map(commandLink).join(' · ');
    const text = `${what}: ${shortError(error)}. Fix it and save: the server starts again by itself. ${links}`;
    let close = () => {};
    const done = new Promise<void>((resolve) => (close = resolve));
    this.open.set(info.id, { message: error.message, close });
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Server 3 (${this.ctx.label(info.id)})`,
        cancellable: true,
      },
      async (progress, token) => {
        progress.report({ message: text });
        token.onCancellationRequested(() => this.close(info.id));
        await done;
      },
    );
  }

  private close(id: string): void {
    this.open.get(id)?.close();
    this.open.delete(id);
  }

  dispose(): void {
    this.subscription.dispose();
    for (const id of [...this.open.keys()]) this.close(id);
  }
}
