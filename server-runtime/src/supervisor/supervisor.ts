/**
 * The supervisor: every Python server this process runs, keyed by config file. Plain Node, no LSP in here,
 * so tests drive it directly; register.ts connects it to the language-server connection.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  LogParams,
  MetricsSnapshot,
  MetricsSubscriptionParams,
  RequestDetail,
  RequestDetailParams,
  RequestsUpdate,
  ServerError,
  ServerInfo,
  ServerOptionsParams,
  StartParams,
  SupervisorSettings,
} from '../protocol';
import { ManagedServer } from './managedServer';
import { validateConfigFile } from './validateConfig';

export interface SupervisorEvents {
  state(info: ServerInfo): void;
  log(log: LogParams): void;
  metrics(snapshots: MetricsSnapshot[]): void;
  requests(updates: RequestsUpdate[]): void;
}

export interface SupervisorOptions {
  /** Folder holding the Server_3_free_threads package (prepended to PYTHONPATH of every runtime). */
  runtimePath: string;
  events: SupervisorEvents;
  /** Validates a config file before anything runs; undefined = valid. Default: the config language's validator. */
  validate?: (configPath: string) => Promise<ServerError | undefined>;
  stopTimeoutMs?: number;
  startTimeoutMs?: number;
}

/** Config URIs from the client are file: URIs; tests may pass plain paths. */
export function configPathOf(configUri: string): string {
  return configUri.startsWith('file:') ? fileURLToPath(configUri) : path.resolve(configUri);
}

export class Supervisor {
  private readonly servers = new Map<string, ManagedServer>();
  private settings: SupervisorSettings;
  private subscription: MetricsSubscriptionParams = { ids: [], intervalMs: 0 };
  private requestsSubscription: MetricsSubscriptionParams = { ids: [], intervalMs: 0 };

  constructor(private readonly options: SupervisorOptions) {
    this.settings = { stopTimeoutMs: options.stopTimeoutMs ?? 5000 };
  }

  configure(settings: SupervisorSettings): void {
    this.settings = { ...this.settings, ...settings };
  }

  start(params: StartParams): Promise<ServerInfo> {
    const id = params.configUri;
    let server = this.servers.get(id);
    if (!server) {
      server = new ManagedServer(id, configPathOf(params.configUri), params, {
        runtimePath: this.options.runtimePath,
        stopTimeoutMs: () => this.settings.stopTimeoutMs,
        startTimeoutMs: this.options.startTimeoutMs ?? 20_000,
        validate: this.options.validate ?? validateConfigFile,
        onState: (info) => this.options.events.state(info),
        onLog: (log) => this.options.events.log(log),
        onMetrics: (snapshot) => this.options.events.metrics([snapshot]),
        onRequests: (update) => this.options.events.requests([update]),
      });
      this.servers.set(id, server);
      server.setMetricsInterval(this.intervalFor(id));
      server.setRequestsInterval(this.intervalFor(id, this.requestsSubscription));
    }
    return server.start(params);
  }

  stop(id: string): Promise<ServerInfo> {
    return this.require(id).stop();
  }

  restart(id: string): Promise<ServerInfo> {
    return this.require(id).restart();
  }

  updateOptions(params: ServerOptionsParams): Promise<ServerInfo> {
    return this.require(params.id).updateOptions(params.autoRestart, params.autoRestartDelayMs);
  }

  list(): ServerInfo[] {
    return [...this.servers.values()].map((s) => s.snapshot);
  }

  /** Only the servers some visible view wants stream metrics; all others are told intervalMs 0. */
  setMetricsSubscription(params: MetricsSubscriptionParams): void {
    this.subscription = { ids: [...params.ids], intervalMs: Math.max(0, params.intervalMs) };
    for (const [id, server] of this.servers) server.setMetricsInterval(this.intervalFor(id));
  }

  /** The request log streams like the metrics: only for the servers a visible view shows. */
  setRequestsSubscription(params: MetricsSubscriptionParams): void {
    this.requestsSubscription = { ids: [...params.ids], intervalMs: Math.max(0, params.intervalMs) };
    for (const [id, server] of this.servers)
      server.setRequestsInterval(this.intervalFor(id, this.requestsSubscription));
  }

  /** One request with its (redacted) headers; null when the server or the request is gone. */
  requestDetail(params: RequestDetailParams): Promise<RequestDetail | null> {
    const server = this.servers.get(params.id);
    return server ? server.requestDetail(params.worker, params.thread, params.seq) : Promise.resolve(null);
  }

  /** The server object itself, for tests (pid, watcher readiness). */
  get(id: string): ManagedServer | undefined {
    return this.servers.get(id);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.dispose()));
  }

  killAll(): void {
    for (const server of this.servers.values()) server.kill();
  }

  private intervalFor(id: string, subscription = this.subscription): number {
    return subscription.ids.includes(id) ? subscription.intervalMs : 0;
  }

  private require(id: string): ManagedServer {
    const server = this.servers.get(id);
    if (!server) throw new Error(`No server was started for ${id}. Run "Server 3: Start" first.`);
    return server;
  }
}
