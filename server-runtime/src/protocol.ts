/**
 * The custom protocol between the extension (client) and the server-runtime process (language server +
 * supervisor), defined once and imported by both sides. Standard LSP (diagnostics, completion, ...) needs no
 * entry here; only the Server 3 specific requests and notifications do.
 *
 * Shapes of the metrics mirror the JSON lines the Python runtime writes on its control channel
 * (see server-runtime/python/Server_3_free_threads/metrics.py): counters are cumulative since start; rates are
 * computed by whoever displays them, from two consecutive snapshots.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { RequestDetail, RequestLog } from './contract.generated';

export type { RequestDetail, RequestLog, RequestRecord, RouteStats } from './contract.generated';

/** Life of one supervised Python server. */
export type ServerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' | 'restarting';

export interface ServerInfo {
  /** Stable id for the lifetime of the supervisor: one per config file (its URI). */
  id: string;
  configUri: string;
  state: ServerState;
  /** e.g. "http://127.0.0.1:8000" once listening. */
  url?: string;
  host?: string;
  port?: number;
  pid?: number;
  /** Names of the runtime's threads, from its ready message (e.g. ["accept", "read", "app-1", "close"]). */
  threads?: string[];
  workers?: number;
  /** Interpreter that runs it and its version, e.g. "/usr/bin/python3", "3.11.7". */
  python?: string;
  pythonVersion?: string;
  gil?: boolean;
  /** Started with the debugger ("Server 3: Start with Debugger"): debugpy listens on 127.0.0.1:debugPort. */
  debugPort?: number;
  /**
   * Last problem: why it crashed or why a start/restart failed. Also set while still `running` when an
   * auto-restart was refused (broken config): the old server keeps serving and this says why.
   */
  error?: ServerError;
}

export type ServerErrorKind =
  | 'config-invalid'
  | 'port-in-use'
  | 'app-import'
  | 'interpreter-missing'
  | 'interpreter-too-old'
  | 'crashed'
  /** A pipeline thread of the runtime died: it exited (code 5) instead of staying up without serving. */
  | 'stage-died'
  | 'unsupported-platform'
  | 'other';

export interface ServerError {
  kind: ServerErrorKind;
  message: string;
  /** Python traceback text, for app-import and crashes. */
  traceback?: string;
  /** Where to jump: the file and 1-based line named last in the traceback, or the config line. */
  file?: string;
  line?: number;
  /** For port-in-use: a free port the user may switch to. */
  suggestedPort?: number;
  /** For stage-died: the thread that died ("read", "app-2", ...). */
  thread?: string;
}

// ---- requests (client -> server) ----

export interface StartParams {
  /** URI of the config file. */
  configUri: string;
  /** Interpreter to run; the client resolves it (Python extension, setting, python3). */
  pythonPath: string;
  /** Working directory for the app: the config's workspace folder. */
  cwd: string;
  /** Restart automatically on changes of the config and the app's Python files. */
  autoRestart: boolean;
  autoRestartDelayMs: number;
  /** Override the config's PORT (used by "try another port"). */
  portOverride?: number;
  /**
   * Run under debugpy (`python -m debugpy --listen 127.0.0.1:<free port> -m Server_3_free_threads ...`): the
   * supervisor picks the port, waits until debugpy listens and reports it as ServerInfo.debugPort. The
   * interpreter must have debugpy (the extension checks and installs it, with consent, first).
   */
  debug?: boolean;
}
export const StartRequest = new RequestType<StartParams, ServerInfo, void>('server3/start');

export interface ServerIdParams {
  id: string;
}
export const StopRequest = new RequestType<ServerIdParams, ServerInfo, void>('server3/stop');
export const RestartRequest = new RequestType<ServerIdParams, ServerInfo, void>('server3/restart');
/** Settings that change while a server runs (the user toggled server3.autoRestart or its delay). */
export interface ServerOptionsParams {
  id: string;
  autoRestart: boolean;
  autoRestartDelayMs: number;
}
export const UpdateServerOptionsRequest = new RequestType<ServerOptionsParams, ServerInfo, void>(
  'server3/updateServerOptions',
);
export const ListServersRequest = new RequestType0<ServerInfo[], void>('server3/listServers');

/** Views subscribe while visible; an empty `ids` (or intervalMs 0) stops the metrics stream. */
export interface MetricsSubscriptionParams {
  ids: string[];
  intervalMs: number;
}
export const SetMetricsSubscriptionRequest = new RequestType<MetricsSubscriptionParams, void, void>(
  'server3/setMetricsSubscription',
);

/**
 * The request log streams like the metrics, only while a view shows it (the Requests view, the metrics
 * panel's route table): the same shape of subscription, its own stream.
 */
export const SetRequestsSubscriptionRequest = new RequestType<MetricsSubscriptionParams, void, void>(
  'server3/setRequestsSubscription',
);

/** One request of the log with its headers (redacted by the runtime); null when it is no longer kept. */
export interface RequestDetailParams {
  id: string;
  /** The worker whose log holds it (0 without WORKERS): thread + seq name a request within one worker. */
  worker: number;
  thread: string;
  seq: number;
}
export const RequestDetailRequest = new RequestType<RequestDetailParams, RequestDetail | null, void>(
  'server3/requestDetail',
);

/** Supervisor-side settings the client pushes on start and on change. */
export interface SupervisorSettings {
  stopTimeoutMs: number;
}
export const ConfigureSupervisorRequest = new RequestType<SupervisorSettings, void, void>(
  'server3/configure',
);

// ---- notifications (server -> client) ----

export const ServerStateNotification = new NotificationType<ServerInfo>('server3/state');

export interface LogParams {
  id: string;
  stream: 'stdout' | 'stderr' | 'access' | 'supervisor';
  lines: string[];
}
export const LogNotification = new NotificationType<LogParams>('server3/log');

export interface ThreadMetrics {
  /** e.g. "accept", "read", "app-1", "close". */
  name: string;
  role: 'accept' | 'read' | 'app' | 'close' | 'stats' | 'other';
  /** 'busy' while handling an item, 'waiting' while blocked on its queue/epoll; 'dead' if its loop failed. */
  state: 'busy' | 'waiting' | 'stopped' | 'dead';
  /** Items handled: connections accepted, requests parsed, responses sent, sockets closed. */
  items: number;
  busySeconds: number;
  waitSeconds: number;
  /** Depth of the queue this thread feeds (accept -> read, read -> app, app -> close). */
  queueDepth: number;
  errors: number;
  cpuSeconds: number;
}

export interface LatencyHistogram {
  /** Upper bounds in milliseconds; the last bucket is +Inf. */
  boundsMs: number[];
  counts: number[];
}

export interface MetricsTotals {
  connectionsOpen: number;
  connectionsAccepted: number;
  requests: number;
  status: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  bytesIn: number;
  bytesOut: number;
  latency: LatencyHistogram;
}

/** Whether every pipeline stage runs: 'failing' names the dead or stuck ones (also on STATS /health). */
export interface Health {
  status: 'ok' | 'failing';
  problems: string[];
}

export interface MetricsSnapshot {
  id: string;
  /** Seconds since the epoch, from the Python process. */
  time: number;
  uptimeSeconds: number;
  pid: number;
  /** One entry per process when WORKERS > 1; index 0 otherwise only. */
  worker: number;
  /** The interpreter's version, e.g. "3.13.5". */
  python?: string;
  /** Whether the GIL is on now (a free-threaded build turns it on when a non-free-threading-safe extension
   * module is imported, possibly long after startup). */
  gil?: boolean;
  /** CPU seconds of the whole process; per wall second above 1 means its threads ran in parallel. */
  processCpuSeconds?: number;
  health?: Health;
  threads: ThreadMetrics[];
  totals: MetricsTotals;
}
export const MetricsNotification = new NotificationType<MetricsSnapshot[]>('server3/metrics');

/** One worker's request log of one server (RequestLog carries the worker index and pid). */
export interface RequestsUpdate {
  id: string;
  log: RequestLog;
}
export const RequestsNotification = new NotificationType<RequestsUpdate[]>('server3/requests');
