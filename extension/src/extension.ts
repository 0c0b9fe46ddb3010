/**
 * Extension entry: activation only. Everything else lives in small files: ctx.ts (shared state and the
 * language client), commands.ts (the command table), statusBar.ts, threadsTree.ts, metricsPanel.ts, ...
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { watchServerStates } from './stateNotifier';
import { StatusBar } from './statusBar';
import { ThreadsTree } from './threadsTree';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context);
  context.subscriptions.push(
    ...registerCommands(ctx),
    new StatusBar(ctx),
    new ThreadsTree(ctx),
    watchServerStates(ctx),
  );
  // The language server gives config diagnostics and completion; a failure to start it is shown, and the
  // commands retry it on their next use.
  await ctx.client().catch((e: unknown) => {
    ctx?.output.info(
      `The Server 3 language server did not start: ${e instanceof Error ? e.message : String(e)}`,
    );
  });
}

export async function deactivate(): Promise<void> {
  // Stops the language server, whose supervisor stops every Python server: nothing outlives the window.
  await ctx?.dispose();
  ctx = undefined;
}
