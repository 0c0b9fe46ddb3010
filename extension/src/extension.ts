/**
 * Extension entry: activation only. Everything else lives in small files: ctx.ts (shared state and the
 * language client), commands.ts (the command table), codeLens.ts, contextKeys.ts, statusBar.ts,
 * threadsTree.ts, metricsPanel.ts, requestsTree.ts, requestPanel.ts, debugger.ts, ...
 */
import * as vscode from 'vscode';
import { ServerCodeLens } from './codeLens';
import { registerCommands } from './commands';
import { ContextKeys, type ContextKeyValues } from './contextKeys';
import { Ctx } from './ctx';
import { watchServerStates } from './stateNotifier';
import { StatusBar } from './statusBar';
import { ThreadsTree } from './threadsTree';
import { RequestsTree } from './requestsTree';
import { watchDebuggedRestarts } from './debugger';

let ctx: Ctx | undefined;

/** What activate() returns: read-only views of state that only the workbench shows, for the host tests. */
export interface Server3Api {
  contextKeys(): ContextKeyValues | undefined;
  /** Servers with a "fix it and save" notice showing. */
  fixNotices(): string[];
  statusBarText(): string;
  /** Select a request's row under Recent, as a click does (key: requestsStore's entryKey); false if not listed. */
  selectRequest(key: string): Promise<boolean>;
}

export async function activate(context: vscode.ExtensionContext): Promise<Server3Api> {
  const shared = (ctx = new Ctx(context));
  const contextKeys = new ContextKeys(shared);
  const statusBar = new StatusBar(shared);
  const requestsTree = new RequestsTree(shared);
  context.subscriptions.push(
    ...registerCommands(shared, requestsTree),
    contextKeys,
    new ServerCodeLens(shared),
    statusBar,
    new ThreadsTree(shared),
    requestsTree,
    watchDebuggedRestarts(shared),
    watchServerStates(shared),
  );
  // The language server gives config diagnostics and completion; a failure to start it is shown, and the
  // commands retry it on their next use.
  await shared.client().catch((e: unknown) => {
    shared.output.info(
      `The Server 3 language server did not start: ${e instanceof Error ? e.message : String(e)}`,
    );
  });
  return {
    contextKeys: () => contextKeys.values,
    fixNotices: () => shared.notices.showing(),
    statusBarText: () => statusBar.text,
    selectRequest: (key) => requestsTree.select(key),
  };
}

export async function deactivate(): Promise<void> {
  // Stops the language server, whose supervisor stops every Python server: nothing outlives the window.
  await ctx?.dispose();
  ctx = undefined;
}
