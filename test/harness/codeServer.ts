/**
 * Starts and stops a real code-server (VS Code 1.100 server + extension host) for the host tests, the UI tests and
 * the demo. One concern: a code-server process that is loopback-only, quiet, isolated in a scratch folder, and
 * never outlives us.
 *
 * - binds 127.0.0.1 on a free port, `--auth none` (loopback only, so no password is needed);
 * - user data, extensions, TMPDIR, HOME and XDG_* live in a scratch folder deleted by stop();
 * - EXTENSIONS_GALLERY='{}' and the quiet settings keep it from calling any marketplace/update/telemetry host;
 * - it runs in its own session/process group (`detached`, i.e. setsid) and stop() kills the whole group, because
 *   extension hosts and language servers otherwise outlive the browser for hours. The group is also killed when
 *   this Node process exits or gets SIGINT/SIGTERM.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './freePort';
import { killProcessGroupOnExit, killProcessGroup, killProcessesWithEnv } from './processGroup';

/**
 * Every process started under one code-server inherits this variable (value: its scratch folder), so stop() can
 * find and kill processes that left its process group, such as the Python servers the supervisor starts.
 */
export const RUN_MARKER_ENV = 'SERVER3_HARNESS_RUN';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const CODE_SERVER_BIN = path.join(
  REPO_ROOT,
  '.cache',
  'code-server',
  'node_modules',
  '.bin',
  'code-server',
);

/** Settings that keep VS Code quiet and deterministic: no telemetry, updates, welcome pages or trust prompt. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'git.enabled': false,
  'npm.autoDetect': 'off',
};

export interface CodeServerOptions {
  /** Folder opened by default (the URL's ?folder=). */
  workspace: string;
  /** .vsix files installed (with `--install-extension`) before the server starts. */
  vsixes?: string[];
  /** Extra user settings, merged over QUIET_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** Extra environment for code-server and therefore for its extension hosts. */
  env?: Record<string, string>;
  /** Where code-server's own stdout/stderr go: a file path, or 'inherit'. Default: scratch/code-server.log. */
  log?: string | 'inherit';
  /**
   * Workspace Trust on (true) or off (default). Off: the profile is a scratch one and the folders it opens are the
   * repository's own examples/fixtures; on, every new window would ask "Do you trust the authors?" and start in
   * Restricted Mode. Tests of the untrusted behaviour pass true.
   */
  workspaceTrust?: boolean;
  /** Keep the scratch folder after stop() (for debugging). */
  keepScratch?: boolean;
}

export interface CodeServer {
  port: number;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** URL that opens the workspace folder. */
  workspaceUrl: string;
  scratchDir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string | undefined;
  process: ChildProcess;
  /**
   * Copies code-server's own log and VS Code's logs (extension host, output channels such as "Server 3") to
   * `dir`, for CI artifacts. Call before stop(), which deletes the scratch folder.
   */
  saveLogs(dir: string): void;
  /** Kills code-server's process group (SIGTERM, then SIGKILL) and removes the scratch folder. Idempotent. */
  stop(): Promise<void>;
}

export function assertCodeServerInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    throw new Error(
      `code-server is not installed at ${CODE_SERVER_BIN}: run \`bash scripts/install-code-server.sh\``,
    );
  }
}

/** The environment of code-server: everything that would land in $HOME goes to the scratch folder. */
function scratchEnv(scratchDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dirs = {
    TMPDIR: 'tmp',
    HOME: 'home',
    XDG_CONFIG_HOME: 'config',
    XDG_DATA_HOME: 'data',
    XDG_CACHE_HOME: 'cache',
  };
  const env: NodeJS.ProcessEnv = { ...process.env, EXTENSIONS_GALLERY: '{}', ...extra };
  for (const [name, sub] of Object.entries(dirs)) {
    const dir = path.join(scratchDir, sub);
    fs.mkdirSync(dir, { recursive: true });
    env[name] = dir;
  }
  // A password from the caller's environment would switch auth back on; we use --auth none on loopback.
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  return env;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertCodeServerInstalled();
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-code-server-'));
  const userDataDir = path.join(scratchDir, 'user-data');
  const extensionsDir = path.join(scratchDir, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        ...QUIET_SETTINGS,
        ...(options.workspaceTrust ? {} : { 'security.workspace.trust.enabled': false }),
        ...options.settings,
      },
      null,
      2,
    ),
  );
  const env = scratchEnv(scratchDir, { ...options.env, [RUN_MARKER_ENV]: scratchDir });
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  // Installing before the server starts: installing into a running server gave a flaky "command not found".
  for (const vsix of options.vsixes ?? []) {
    execFileSync(CODE_SERVER_BIN, [...common, '--install-extension', vsix], {
      env,
      stdio: 'pipe',
      timeout: 60_000,
    });
  }

  const port = options.port ?? (await freePort());
  const logFile =
    options.log === 'inherit' ? undefined : (options.log ?? path.join(scratchDir, 'code-server.log'));
  const out = logFile ? fs.openSync(logFile, 'a') : 'inherit';
  const args = [
    ...common,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    options.workspace,
  ];
  // detached: the child calls setsid(), so it leads a new process group we can kill as a whole.
  const child = spawn(CODE_SERVER_BIN, args, { env, detached: true, stdio: ['ignore', out, out] });
  if (typeof out === 'number') fs.closeSync(out);
  const unregister = killProcessGroupOnExit(child, [RUN_MARKER_ENV, scratchDir]);
  // Also on Ctrl+C/SIGTERM (the handlers above end with process.exit, which still runs 'exit' listeners).
  const removeScratch = (): void => {
    if (!options.keepScratch) fs.rmSync(scratchDir, { recursive: true, force: true });
  };
  process.on('exit', removeScratch);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await killProcessGroup(child);
    // Safety net: whatever outlived the group (a Python server the extension did not stop) is a leak to report.
    const leaked = killProcessesWithEnv(RUN_MARKER_ENV, scratchDir);
    if (leaked.length)
      console.warn(`[code-server] killed ${leaked.length} process(es) left behind: ${leaked}`);
    unregister();
    process.off('exit', removeScratch);
    removeScratch();
  };

  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHealthz(origin, child, 30_000);
  } catch (err) {
    const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`${(err as Error).message}\n--- code-server log (tail) ---\n${tail}`);
  }
  return {
    port,
    origin,
    workspaceUrl: `${origin}/?folder=${encodeURIComponent(options.workspace)}`,
    scratchDir,
    userDataDir,
    extensionsDir,
    logFile,
    process: child,
    saveLogs: (dir: string) => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      if (logFile && fs.existsSync(logFile)) fs.copyFileSync(logFile, path.join(dir, 'code-server.log'));
      const vscodeLogs = path.join(userDataDir, 'logs');
      if (fs.existsSync(vscodeLogs)) fs.cpSync(vscodeLogs, path.join(dir, 'vscode'), { recursive: true });
    },
    stop,
  };
}

/** Polls GET /healthz until code-server answers (about half a second after start). */
async function waitForHealthz(origin: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (await answers(`${origin}/healthz`)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${origin}/healthz within ${timeoutMs} ms`);
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}
