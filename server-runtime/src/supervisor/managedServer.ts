/**
 * The life of one server (one config file): start -> running -> stop, restart, crash, auto-restart.
 * Operations run one at a time (a queue), so a file change arriving during a stop cannot start a second
 * process on the same port. Every state change is reported through `onState`.
 */
import type {
  LogParams,
  MetricsSnapshot,
  RequestDetail,
  RequestsUpdate,
  ServerError,
  ServerInfo,
  ServerState,
  StartParams,
} from '../protocol';
import { describeExit, describeRuntimeError, describeSpawnError } from './errors';
import { DebouncedFileWatcher } from './fileWatcher';
import { findFreePort, isPortInUse } from './ports';
import type { ReadyMessage, RuntimeMessage } from './runtimeMessages';
import { RuntimeProcess } from './runtimeProcess';

export interface ManagedServerOptions {
  runtimePath: string;
  stopTimeoutMs: () => number;
  /** How long a start may take until "ready" before it is given up (ms). */
  startTimeoutMs: number;
  /** Checks the config before anything runs; returns the problem, or undefined when it is valid. */
  validate: (configPath: string, cwd?: string) => Promise<ServerError | undefined>;
  onState: (info: ServerInfo) => void;
  onLog: (log: LogParams) => void;
  onMetrics: (snapshot: MetricsSnapshot) => void;
  onRequests: (update: RequestsUpdate) => void;
}

type Outcome = { ready: ReadyMessage } | { error: ServerError };

function clockTime(): string {
  return new Date().toTimeString().slice(0, 8);
}

/**
 * A runtime whose pipeline thread died exits with code 5 instead of staying up without serving; the
 * supervisor starts it again, as systemd or Kubernetes would, but gives up after this many deaths within
 * STAGE_DEATH_WINDOW_MS (a fault that comes back at once is a bug to fix, not to loop on).
 */
const STAGE_DEATH_RESTARTS = 3;
const STAGE_DEATH_WINDOW_MS = 60_000;

/** How long a requestDetail may take before it is answered with null (the runtime sends nothing when the
 * request is no longer kept, so silence is an answer too). */
const REQUEST_DETAIL_TIMEOUT_MS = 3000;
/** How long debugpy may take to listen once the runtime is ready (it listens before the module starts). */
const DEBUG_LISTEN_TIMEOUT_MS = 10_000;

/**
 * Resolves true once something listens on 127.0.0.1:port, false after `timeoutMs`. It probes by binding, not
 * by connecting: debugpy's adapter takes any connection for its client, and one that connects and goes away
 * early can leave it answering nobody after.
 */
export async function waitForListener(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isPortInUse('127.0.0.1', port)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export class ManagedServer {
  private info: ServerInfo;
  private process: RuntimeProcess | undefined;
  private watcher: DebouncedFileWatcher | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private metricsIntervalMs = 0;
  private requestsIntervalMs = 0;
  /** requestDetail questions waiting for their answer, by "worker:thread:seq". */
  private readonly detailWaiters = new Map<string, ((detail: RequestDetail | null) => void)[]>();
  private userStopped = false;
  /** A stop was requested and has not run yet (see stop()). */
  private stopPending = false;
  /** Between spawn and ready/failure. */
  private launching = false;
  private disposed = false;
  /** When recent stage deaths happened (for the automatic-restart budget). */
  private stageDeaths: number[] = [];
  /** Set for an automatic restart after a stage death: the error the restarted server goes on showing. */
  private carriedError: ServerError | undefined;

  constructor(
    readonly id: string,
    readonly configPath: string,
    private params: StartParams,
    private readonly options: ManagedServerOptions,
  ) {
    this.info = { id, configUri: params.configUri, state: 'stopped' };
  }

  get snapshot(): ServerInfo {
    return { ...this.info };
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Resolves when the file watcher has scanned the folder (tests wait for it before touching files). */
  async watcherReady(): Promise<void> {
    await this.watcher?.ready;
  }

  start(params?: StartParams): Promise<ServerInfo> {
    return this.enqueue(async () => {
      // Start with the debugger on a server running without it (or the other way round) restarts it.
      const modeChanged = params !== undefined && !!params.debug !== !!this.params.debug;
      if (params) this.params = params;
      if (this.process && !this.process.hasExited && !params?.portOverride && !modeChanged)
        return this.snapshot;
      if (this.process && !this.process.hasExited) await this.stopProcess('restarting');
      this.userStopped = false;
      this.syncWatcher();
      return this.launch('starting');
    });
  }

  stop(): Promise<ServerInfo> {
    // A start still waiting for "ready" (a slow or hanging import) is cut short instead of making Stop wait
    // for the start timeout; a start queued behind it is skipped.
    // It escalates like any stop (SIGKILL after stopTimeout): a runtime stuck in an import may ignore SIGTERM.
    this.stopPending = true;
    if (this.launching && this.process && !this.process.hasExited)
      void this.process.stop(this.options.stopTimeoutMs());
    return this.enqueue(async () => {
      this.userStopped = true;
      await this.closeWatcher();
      if (this.process && !this.process.hasExited) await this.stopProcess('stopping');
      this.stopPending = false;
      // Nothing listens any more: no URL to open, no pid to show.
      this.update({
        state: 'stopped',
        error: undefined,
        url: undefined,
        host: undefined,
        port: undefined,
        pid: undefined,
        debugPort: undefined,
      });
      return this.snapshot;
    });
  }

  /** Restart on request: validate first; a broken config keeps the old server running and says why. */
  restart(reason = 'restart requested'): Promise<ServerInfo> {
    return this.enqueue(async () => {
      const problem = await this.options.validate(this.configPath, this.params.cwd);
      if (problem) {
        this.log('supervisor', `Not restarting (${reason}): ${problem.message}`);
        this.update({ error: problem });
        return this.snapshot;
      }
      this.userStopped = false;
      this.syncWatcher();
      if (this.process && !this.process.hasExited) {
        this.log('supervisor', `Restarting: ${reason}`);
        await this.stopProcess('restarting');
      }
      return this.launch('restarting');
    });
  }

  /** Auto-restart settings changed: the watcher follows at once (a user stop still keeps it off). */
  async updateOptions(autoRestart: boolean, autoRestartDelayMs: number): Promise<ServerInfo> {
    const changed =
      autoRestart !== this.params.autoRestart || autoRestartDelayMs !== this.params.autoRestartDelayMs;
    this.params = { ...this.params, autoRestart, autoRestartDelayMs };
    if (changed) {
      await this.closeWatcher();
      if (!this.userStopped) this.syncWatcher();
    }
    return this.snapshot;
  }

  setMetricsInterval(intervalMs: number): void {
    if (intervalMs === this.metricsIntervalMs) return;
    this.metricsIntervalMs = intervalMs;
    if (this.info.state === 'running') this.process?.setMetricsInterval(intervalMs);
  }

  setRequestsInterval(intervalMs: number): void {
    if (intervalMs === this.requestsIntervalMs) return;
    this.requestsIntervalMs = intervalMs;
    if (this.info.state === 'running') this.process?.setRequestsInterval(intervalMs);
  }

  /** One request's headers from the worker that ran it; null when it is no longer kept or nothing runs. */
  requestDetail(worker: number, thread: string, seq: number): Promise<RequestDetail | null> {
    const proc = this.process;
    if (this.info.state !== 'running' || !proc?.askRequestDetail(thread, seq, worker))
      return Promise.resolve(null);
    const key = `${worker}:${thread}:${seq}`;
    return new Promise((resolve) => {
      const answer = (detail: RequestDetail | null) => {
        clearTimeout(timer);
        resolve(detail);
      };
      const timer = setTimeout(() => {
        const left = (this.detailWaiters.get(key) ?? []).filter((w) => w !== answer);
        if (left.length) this.detailWaiters.set(key, left);
        else this.detailWaiters.delete(key);
        resolve(null);
      }, REQUEST_DETAIL_TIMEOUT_MS);
      this.detailWaiters.set(key, [...(this.detailWaiters.get(key) ?? []), answer]);
    });
  }

  private answerDetail(detail: RequestDetail): void {
    const key = `${detail.worker ?? 0}:${detail.thread}:${detail.seq}`;
    const waiters = this.detailWaiters.get(key) ?? [];
    this.detailWaiters.delete(key);
    for (const answer of waiters) answer(detail);
  }

  /** Graceful stop without state bookkeeping for a supervisor that is shutting down. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.closeWatcher();
    await this.process?.stop(this.options.stopTimeoutMs());
  }

  /** Synchronous kill for process exit. */
  kill(): void {
    this.disposed = true;
    this.process?.kill();
  }

  // ---- internals ----

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private update(patch: Partial<ServerInfo>): void {
    this.info = { ...this.info, ...patch };
    for (const key of Object.keys(patch) as (keyof ServerInfo)[]) {
      if (patch[key] === undefined) delete this.info[key];
    }
    this.options.onState(this.snapshot);
  }

  private log(stream: LogParams['stream'], ...lines: string[]): void {
    this.options.onLog({ id: this.id, stream, lines });
  }

  private syncWatcher(): void {
    if (this.params.autoRestart && !this.watcher && !this.disposed) {
      this.watcher = new DebouncedFileWatcher(
        this.params.cwd,
        this.configPath,
        this.params.autoRestartDelayMs,
        (files) => {
          if (this.userStopped || this.disposed) return;
          const names = files.map((f) => f.replace(this.params.cwd + '/', '')).join(', ');
          void this.restart(`changed: ${names}`);
        },
      );
    } else if (!this.params.autoRestart) {
      void this.closeWatcher();
    }
  }

  private async closeWatcher(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }

  private async stopProcess(state: ServerState): Promise<void> {
    const proc = this.process;
    if (!proc) return;
    this.update({ state });
    await proc.stop(this.options.stopTimeoutMs());
  }

  /** Validates, spawns and waits until the runtime says ready (or fails). Runs inside the queue. */
  private async launch(state: 'starting' | 'restarting'): Promise<ServerInfo> {
    if (this.stopPending) return this.snapshot;
    const carried = this.carriedError;
    this.carriedError = undefined;
    this.update({ state, error: undefined, url: undefined, pid: undefined, debugPort: undefined });
    const problem = await this.options.validate(this.configPath, this.params.cwd);
    if (problem) {
      this.update({ state: 'stopped', error: problem });
      return this.snapshot;
    }
    this.launching = true;
    const debugPort = this.params.debug ? await findFreePort('127.0.0.1') : undefined;
    const outcome = await this.spawnAndWait(debugPort).finally(() => (this.launching = false));
    if ('error' in outcome && this.stopPending) {
      this.update({ state: 'stopped', error: undefined, pid: undefined });
    } else if ('error' in outcome) {
      this.update({ state: 'stopped', error: outcome.error, pid: undefined });
    } else {
      const r = outcome.ready;
      // debugpy listens before the runtime's module runs, so it normally does by now; a debugger that does
      // not is said in the log, and the server is still reported running (it serves).
      if (debugPort !== undefined && !(await waitForListener(debugPort, DEBUG_LISTEN_TIMEOUT_MS)))
        this.log(
          'supervisor',
          `debugpy does not listen on 127.0.0.1:${debugPort}: see the stderr lines above.`,
        );
      this.update({
        debugPort,
        state: 'running',
        error: carried,
        url: r.url,
        host: r.host,
        port: r.port,
        pid: r.pid ?? this.process?.pid,
        python: this.params.pythonPath,
        pythonVersion: r.python,
        gil: r.gil,
        threads: r.threads,
        workers: r.workers,
      });
      if (this.metricsIntervalMs > 0) this.process?.setMetricsInterval(this.metricsIntervalMs);
      if (this.requestsIntervalMs > 0) this.process?.setRequestsInterval(this.requestsIntervalMs);
    }
    return this.snapshot;
  }

  /**
   * Spawns the runtime and resolves with its "ready" or with why it failed. A start that times out is
   * stopped (SIGTERM, SIGKILL after stopTimeout) and resolves only once its process group is gone, so the
   * port is free again when the state says stopped.
   */
  private spawnAndWait(debugPort: number | undefined): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      let reported: Promise<ServerError> | undefined;
      let timedOut: ServerError | undefined;
      const settle = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const proc: RuntimeProcess = new RuntimeProcess(
        {
          python: this.params.pythonPath,
          configPath: this.configPath,
          cwd: this.params.cwd,
          runtimePath: this.options.runtimePath,
          port: this.params.portOverride,
          debugPort,
        },
        {
          message: (msg: RuntimeMessage) => {
            if (msg.type === 'ready') {
              if (!timedOut) settle({ ready: msg });
            } else if (msg.type === 'error' && settled && msg.kind !== 'stage-died') {
              // A reload (SIGHUP) failed: the runtime keeps serving the old app and says why.
              void describeRuntimeError(msg, this.params.cwd, this.options.runtimePath).then((error) => {
                if (this.process === proc && this.info.state === 'running') this.update({ error });
              });
            } else if (msg.type === 'error') {
              reported = describeRuntimeError(msg, this.params.cwd, this.options.runtimePath);
            } else if (msg.type === 'metrics') {
              const { type: _type, ...snapshot } = msg;
              this.options.onMetrics({ ...snapshot, id: this.id });
            } else if (msg.type === 'requests') {
              const { type: _type, ...log } = msg;
              this.options.onRequests({ id: this.id, log });
            } else if (msg.type === 'requestDetail') {
              const { type: _type, ...detail } = msg;
              this.answerDetail(detail);
            } else if (msg.type === 'reloaded') {
              this.log('supervisor', 'Runtime reloaded the app.');
              if (this.info.error) this.update({ error: undefined });
            }
          },
          stdout: (lines) => this.log('access', ...lines),
          stderr: (lines) => this.log('stderr', ...lines),
          exit: (code, signal, spawnError) => {
            void this.onExit(proc, code, signal, spawnError, reported).then((error) => {
              if (!settled) settle({ error: timedOut ?? error });
            });
          },
        },
      );
      this.process = proc;
      const timer = setTimeout(() => {
        timedOut = {
          kind: 'other',
          message: `The server did not report ready within ${this.options.startTimeoutMs / 1000} s; stopped it.`,
        };
        void proc.stop(this.options.stopTimeoutMs());
      }, this.options.startTimeoutMs);
    });
  }

  /** Turns an exit into a ServerError and, when it was unexpected while running, into the crashed state. */
  private async onExit(
    proc: RuntimeProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError: Error | undefined,
    reported: Promise<ServerError> | undefined,
  ): Promise<ServerError> {
    const error = spawnError
      ? describeSpawnError(spawnError, this.params.pythonPath)
      : await describeExit(
          code,
          signal,
          proc.recentStderr(),
          await reported,
          this.params.cwd,
          this.options.runtimePath,
        );
    const wasCurrent = this.process === proc;
    const state = this.info.state;
    if (wasCurrent && state === 'running' && !this.disposed) {
      this.log('supervisor', `Server exited unexpectedly: ${error.message}`);
      const restart = error.kind === 'stage-died' && this.mayRestartAfterStageDeath();
      const note =
        error.kind !== 'stage-died'
          ? ''
          : restart
            ? '. Restarting it.'
            : `. Not restarted: it died ${STAGE_DEATH_RESTARTS} times within a minute (see the logs).`;
      this.update({
        state: 'crashed',
        error: {
          ...error,
          kind: error.kind === 'other' ? 'crashed' : error.kind,
          message: error.message + note,
        },
        pid: undefined,
      });
      if (restart) {
        // The restarted server keeps showing why it was restarted, until the user starts or stops it.
        this.carriedError = { ...error, message: `${error.message}; restarted at ${clockTime()}` };
        void this.restart(`the ${error.thread ?? 'pipeline'} thread died`);
      }
    }
    return error;
  }

  /** Counts a stage death; true while the automatic restarts of the last minute are within budget. */
  private mayRestartAfterStageDeath(): boolean {
    const now = Date.now();
    this.stageDeaths = this.stageDeaths.filter((t) => now - t < STAGE_DEATH_WINDOW_MS);
    this.stageDeaths.push(now);
    return !this.userStopped && this.stageDeaths.length <= STAGE_DEATH_RESTARTS;
  }
}
