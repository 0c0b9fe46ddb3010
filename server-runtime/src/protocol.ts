/**
 * The custom protocol between the extension (client) and the server-runtime process (language server +
 * supervisor), defined once and imported by both sides. Standard LSP (diagnostics, completion, ...) needs no
 * entry here; only the Server 3 specific requests and notifications do.
 *
 * Shapes of the metrics are the JSON lines the Python runtime writes on its control channel, generated from
 * its schema (control_schema.json -> contract.generated.ts): counters are cumulative since start; rates are
 * computed by whoever displays them, from two consecutive snapshots.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type * as Contract from './contract.generated';

export type RequestDetail = Contract.RequestDetail;
export type RequestLog = Contract.RequestLog;
export type RequestRecord = Contract.RequestRecord;
export type RouteStats = Contract.RouteStats;

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

// The metrics' shapes are the runtime's own (control_schema.json -> contract.generated.ts): one definition for
// the runtime, the supervisor and the views.
export type ThreadMetrics = Contract.ThreadMetrics;
export type LatencyHistogram = Contract.LatencyHistogram;

/** Fields of a snapshot the views read as optional (test fixtures and replays may leave them out). */
type OptionalSnapshotFields = 'python' | 'gil' | 'processCpuSeconds' | 'health';

/** One runtime snapshot (contract.generated.ts's RuntimeSnapshot), tagged with its server's id. */
export interface MetricsSnapshot
  extends
    Omit<Contract.RuntimeSnapshot, OptionalSnapshotFields>,
    Partial<Pick<Contract.RuntimeSnapshot, OptionalSnapshotFields>> {
  id: string;
}
export const MetricsNotification = new NotificationType<MetricsSnapshot[]>('server3/metrics');

/** One worker's request log of one server (RequestLog carries the worker index and pid). */
export interface RequestsUpdate {
  id: string;
  log: RequestLog;
}
export const RequestsNotification = new NotificationType<RequestsUpdate[]>('server3/requests');
