/**
 * The "Server 3: Live Metrics" webview panel (viewType `server3.metrics`, one instance): live charts of
 * requests/s, latency p50/p99 and per-thread busy %, themed with --vscode-* variables, strict CSP (no inline
 * or remote content; scripts only with the nonce), bounded history (300 points per server, in the webview).
 *
 * For UI tests, inside the webview frame (`iframe.webview` -> `iframe#active-frame`):
 *  - `#server-select` (aria-label "Server"): one option per server, value = config URI, text "<label> (<state>)";
 *  - `#server-state`: "<state> · <url>"; `#open-browser` button (enabled while running) runs server3.openBrowser;
 *  - `#server-python`: "Python <version> · GIL off" (or "GIL on") while running, from the latest snapshot;
 *  - `#empty` is shown (not hidden) while the selected server is not running;
 *  - `#charts` holds canvases `#chart-rps`, `#chart-latency`, `#chart-cpu`, `#chart-busy` (role img,
 *    aria-labels) and legends `#legend-latency`, `#legend-busy` (one `.legend-entry` per thread name);
 *    `#chart-cpu` is the process's CPU seconds per wall second (cores busy: above 1, threads ran in parallel);
 *  - `#summary` (aria-live): "<n> req/s · p50 <x> ms · p99 <y> ms · CPU <k> cores · <c> open connections ·
 *    <r> requests";
 *  - `#threads` table, body `#thread-rows`, one `tr[data-thread="<name>"]` per thread:
 *    name, state, items/s, busy %, queue depth.
 *  - `#routes` table (per route, from the request log, all workers), body `#route-rows`, one
 *    `tr[data-route="<route>"]` per route, busiest first: route, requests, p50 ms, p99 ms, error rate (5xx %);
 *    `#routes-empty` shows until the first request log arrives.
 * Metrics and the request log are requested only while the panel is visible.
 */
import * as vscode from 'vscode';
import { webviewPage } from './webviewPage';
import type { Ctx } from './ctx';
import type { FromWebview, PanelPoint, PanelServer, ToWebview } from '../webview/messages';
import { RingBuffer } from '../webview/ringBuffer';
import { THREAD_COLUMNS } from '../../server-runtime/src/contract.generated';
import { cellText } from './metricsMath';

/** Text for an HTML attribute or element. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const METRICS_VIEW_TYPE = 'server3.metrics';
/** Points kept per server: 300 points = 2.5 min at 500 ms; bounded however long the panel stays open. */
const HISTORY_POINTS = 300;
export const METRICS_PANEL_TITLE = 'Server 3: Live Metrics';

export class MetricsPanel implements vscode.Disposable {
  private static current: MetricsPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** What the charts showed, replayed when the webview is rebuilt (it is not kept alive while hidden). */
  private readonly history = new Map<string, RingBuffer<PanelPoint>>();

  /** Opens (or reveals) the panel, optionally on one server. */
  static show(ctx: Ctx, serverId?: string): void {
    if (MetricsPanel.current) {
      MetricsPanel.current.panel.reveal();
      if (serverId) MetricsPanel.current.postServers(serverId);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      METRICS_VIEW_TYPE,
      METRICS_PANEL_TITLE,
      vscode.ViewColumn.Beside,
      {
        enableScripts: true,
        retainContextWhenHidden: false,
        localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist')],
      },
    );
    MetricsPanel.current = new MetricsPanel(ctx, panel, serverId);
  }

  private constructor(
    private readonly ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
    private initialServer?: string,
  ) {
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState((e) => {
        ctx.subscription.setVisible('panel', e.webviewPanel.visible);
        ctx.requestsSubscription.setVisible('panel', e.webviewPanel.visible);
      }),
      panel.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message)),
      ctx.onDidChangeServers(() => this.postServers()),
      ctx.metrics.onDidUpdate((point) => this.postPoint(point.id)),
      ctx.requests.onDidUpdate((id) => this.postRoutes(id)),
    );
    ctx.subscription.setVisible('panel', panel.visible);
    ctx.requestsSubscription.setVisible('panel', panel.visible);
  }

  private onMessage(message: FromWebview): void {
    if (message.type === 'ready') {
      this.postServers(this.initialServer);
      this.initialServer = undefined;
      const points = [...this.history.values()].flatMap((ring) => ring.toArray());
      if (points.length) this.post({ type: 'history', points });
      for (const id of this.ctx.requests.servers()) this.postRoutes(id);
    } else if (message.type === 'openBrowser') {
      void vscode.commands.executeCommand('server3.openBrowser', message.id);
    }
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private postServers(select?: string): void {
    const servers: PanelServer[] = this.ctx.list().map((s) => ({
      id: s.id,
      label: this.ctx.label(s.id),
      state: s.state,
      url: s.url,
      python: s.pythonVersion,
      gil: s.gil,
    }));
    this.post({ type: 'servers', servers, select });
  }

  private postRoutes(id: string): void {
    this.post({ type: 'routes', id, routes: this.ctx.requests.routes(id) });
  }

  private postPoint(id: string): void {
    const rates = this.ctx.metrics.get(id);
    if (!rates) return;
    const { workers, ...totals } = rates;
    const multiWorker = workers.length > 1;
    const point: PanelPoint = {
      ...totals,
      id,
      threads: workers.flatMap((w) =>
        w.threads.map((t) => {
          const name = multiWorker ? `w${w.worker} ${t.name}` : t.name;
          const cells = THREAD_COLUMNS.map((c, i) => (c.field === 'name' ? name : cellText(c, t.shown[i])));
          return { name, busyPercent: t.busyPercent, cells };
        }),
      ),
    };
    let ring = this.history.get(id);
    if (!ring) this.history.set(id, (ring = new RingBuffer(HISTORY_POINTS)));
    if (ring.last()?.time === point.time) return; // already sent (several workers report the same tick)
    ring.push(point);
    this.post({ type: 'point', point });
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.ctx.extension.extensionUri, {
      script: 'webview.js',
      title: METRICS_PANEL_TITLE,
      body: `<header>
  <label for="server-select">Server</label>
  <select id="server-select" aria-label="Server"></select>
  <span id="server-state" role="status"></span>
  <span id="server-python"></span>
  <button id="open-browser" type="button" aria-label="Open in Browser">Open in Browser</button>
</header>
<p id="empty" class="hint">No server yet. Run "Server 3: Start" (F1) to start one.</p>
<div id="charts" hidden>
  <div id="summary" aria-live="polite"></div>
  <section class="chart" aria-labelledby="title-rps">
    <h2 id="title-rps">Requests per second</h2>
    <canvas id="chart-rps" role="img" aria-label="Requests per second over time"></canvas>
  </section>
  <section class="chart" aria-labelledby="title-latency">
    <h2 id="title-latency">Latency (ms)</h2>
    <div class="legend" id="legend-latency"></div>
    <canvas id="chart-latency" role="img" aria-label="Latency p50 and p99 over time"></canvas>
  </section>
  <section class="chart" aria-labelledby="title-cpu">
    <h2 id="title-cpu">CPU of the process (cores busy: above 1, threads run in parallel)</h2>
    <canvas id="chart-cpu" role="img" aria-label="CPU seconds per second of the server process over time"></canvas>
  </section>
  <section class="chart" aria-labelledby="title-busy">
    <h2 id="title-busy">Thread busy %</h2>
    <div class="legend" id="legend-busy"></div>
    <canvas id="chart-busy" role="img" aria-label="Busy percent of each thread over time"></canvas>
  </section>
  <table id="threads" aria-label="Threads">
    <thead><tr>${THREAD_COLUMNS.map((c) => `<th title="${escapeHtml(c.meaning)}">${escapeHtml(c.label)}</th>`).join('')}</tr></thead>
    <tbody id="thread-rows"></tbody>
  </table>
  <h2 id="title-routes">Routes</h2>
  <p id="routes-empty" class="hint">No requests yet (METRICS=off in the config turns the request log off).</p>
  <table id="routes" aria-labelledby="title-routes">
    <thead><tr><th>Route</th><th>Requests</th><th>p50</th><th>p99</th><th>Errors</th></tr></thead>
    <tbody id="route-rows"></tbody>
  </table>
</div>`,
    });
  }

  dispose(): void {
    MetricsPanel.current = undefined;
    this.ctx.subscription.setVisible('panel', false);
    this.ctx.requestsSubscription.setVisible('panel', false);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
