/**
 * "Server 3: Start with Debugger": the server under debugpy, VS Code's Python debugger attached.
 *
 * 1. Workspace Trust first (it runs workspace code, and pip), then the config and the interpreter as Start
 *    picks them.
 * 2. debugpy must import in that interpreter; if it does not, the user is asked, and only with their consent
 *    `python -m pip install debugpy` runs (an argv array, no shell), its output in the Server 3 log.
 * 3. The supervisor starts the runtime as `python -m debugpy --listen 127.0.0.1:<free port> -m
 *    Server_3_free_threads ...` (StartParams.debug), waits until debugpy listens and reports the port.
 * 4. With the Python Debugger extension (ms-python.debugpy) installed, an attach session starts whose options
 *    keep the other threads running when a breakpoint stops one (stopAllThreadsOnSuspend and
 *    steppingResumesAllThreads off: the pipeline keeps serving, tests/test_debugger.py checks it against
 *    debugpy). Without it: a message with a button to install it; the server keeps running with debugpy
 *    listening, so attaching later works.
 * A server started so is re-attached after its automatic restarts (the new process listens on a new port).
 */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import { choosePython } from './bootstrap';
import { pickConfig } from './configFiles';
import type { Ctx } from './ctx';
import { ensurePlatform } from './platform';
import { ensureTrusted } from './trust';

export const PYTHON_DEBUGGER_EXTENSION = 'ms-python.debugpy';

/** The attach configuration for debugpy on 127.0.0.1:port (option names as debugpy 1.8 reads them). */
export function attachConfiguration(name: string, port: number): vscode.DebugConfiguration {
  return {
    type: 'debugpy',
    request: 'attach',
    name,
    connect: { host: '127.0.0.1', port },
    justMyCode: true,
    // A breakpoint stops the app thread that hit it; the pipeline and the other app threads keep serving.
    stopAllThreadsOnSuspend: false,
    steppingResumesAllThreads: false,
    // WORKERS>1: the master's workers are not followed (the app runs there); see README.
    subProcess: false,
  };
}

/** The argv that installs debugpy into `python` (never a shell string). */
export function debugpyInstallArgs(): string[] {
  return ['-m', 'pip', 'install', '--disable-pip-version-check', 'debugpy'];
}

function run(python: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(python, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim() }),
    );
  });
}

/** True once `import debugpy` works in `python`, installing it with the user's consent if needed. */
export async function ensureDebugpy(ctx: Ctx, python: string): Promise<boolean> {
  if ((await run(python, ['-c', 'import debugpy'], 30_000)).ok) return true;
  const install = 'Install debugpy';
  const choice = await vscode.window.showWarningMessage(
    `Server 3: Start with Debugger needs debugpy, which ${python} does not have. Install it from PyPI into that interpreter (python -m pip install debugpy)?`,
    { modal: true },
    install,
  );
  if (choice !== install) return false;
  ctx.output.info(`Installing debugpy: ${python} ${debugpyInstallArgs().join(' ')}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Server 3: installing debugpy' },
    () => run(python, debugpyInstallArgs(), 300_000),
  );
  if (result.output) ctx.output.info(result.output);
  if (result.ok && (await run(python, ['-c', 'import debugpy'], 30_000)).ok) return true;
  const last = result.output.split('\n').slice(-3).join(' ');
  void vscode.window
    .showErrorMessage(
      `Server 3: pip could not install debugpy into ${python}${last ? `: ${last}` : ''}. Pick a virtualenv's interpreter (Server 3: Select Interpreter) or install it yourself.`,
      'Show Logs',
    )
    .then((c) => c && ctx.output.show());
  return false;
}

/** Attaches VS Code's Python debugger, or says how to get it; true when a session started. */
export async function attach(ctx: Ctx, info: ServerInfo): Promise<boolean> {
  if (!info.debugPort) return false;
  if (!vscode.extensions.getExtension(PYTHON_DEBUGGER_EXTENSION)) {
    const installButton = 'Install Python Debugger';
    void vscode.window
      .showWarningMessage(
        `Server 3 runs with debugpy listening on 127.0.0.1:${info.debugPort}, but the Python Debugger extension (${PYTHON_DEBUGGER_EXTENSION}) is not installed, so VS Code cannot attach. Install it, then run "Server 3: Start with Debugger" again.`,
        installButton,
      )
      .then((c) => {
        if (c === installButton)
          void vscode.commands.executeCommand(
            'workbench.extensions.installExtension',
            PYTHON_DEBUGGER_EXTENSION,
          );
      });
    return false;
  }
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(info.configUri));
  attachedPorts.set(info.id, info.debugPort);
  return vscode.debug.startDebugging(
    folder,
    attachConfiguration(`Server 3: ${ctx.label(info.id)}`, info.debugPort),
  );
}

/** Servers a debugger was attached to, and the port it attached on. */
const attachedPorts = new Map<string, number>();

/** An automatic restart of a debugged server listens on a new port: attach again. */
export function watchDebuggedRestarts(ctx: Ctx): vscode.Disposable {
  return ctx.onDidChangeServers((info) => {
    if (!info || !attachedPorts.has(info.id)) return;
    if (info.state === 'stopped') attachedPorts.delete(info.id);
    else if (info.state === 'running' && info.debugPort && info.debugPort !== attachedPorts.get(info.id))
      void attach(ctx, info);
    else if (info.state === 'running' && !info.debugPort) attachedPorts.delete(info.id);
  });
}

export interface DebugStart {
  info?: ServerInfo;
  attached: boolean;
}

export async function startWithDebugger(
  ctx: Ctx,
  arg: unknown,
  start: (configUri: vscode.Uri) => Promise<ServerInfo | undefined>,
): Promise<DebugStart> {
  if (!(await ensurePlatform())) return { attached: false };
  if (!(await ensureTrusted())) return { attached: false };
  const configUri = await pickConfig(arg);
  if (!configUri) return { attached: false };
  const python = await choosePython(configUri, ctx.settings);
  const interpreter = python.ok ? (python.executable ?? python.command) : undefined;
  // An unusable interpreter is reported by start() itself, as for a plain Start.
  if (interpreter && !(await ensureDebugpy(ctx, interpreter))) return { attached: false };
  const info = await start(configUri);
  if (info?.state !== 'running' || !info.debugPort) return { info, attached: false };
  ctx.output.info(`${ctx.label(info.id)}: debugpy listens on 127.0.0.1:${info.debugPort}`);
  return { info, attached: await attach(ctx, info) };
}
