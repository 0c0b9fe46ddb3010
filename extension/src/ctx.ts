/**
 * The extension's shared state, handed to every command and view: settings, the output channel, the language
 * client (started on demand and restarted when it died), the servers the supervisor reports and their live
 * metrics. Commands work while the language server is down: `client()` brings it (back) up.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import {
  ConfigureSupervisorRequest,
  ListServersRequest,
  LogNotification,
  MetricsNotification,
  RequestDetailRequest,
  RequestsNotification,
  ServerStateNotification,
  SetMetricsSubscriptionRequest,
  SetRequestsSubscriptionRequest,
  UpdateServerOptionsRequest,
  type MetricsSubscriptionParams,
  type RequestDetail,
  type RequestDetailParams,
  type ServerInfo,
} from '../../server-runtime/src/protocol';
import { createClient } from './client';
import { FixNotices } from './fixNotices';
import { Settings } from './settings';
import { MetricsStore } from './metricsStore';
import { MetricsSubscription } from './metricsSubscription';
import { Output } from './output';
import { RequestsStore } from './requestsStore';

export class Ctx implements vscode.Disposable {
  readonly settings = new Settings();
  readonly output = new Output();
  readonly metrics = new MetricsStore();
  readonly subscription: MetricsSubscription;
  /** The request log (Requests view, request panel, the metrics panel's route table). */
  readonly requests = new RequestsStore();
  /** Its stream, subscribed like the metrics: 'tree' is the Requests view, 'panel' the metrics panel. */
  readonly requestsSubscription: MetricsSubscription;
  /** "Fix it and save" notices, closed when their cause is fixed (fixNotices.ts). */
  readonly notices: FixNotices;
  private readonly servers = new Map<string, ServerInfo>();
  private readonly serversChanged = new vscode.EventEmitter<ServerInfo | undefined>();
  /** Fires with the changed server, or undefined when the whole list was reloaded. */
  readonly onDidChangeServers = this.serversChanged.event;
  private languageClient: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Servers a command is waiting on: that command reports the outcome, the state notifier stays quiet. */
  private readonly busy = new Map<string, number>();

  constructor(readonly extension: vscode.ExtensionContext) {
    const sender =
      (type: typeof SetMetricsSubscriptionRequest | typeof SetRequestsSubscriptionRequest) =>
      async (params: MetricsSubscriptionParams) => {
        if (this.languageClient?.isRunning()) await this.languageClient.sendRequest(type, params);
        else throw new Error('language server not running');
      };
    this.subscription = new MetricsSubscription(
      () => this.settings.metricsIntervalMs,
      sender(SetMetricsSubscriptionRequest),
    );
    // A request log holds up to 200 records per worker: once a second at most is plenty for a list.
    this.requestsSubscription = new MetricsSubscription(
      () => Math.max(1000, this.settings.metricsIntervalMs),
      sender(SetRequestsSubscriptionRequest),
    );
    this.notices = new FixNotices(this);
    this.disposables.push(
      this.notices,
      this.output,
      this.metrics,
      this.serversChanged,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('server3')) void this.pushSettings();
        if (e.affectsConfiguration('server3.metricsInterval')) {
          void this.subscription.resend();
          void this.requestsSubscription.resend();
        }
        if (
          e.affectsConfiguration('server3.autoRestart') ||
          e.affectsConfiguration('server3.autoRestartDelay')
        )
          void this.pushServerOptions();
      }),
    );
  }

  /** The running language client; starts it (again) if needed. */
  async client(): Promise<LanguageClient> {
    const current = this.languageClient;
    if (current?.isRunning()) return current;
    // The client restarts a crashed server by itself: wait for that instead of racing it.
    if (current?.state === State.Starting && (await runningWithin(current, 10_000))) return current;
    if (!this.starting) {
      this.starting = this.startClient().finally(() => (this.starting = undefined));
    }
    return this.starting;
  }

  private async startClient(): Promise<LanguageClient> {
    if (this.languageClient) await this.languageClient.dispose().catch(() => undefined);
    const client = createClient(this.extension);
    this.languageClient = client;
    client.onNotification(ServerStateNotification, (info) => this.setServer(info));
    client.onNotification(LogNotification, (log) =>
      this.output.appendLog(log, this.label(log.id), this.servers.size > 1),
    );
    client.onNotification(MetricsNotification, (snapshots) => this.metrics.add(snapshots));
    client.onNotification(RequestsNotification, (updates) => {
      for (const update of updates) this.requests.add(update.id, update.log);
    });
    let started = false;
    // After the client restarted a crashed language server, that new supervisor knows no servers (the old
    // one's Python processes died with it): resynchronise the views.
    client.onDidChangeState((e) => {
      if (started && e.newState === State.Running && client === this.languageClient) void this.resync(client);
    });
    await client.start();
    started = true;
    await this.resync(client);
    return client;
  }

  private async resync(client: LanguageClient): Promise<void> {
    await this.pushSettings();
    const list = await client.sendRequest(ListServersRequest);
    this.servers.clear();
    for (const info of list) this.servers.set(info.id, info);
    this.serversChanged.fire(undefined);
    this.subscription.setServers(this.runningIds());
    this.requestsSubscription.setServers(this.runningIds());
    await this.subscription.resend();
    await this.requestsSubscription.resend();
  }

  /** One request with its headers (redacted by the runtime); null when the server no longer keeps it. */
  async requestDetail(params: RequestDetailParams): Promise<RequestDetail | null> {
    const client = await this.client();
    return client.sendRequest(RequestDetailRequest, params);
  }

  private async pushSettings(): Promise<void> {
    if (this.languageClient?.isRunning())
      await this.languageClient.sendRequest(ConfigureSupervisorRequest, {
        stopTimeoutMs: this.settings.stopTimeoutMs,
      });
  }

  /** Auto-restart settings apply to running servers at once, each with the value of its own folder. */
  private async pushServerOptions(): Promise<void> {
    const client = this.languageClient;
    if (!client?.isRunning()) return;
    for (const server of this.list()) {
      const scope = vscode.Uri.parse(server.configUri);
      await client
        .sendRequest(UpdateServerOptionsRequest, {
          id: server.id,
          autoRestart: this.settings.autoRestart(scope),
          autoRestartDelayMs: this.settings.autoRestartDelayMs(scope),
        })
        .catch(() => undefined);
    }
  }

  /** Records a server's new state (from a notification or a request's answer). */
  setServer(info: ServerInfo): void {
    const before = this.servers.get(info.id);
    this.servers.set(info.id, info);
    if (info.state !== 'running') this.metrics.clear(info.id);
    // A restarted server's seq numbers start again: its old requests could be mistaken for new ones.
    if (info.state !== 'running' || (before?.pid !== undefined && before.pid !== info.pid))
      this.requests.clear(info.id);
    if (before?.state !== info.state) {
      this.subscription.setServers(this.runningIds());
      this.requestsSubscription.setServers(this.runningIds());
    }
    this.serversChanged.fire(info);
  }

  /** Runs `op` with server `id` marked busy (see stateNotifier.ts). */
  async whileBusy<T>(id: string, op: () => Thenable<T>): Promise<T> {
    this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
    try {
      return await op();
    } finally {
      const left = (this.busy.get(id) ?? 1) - 1;
      if (left > 0) this.busy.set(id, left);
      else this.busy.delete(id);
    }
  }

  isBusy(id: string): boolean {
    return this.busy.has(id);
  }

  list(): ServerInfo[] {
    return [...this.servers.values()].sort((a, b) => this.label(a.id).localeCompare(this.label(b.id)));
  }

  get(id: string): ServerInfo | undefined {
    return this.servers.get(id);
  }

  runningIds(): string[] {
    return this.list()
      .filter((s) => s.state === 'running')
      .map((s) => s.id);
  }

  /** A short name for a server: its config path relative to its workspace folder (with the folder if several). */
  label(id: string): string {
    const uri = vscode.Uri.parse(id);
    const folders = vscode.workspace.workspaceFolders ?? [];
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return path.basename(uri.fsPath);
    const relative = path.relative(folder.uri.fsPath, uri.fsPath);
    return folders.length > 1 ? `${folder.name}/${relative}` : relative;
  }

  async dispose(): Promise<void> {
    // stop() sends LSP shutdown: the supervisor stops every server gracefully before the process exits. It goes
    // first so the last log lines and state changes still find the output channel and views alive.
    await this.languageClient?.stop(8000).catch(() => undefined);
    for (const d of this.disposables) d.dispose();
  }
}

/** Resolves true once `client` is running, false after `timeoutMs` or if it stops instead. */
function runningWithin(client: LanguageClient, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const listener = client.onDidChangeState((e) => {
      if (e.newState === State.Running) done(true);
      else if (e.newState === State.Stopped) done(false);
    });
    function done(ok: boolean) {
      clearTimeout(timer);
      listener.dispose();
      resolve(ok);
    }
  });
}
