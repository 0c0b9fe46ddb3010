/**
 * Shared helpers of the supervisor tests: a Supervisor wired to recording events, temp app folders, a tiny
 * HTTP client and polling. Everything talks to real processes on 127.0.0.1 with ephemeral ports.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type {
  LogParams,
  MetricsSnapshot,
  RequestsUpdate,
  ServerInfo,
  StartParams,
} from '../../server-runtime/src/protocol';
import { Supervisor, type SupervisorOptions } from '../../server-runtime/src/supervisor/supervisor';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * The repository's .venv Python (with debugpy and the test packages), looked for from repoRoot upwards: the
 * mutation runs copy the repository without its .venv into .stryker-tmp/sandbox-* inside it.
 */
export function venvPython(): string | undefined {
  for (let dir = repoRoot; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.venv', 'bin', 'python');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}
export const python = process.env.SERVER3_TEST_PYTHON || 'python3';
export const helloDir = path.join(repoRoot, 'examples', 'hello');

/** The real runtime package (Server_3_free_threads), exactly as the extension ships it. */
export const runtimePath = path.join(repoRoot, 'server-runtime', 'python');

export interface Recorded {
  supervisor: Supervisor;
  states: ServerInfo[];
  logs: LogParams[];
  metrics: MetricsSnapshot[];
  requests: RequestsUpdate[];
  logText(): string;
}

export function makeSupervisor(extra: Partial<SupervisorOptions> = {}): Recorded {
  const states: ServerInfo[] = [];
  const logs: LogParams[] = [];
  const metrics: MetricsSnapshot[] = [];
  const requests: RequestsUpdate[] = [];
  const supervisor = new Supervisor({
    runtimePath,
    stopTimeoutMs: 3000,
    startTimeoutMs: 15000,
    events: {
      state: (info) => states.push(info),
      log: (log) => logs.push(log),
      metrics: (snapshots) => metrics.push(...snapshots),
      requests: (updates) => requests.push(...updates),
    },
    ...extra,
  });
  return {
    supervisor,
    states,
    logs,
    metrics,
    requests,
    logText: () => logs.flatMap((l) => l.lines).join('\n'),
  };
}

export function startParams(configPath: string, cwd: string, extra: Partial<StartParams> = {}): StartParams {
  return {
    configUri: configPath,
    pythonPath: python,
    cwd,
    autoRestart: false,
    autoRestartDelayMs: 100,
    ...extra,
  };
}

const tempDirs: string[] = [];

/** Removes every folder makeApp created (call from `after`). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A temp folder with `app.py` and `.config_server` listening on `port`. */
export function makeApp(appSource: string, port: number, extraConfig = ''): { dir: string; config: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-sup-'));
  tempDirs.push(dir);
  fs.writeFileSync(path.join(dir, 'app.py'), appSource);
  const config = path.join(dir, '.config_server');
  fs.writeFileSync(
    config,
    `HOST=127.0.0.1\nPORT=${port}\nSOCKET_BACKLOG=64\nAPP=app\nDOMAIN=localhost\n${extraConfig}`,
  );
  return { dir, config };
}

export function helloApp(body: string): string {
  return [
    'def application(environ, start_response):',
    `    body = ${JSON.stringify(body)}.encode()`,
    "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])",
    '    return [body]',
    '',
  ].join('\n');
}

export function get(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True while `pid` runs. A zombie counts as gone: a killed worker whose parent died first stays one until
 * init reaps it, holding no port, no file, no CPU. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
