/**
 * The command table: every `server3.*` command, as a factory taking the Ctx. Commands never assume the
 * language server is up (ctx.client() starts it) and return something useful to callers and tests:
 * start/stop/restart resolve to the server's ServerInfo, openBrowser to the URI it opened.
 */
import * as vscode from 'vscode';
import {
  RestartRequest,
  StartRequest,
  StopRequest,
  type ServerInfo,
  type StartParams,
} from '../../server-runtime/src/protocol';
import { choosePython } from './bootstrap';
import { pickConfig, workingDirectoryFor } from './configFiles';
import { breakConfig, openExample } from './walkthrough';
import type { Ctx } from './ctx';
import { parseConfig } from '../../server-runtime/src/config/parse';
import { openAt, showInterpreterError, showServerError } from './errorActions';
import { findInterpreters, type Interpreter } from './interpreters';
import { MetricsPanel } from './metricsPanel';
import { startWithDebugger } from './debugger';
import { curlFor, RequestPanel } from './requestPanel';
import type { RequestEntry } from './requestsStore';
import type { RequestsTree } from './requestsTree';
import { ensurePlatform } from './platform';
import { ensureTrusted } from './trust';
import { parseFilter } from './requestsStore';

type Cmd = (...args: unknown[]) => Promise<unknown>;

/** A server id from a command argument: an id string, a config Uri, or a tree item carrying `serverId`. */
function serverIdFrom(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.toString();
  if (arg && typeof arg === 'object' && 'serverId' in arg)
    return String((arg as { serverId: unknown }).serverId);
  return undefined;
}

/** The server a command is about: the argument, the only candidate, or a quick pick among candidates. */
async function pickServer(ctx: Ctx, arg: unknown, filter: (s: ServerInfo) => boolean, verb: string) {
  const id = serverIdFrom(arg);
  if (id) {
    // An id is the config's URI; a plain file path (from a test or a keybinding) names the same config.
    const asUri = id.includes('://') ? id : vscode.Uri.file(id).toString();
    return ctx.get(id) ?? ctx.get(asUri) ?? ctx.list().find((s) => s.configUri === id);
  }
  const candidates = ctx.list().filter(filter);
  if (candidates.length <= 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((s) => ({ label: ctx.label(s.id), description: `${s.state} ${s.url ?? ''}`, server: s })),
    { title: `Server 3: which server to ${verb}?` },
  );
  return picked?.server;
}

async function start(
  ctx: Ctx,
  arg?: unknown,
  portOverride?: number,
  debug = false,
): Promise<ServerInfo | undefined> {
  if (!(await ensurePlatform())) return undefined;
  if (!(await ensureTrusted())) return undefined;
  const configUri = await pickConfig(arg);
  if (!configUri) return undefined;
  // From a code lens, the editor title or the explorer: the server reads the file, so save what is shown.
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === configUri.toString());
  if (open?.isDirty) await open.save();
  const python = await choosePython(configUri, ctx.settings);
  if (!python.ok) {
    ctx.output.info(python.problem!.message);
    void showInterpreterError(python.problem!.message);
    return undefined;
  }
  const params: StartParams = {
    configUri: configUri.toString(),
    pythonPath: python.executable ?? python.command,
    cwd: workingDirectoryFor(configUri),
    autoRestart: ctx.settings.autoRestart(configUri),
    autoRestartDelayMs: ctx.settings.autoRestartDelayMs(configUri),
    portOverride,
    debug,
  };
  ctx.output.info(
    `Starting ${ctx.label(params.configUri)} with Python ${python.version} (${params.pythonPath})${debug ? ' under debugpy' : ''}`,
  );
  const client = await ctx.client();
  const info = await ctx.whileBusy(params.configUri, () =>
    vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Server 3: starting' },
      () => client.sendRequest(StartRequest, params),
    ),
  );
  ctx.setServer(info);
  report(ctx, info);
  return info;
}

/** Tells the user how a start/restart ended (without blocking the command on the notification). */
function report(ctx: Ctx, info: ServerInfo): void {
  if (info.state === 'running' && !info.error) {
    ctx.output.info(`${ctx.label(info.id)} running at ${info.url} (pid ${info.pid})`);
    void vscode.window
      .showInformationMessage(
        `Server 3 (${ctx.label(info.id)}) is running at ${info.url}`,
        'Open in Browser',
        'Show Live Metrics',
      )
      .then((choice) => {
        if (choice === 'Open in Browser') void vscode.commands.executeCommand('server3.openBrowser', info.id);
        else if (choice === 'Show Live Metrics')
          void vscode.commands.executeCommand('server3.showMetrics', info.id);
      });
    return;
  }
  if (info.error) {
    ctx.output.info(`${ctx.label(info.id)}: ${info.error.message}`);
    void showServerError(ctx, info, info.error);
  }
}

/**
 * "Set PORT=N in the Config" (a port-in-use fix): writes the port into the config's PORT line (the one that
 * counts, the last) and saves it. With auto-restart the save starts the server; without, this starts it.
 */
async function setPort(ctx: Ctx, configUri: unknown, port: unknown): Promise<ServerInfo | undefined> {
  if (typeof configUri !== 'string' || typeof port !== 'number') return undefined;
  const uri = vscode.Uri.parse(configUri);
  const doc = await vscode.workspace.openTextDocument(uri);
  const entry = parseConfig(doc.getText())
    .entries.filter((e) => e.key === 'PORT')
    .pop();
  const edit = new vscode.WorkspaceEdit();
  if (entry)
    edit.replace(
      uri,
      new vscode.Range(entry.line, entry.valueStart, entry.line, entry.valueEnd),
      String(port),
    );
  else
    edit.insert(
      uri,
      doc.lineAt(doc.lineCount - 1).range.end,
      `${doc.getText().endsWith('\n') ? '' : '\n'}PORT=${port}\n`,
    );
  await vscode.workspace.applyEdit(edit);
  await doc.save();
  ctx.output.info(`${ctx.label(configUri)}: PORT=${port} written`);
  // The supervisor watches the config of a server that runs or failed to start (not of one the user stopped):
  // with auto-restart on, the save restarts it; otherwise it is started here.
  const server = ctx.get(configUri);
  const watched = ctx.settings.autoRestart(uri) && !!server && (server.state !== 'stopped' || !!server.error);
  return watched ? server : start(ctx, uri);
}

async function stop(ctx: Ctx, arg?: unknown): Promise<ServerInfo | undefined> {
  const server = await pickServer(ctx, arg, (s) => s.state !== 'stopped', 'stop');
  if (!server) {
    void vscode.window.showInformationMessage('Server 3: no server is running.');
    return undefined;
  }
  const client = await ctx.client();
  const info = await ctx.whileBusy(server.id, () => client.sendRequest(StopRequest, { id: server.id }));
  ctx.setServer(info);
  ctx.output.info(`${ctx.label(info.id)} stopped`);
  return info;
}

async function restart(ctx: Ctx, arg?: unknown): Promise<ServerInfo | undefined> {
  const server = await pickServer(ctx, arg, () => true, 'restart');
  if (!server) return start(ctx, arg);
  if (!(await ensureTrusted())) return undefined;
  const client = await ctx.client();
  const info = await ctx.whileBusy(server.id, () => client.sendRequest(RestartRequest, { id: server.id }));
  ctx.setServer(info);
  report(ctx, info);
  return info;
}

async function openBrowser(ctx: Ctx, arg?: unknown): Promise<string | undefined> {
  const server = await pickServer(ctx, arg, (s) => s.state === 'running', 'open');
  if (!server?.url) {
    void vscode.window.showInformationMessage('Server 3: no server is running. Start one first.');
    return undefined;
  }
  // asExternalUri maps localhost ports through the remote tunnel (Remote-WSL, code-server).
  const external = await vscode.env.asExternalUri(vscode.Uri.parse(server.url));
  await vscode.env.openExternal(external);
  return external.toString();
}

async function showActions(ctx: Ctx): Promise<void> {
  const anyRunning = ctx.list().some((s) => s.state === 'running');
  const anyKnown = ctx.list().length > 0;
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: '$(play) Start', command: 'server3.start' },
    ...(anyRunning ? [{ label: '$(globe) Open in Browser', command: 'server3.openBrowser' }] : []),
    ...(anyKnown ? [{ label: '$(debug-restart) Restart', command: 'server3.restart' }] : []),
    ...(anyRunning ? [{ label: '$(debug-stop) Stop', command: 'server3.stop' }] : []),
    { label: '$(graph) Show Live Metrics', command: 'server3.showMetrics' },
    { label: '$(output) Show Logs', command: 'server3.showLogs' },
    { label: '$(symbol-namespace) Select Interpreter', command: 'server3.selectInterpreter' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Server 3' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}

/** The interpreters the server can run on (see interpreters.ts), for the picker and for tests. */
async function listInterpreters(ctx: Ctx): Promise<Interpreter[]> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  return findInterpreters({ setting: ctx.settings.pythonPath() || undefined, folders });
}

/**
 * "Server 3: Select Interpreter": every interpreter found, free-threaded ones first with what that means;
 * the choice goes into server3.pythonPath (this workspace). An interpreter selected in the Python extension
 * still comes first at start (bootstrap.ts), so the user is told when one is.
 */
async function selectInterpreter(ctx: Ctx): Promise<string | undefined> {
  const found = await listInterpreters(ctx);
  const current = ctx.settings.pythonPath();
  const items = found.map((i) => ({
    label: `Python ${i.version}${i.freeThreaded ? ' (free-threaded)' : ''}${i.venv ? ' (venv)' : ''}`,
    description: i.command + (i.command === current ? ' · current setting' : ''),
    detail: i.freeThreaded
      ? 'GIL off: the four stages and the app threads run in parallel on several cores. Best for CPU-bound apps; extension modules that are not free-threading-safe turn the GIL back on (the views show it).'
      : undefined,
    interpreter: i,
  }));
  if (!items.length) {
    void vscode.window.showErrorMessage(
      'Server 3: no Python 3.10+ found on PATH, in pyenv or in the workspace.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Server 3: interpreter for the server',
    placeHolder: 'Free-threaded builds (python3.13t) run the threads without the GIL',
  });
  if (!picked) return undefined;
  await vscode.workspace
    .getConfiguration('server3')
    .update('pythonPath', picked.interpreter.command, vscode.ConfigurationTarget.Workspace);
  if (vscode.extensions.getExtension('ms-python.python'))
    void vscode.window.showInformationMessage(
      'Server 3: set server3.pythonPath. An interpreter selected in the Python extension is used first: select this one there too, or clear it there.',
    );
  return picked.interpreter.command;
}

/** A request from a command argument: a row of the Requests view, or an entry itself. */
function requestFrom(arg: unknown): RequestEntry | undefined {
  if (arg && typeof arg === 'object' && 'entry' in arg) return (arg as { entry: RequestEntry }).entry;
  if (arg && typeof arg === 'object' && 'serverId' in arg && 'seq' in arg) return arg as RequestEntry;
  return undefined;
}

/** "Copy as curl": the row's request, else the one the request panel shows. */
async function copyAsCurl(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  const entry = requestFrom(arg);
  if (entry) return curlFor(ctx, entry);
  const current = RequestPanel.currentRequest();
  if (current) return curlFor(ctx, current.entry, current.shown);
  void vscode.window.showInformationMessage('Server 3: select a request in the Requests view first.');
  return undefined;
}

export function commandTable(ctx: Ctx, requestsTree?: RequestsTree): Record<string, Cmd> {
  return {
    'server3.start': (arg, port) => start(ctx, arg, typeof port === 'number' ? port : undefined),
    // The editor title's and the explorer's entries: the same commands, titled "... Server 3" there.
    'server3.startConfig': (arg) => start(ctx, arg),
    'server3.stopConfig': (arg) => stop(ctx, arg),
    'server3.openExample': () => openExample(ctx),
    'server3.breakConfigForWalkthrough': () => breakConfig(),
    'server3.stop': (arg) => stop(ctx, arg),
    'server3.restart': (arg) => restart(ctx, arg),
    'server3.openBrowser': (arg) => openBrowser(ctx, arg),
    'server3.showMetrics': async (arg) => MetricsPanel.show(ctx, serverIdFrom(arg)),
    'server3.showLogs': async () => ctx.output.show(),
    'server3.showActions': () => showActions(ctx),
    'server3.selectInterpreter': () => selectInterpreter(ctx),
    'server3.listInterpreters': () => listInterpreters(ctx),
    'server3.openLocation': async (file, line) =>
      typeof file === 'string' ? openAt(file, typeof line === 'number' ? line : undefined) : undefined,
    'server3.setPort': (configUri, port) => setPort(ctx, configUri, port),
    'server3.startWithDebugger': (arg) =>
      startWithDebugger(ctx, arg, (configUri) => start(ctx, configUri, undefined, true)),
    'server3.showRequest': async (arg) => {
      const entry = requestFrom(arg);
      return entry ? RequestPanel.show(ctx, entry) : undefined;
    },
    'server3.copyRequestAsCurl': (arg) => copyAsCurl(ctx, arg),
    'server3.filterRequests': async (text) => {
      if (!requestsTree) return undefined;
      // A text argument (tests, keybindings) sets the filter without asking.
      if (typeof text === 'string') {
        requestsTree.setFilter(parseFilter(text));
        return text;
      }
      return requestsTree.askFilter();
    },
    'server3.clearRequestsFilter': async () => requestsTree?.setFilter(undefined),
    /** What the Requests view lists now (for tests and scripts). */
    'server3.listRequests': async () => requestsTree?.rows() ?? [],
  };
}

/** Registers the table; a failing command shows its error instead of failing silently. */
export function registerCommands(ctx: Ctx, requestsTree?: RequestsTree): vscode.Disposable[] {
  return Object.entries(commandTable(ctx, requestsTree)).map(([name, run]) =>
    vscode.commands.registerCommand(name, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        ctx.output.info(`${name} failed: ${message}`);
        void vscode.window
          .showErrorMessage(`Server 3: ${message}`, 'Show Logs')
          .then((c) => c && ctx.output.show());
        return undefined;
      }
    }),
  );
}
