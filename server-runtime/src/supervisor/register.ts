/**
 * Wires the supervisor to the language-server connection: the custom requests of protocol.ts in, state, log
 * and metrics notifications out. Also makes sure no Python server outlives this process: on LSP shutdown they
 * stop gracefully, on exit (even an unexpected one) they are killed synchronously, and if this process is
 * SIGKILLed the runtimes see their control socket close and exit by themselves.
 */
import * as path from 'node:path';
import type { Connection, TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  ConfigureSupervisorRequest,
  ListServersRequest,
  LogNotification,
  MetricsNotification,
  RequestDetailRequest,
  RequestsNotification,
  RestartRequest,
  ServerStateNotification,
  SetMetricsSubscriptionRequest,
  SetRequestsSubscriptionRequest,
  StartRequest,
  StopRequest,
  UpdateServerOptionsRequest,
} from '../protocol';
import { LogRelay } from './logRelay';
import { Supervisor } from './supervisor';

export interface SupervisorHandle {
  /** Graceful stop of every server (on LSP shutdown). */
  stopAll(): Promise<void>;
  /** Immediate kill of every server (on exit): nothing may outlive the editor. */
  killAll(): void;
}

/**
 * Where the Python package lives: next to the bundle in the .vsix (dist/languageServer.js -> ../server-runtime/python),
 * or from the compiled tree in tests (out/server-runtime/src/supervisor -> ../../../../server-runtime/python).
 * SERVER3_RUNTIME_PATH overrides both.
 */
export function defaultRuntimePath(): string {
  if (process.env.SERVER3_RUNTIME_PATH) return process.env.SERVER3_RUNTIME_PATH;
  const fromBundle = path.resolve(__dirname, '..', 'server-runtime', 'python');
  const fromOut = path.resolve(__dirname, '..', '..', '..', '..', 'server-runtime', 'python');
  return path.basename(path.dirname(__dirname)) === 'src' ? fromOut : fromBundle;
}

export function registerSupervisor(
  connection: Connection,
  _documents: TextDocuments<TextDocument>,
): SupervisorHandle {
  const logs = new LogRelay((log) => void connection.sendNotification(LogNotification, log));
  const supervisor = new Supervisor({
    runtimePath: defaultRuntimePath(),
    events: {
      state: (info) => void connection.sendNotification(ServerStateNotification, info),
      log: (log) => logs.push(log),
      metrics: (snapshots) => void connection.sendNotification(MetricsNotification, snapshots),
      requests: (updates) => void connection.sendNotification(RequestsNotification, updates),
    },
  });

  connection.onRequest(StartRequest, (params) => supervisor.start(params));
  connection.onRequest(StopRequest, ({ id }) => supervisor.stop(id));
  connection.onRequest(RestartRequest, ({ id }) => supervisor.restart(id));
  connection.onRequest(UpdateServerOptionsRequest, (params) => supervisor.updateOptions(params));
  connection.onRequest(ListServersRequest, () => supervisor.list());
  connection.onRequest(SetMetricsSubscriptionRequest, (params) => supervisor.setMetricsSubscription(params));
  connection.onRequest(SetRequestsSubscriptionRequest, (params) =>
    supervisor.setRequestsSubscription(params),
  );
  connection.onRequest(RequestDetailRequest, (params) => supervisor.requestDetail(params));
  connection.onRequest(ConfigureSupervisorRequest, (settings) => supervisor.configure(settings));

  // Last line of defence: whatever way this process exits, take the Python servers with it.
  process.once('exit', () => supervisor.killAll());
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      supervisor.killAll();
      process.exit(0);
    });
  }

  return { stopAll: () => supervisor.stopAll(), killAll: () => supervisor.killAll() };
}
