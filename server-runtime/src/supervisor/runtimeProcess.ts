/**
 * One running `python -m Server_3_free_threads`: spawning it, reading its three outputs (stdout = access log,
 * stderr = logs and tracebacks, fd 3 = JSON control lines) and ending it.
 *
 * The child gets its own process group (detached) so a stop reaches every process it forked (WORKERS > 1),
 * and fd 3 is a socket it watches: when the supervisor dies, even by SIGKILL, the runtime sees EOF and exits,
 * so no orphan keeps the port. No shell is involved anywhere: the argv is passed as an array.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { LineSplitter } from './lineSplitter';
import {
  metricsCommand,
  parseRuntimeMessage,
  requestDetailCommand,
  requestsCommand,
  type RuntimeMessage,
} from './runtimeMessages';

export interface RuntimeLaunch {
  python: string;
  configPath: string;
  cwd: string;
  /** Folder that holds the Server_3_free_threads package; prepended to PYTHONPATH. */
  runtimePath: string;
  port?: number;
  /** Run under debugpy listening on 127.0.0.1:debugPort ("Server 3: Start with Debugger"). */
  debugPort?: number;
}

export interface RuntimeListener {
  message(msg: RuntimeMessage): void;
  stdout(lines: string[]): void;
  stderr(lines: string[]): void;
  /** The process is gone and its pipes are drained. `spawnError` is set when it never started (ENOENT...). */
  exit(code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void;
}

/** How many stderr lines are kept to explain a crash. */
const STDERR_TAIL = 60;

export class RuntimeProcess {
  readonly child: ChildProcess;
  private readonly control: Socket | undefined;
  private readonly stderrTail: string[] = [];
  private exited = false;
  private readonly exitPromise: Promise<void>;

  constructor(launch: RuntimeLaunch, listener: RuntimeListener) {
    const args = ['-m', 'Server_3_free_threads', '--config', launch.configPath, '--control-fd', '3'];
    if (launch.port !== undefined) args.push('--port', String(launch.port));
    // debugpy runs the module in this same process (runpy), so fd 3, the process group and the exit codes
    // are the runtime's as without it; it listens before the module starts and does not wait for a client.
    if (launch.debugPort !== undefined)
      args.unshift('-m', 'debugpy', '--listen', `127.0.0.1:${launch.debugPort}`);
    const pythonPath = [launch.runtimePath, process.env.PYTHONPATH].filter(Boolean).join(':');
    this.child = spawn(launch.python, args, {
      cwd: launch.cwd,
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.control = this.child.stdio[3] as Socket | undefined;

    const out = new LineSplitter();
    const err = new LineSplitter();
    const ctl = new LineSplitter();
    const emitStderr = (lines: string[]) => {
      if (!lines.length) return;
      this.stderrTail.push(...lines);
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - STDERR_TAIL));
      listener.stderr(lines);
    };
    const emitControl = (lines: string[]) => {
      for (const line of lines) {
        const msg = parseRuntimeMessage(line);
        if (msg) listener.message(msg);
        else if (line.trim()) listener.stderr([`[control] unrecognised line: ${line.slice(0, 200)}`]);
      }
    };
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const lines = out.push(chunk);
      if (lines.length) listener.stdout(lines);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => emitStderr(err.push(chunk)));
    this.control?.on('data', (chunk: Buffer) => emitControl(ctl.push(chunk)));
    // A control socket error (EPIPE after the child died) is not a supervisor error; exit reports the rest.
    this.control?.on('error', () => undefined);

    this.exitPromise = new Promise((resolve) => {
      let spawnError: Error | undefined;
      this.child.once('error', (e) => {
        spawnError = e;
        // When spawn itself fails, 'close' still follows; when it does not (older Node), finish here.
        if (this.child.pid === undefined) setImmediate(finish);
      });
      const finish = (code: number | null = null, signal: NodeJS.Signals | null = null) => {
        if (this.exited) return;
        this.exited = true;
        const flushedOut = out.flush();
        if (flushedOut.length) listener.stdout(flushedOut);
        emitStderr(err.flush());
        emitControl(ctl.flush());
        listener.exit(code, signal, spawnError);
        resolve();
      };
      this.child.once('close', (code, signal) => finish(code, signal));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** The last lines of stderr, to explain a crash when the runtime could not say it on the control channel. */
  recentStderr(): string[] {
    return [...this.stderrTail];
  }

  setMetricsInterval(intervalMs: number): void {
    this.command(metricsCommand(intervalMs));
  }

  setRequestsInterval(intervalMs: number): void {
    this.command(requestsCommand(intervalMs));
  }

  /** Asks for one request's headers; the answer comes as a requestDetail message (none when not kept). */
  askRequestDetail(thread: string, seq: number, worker: number): boolean {
    return this.command(requestDetailCommand(thread, seq, worker));
  }

  private command(line: string): boolean {
    if (this.exited || !this.control || this.control.destroyed) return false;
    this.control.write(line);
    return true;
  }

  /** Sends a signal to the whole process group; false when it is already gone. */
  signal(sig: NodeJS.Signals): boolean {
    if (this.exited || this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, sig);
      return true;
    } catch {
      try {
        return this.child.kill(sig);
      } catch {
        return false;
      }
    }
  }

  /** Graceful stop: SIGTERM to the group, SIGKILL when it has not exited after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Immediate, synchronous kill of the group: for supervisor exit, where nothing async runs any more. */
  kill(): void {
    this.signal('SIGKILL');
    this.control?.destroy();
  }

  whenExited(): Promise<void> {
    return this.exitPromise;
  }
}
