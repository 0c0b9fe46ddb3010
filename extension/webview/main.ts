/**
 * The metrics panel's browser script (bundled to dist/webview.js). Receives servers and aggregated points from
 * metricsPanel.ts, keeps the last HISTORY points per server in ring buffers, and draws three live charts
 * (requests/s, latency p50/p99, per-thread busy %) plus a table of the threads. DOM ids are listed at the
 * top of extension/src/metricsPanel.ts.
 */
import { LineChart, paletteColor, type Series } from './lineChart';
import type { FromWebview, PanelPoint, PanelServer, ToWebview } from './messages';
import type { RouteRow } from '../src/requestsStore';
import { RingBuffer } from './ringBuffer';

declare function acquireVsCodeApi(): {
  postMessage(message: FromWebview): void;
  getState(): { selected?: string } | undefined;
  setState(state: { selected?: string }): void;
};

const HISTORY = 300;
const vscode = acquireVsCodeApi();
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const select = byId<HTMLSelectElement>('server-select');
const stateLabel = byId<HTMLSpanElement>('server-state');
const pythonLabel = byId<HTMLSpanElement>('server-python');
const openButton = byId<HTMLButtonElement>('open-browser');
const empty = byId<HTMLParagraphElement>('empty');
const charts = byId<HTMLDivElement>('charts');
const summary = byId<HTMLDivElement>('summary');
const threadRows = byId<HTMLTableSectionElement>('thread-rows');
const routeRows = byId<HTMLTableSectionElement>('route-rows');
const routesEmpty = byId<HTMLParagraphElement>('routes-empty');
const latencyLegend = byId<HTMLDivElement>('legend-latency');
const busyLegend = byId<HTMLDivElement>('legend-busy');
const rpsChart = new LineChart(byId<HTMLCanvasElement>('chart-rps'), '');
const latencyChart = new LineChart(byId<HTMLCanvasElement>('chart-latency'), 'ms');
const busyChart = new LineChart(byId<HTMLCanvasElement>('chart-busy'), '%', 100);
const cpuChart = new LineChart(byId<HTMLCanvasElement>('chart-cpu'), '', undefined, 1);

const history = new Map<string, RingBuffer<PanelPoint>>();
const routes = new Map<string, RouteRow[]>();
let servers: PanelServer[] = [];
let selected: string | undefined = vscode.getState()?.selected;
let drawPending = false;
/** What the route table shows now (see renderRoutes). */
let shownRoutes = '';

function legend(element: HTMLElement, names: string[]): void {
  // Rebuilt only when the thread names change, not on every frame.
  const key = names.join('\n');
  if (element.dataset.names === key) return;
  element.dataset.names = key;
  element.replaceChildren(
    ...names.map((name, i) => {
      const entry = document.createElement('span');
      entry.className = 'legend-entry';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.setProperty('--swatch', paletteColor(i));
      entry.append(swatch, document.createTextNode(name));
      return entry;
    }),
  );
}

function renderServers(): void {
  select.replaceChildren(
    ...servers.map((s) => {
      const option = document.createElement('option');
      option.value = s.id;
      option.textContent = `${s.label} (${s.state})`;
      return option;
    }),
  );
  if (!servers.some((s) => s.id === selected))
    selected = (servers.find((s) => s.state === 'running') ?? servers[0])?.id;
  if (selected) select.value = selected;
  const current = servers.find((s) => s.id === selected);
  stateLabel.textContent = current ? `${current.state}${current.url ? ` · ${current.url}` : ''}` : '';
  const running = current?.state === 'running';
  if (!running) pythonLabel.textContent = '';
  openButton.disabled = !running;
  empty.hidden = running;
  empty.textContent = current
    ? `${current.label} is ${current.state}. Live numbers appear while it runs.`
    : 'No server yet. Run "Server 3: Start" (F1) to start one.';
  charts.hidden = !running;
  renderRoutes();
  scheduleDraw();
}

function scheduleDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function draw(): void {
  const points = selected ? (history.get(selected)?.toArray() ?? []) : [];
  if (!points.length || charts.hidden) return;
  const times = points.map((p) => p.time);
  const windowSeconds = Math.max(60, times[times.length - 1] - times[0]);
  rpsChart.draw(
    times,
    [{ name: 'requests/s', color: paletteColor(0), values: points.map((p) => p.requestsPerSec) }],
    windowSeconds,
  );
  latencyChart.draw(
    times,
    [
      { name: 'p50', color: paletteColor(0), values: points.map((p) => p.p50Ms) },
      { name: 'p99', color: paletteColor(1), values: points.map((p) => p.p99Ms) },
    ],
    windowSeconds,
  );
  cpuChart.draw(
    times,
    [{ name: 'CPU cores', color: paletteColor(2), values: points.map((p) => p.cpuCores) }],
    windowSeconds,
  );
  const last = points[points.length - 1];
  const current = servers.find((s) => s.id === selected);
  const gil = last.gil ?? current?.gil;
  const python = last.python ?? current?.python;
  pythonLabel.textContent = python
    ? `Python ${python}${gil === undefined ? '' : gil ? ' · GIL on' : ' · GIL off'}`
    : '';
  const threadNames = last.threads.map((t) => t.name);
  const busySeries: Series[] = threadNames.map((name, i) => ({
    name,
    color: paletteColor(i),
    values: points.map((p) => p.threads.find((t) => t.name === name)?.busyPercent),
  }));
  busyChart.draw(times, busySeries, windowSeconds);
  legend(busyLegend, threadNames);
  renderTable(last);
  const ms = (v?: number) => (v === undefined ? '–' : `${v} ms`);
  const cores = last.cpuCores === undefined ? '' : ` · CPU ${last.cpuCores.toFixed(2)} cores`;
  summary.textContent = `${last.requestsPerSec.toFixed(1)} req/s · p50 ${ms(last.p50Ms)} · p99 ${ms(last.p99Ms)}${cores} · ${last.connectionsOpen} open connections · ${last.requests} requests`;
}

function renderTable(point: PanelPoint): void {
  threadRows.replaceChildren(
    ...point.threads.map((t) => {
      const row = document.createElement('tr');
      row.dataset.thread = t.name;
      for (const text of t.cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

function renderRoutes(): void {
  const rows = (selected && routes.get(selected)) || [];
  // The same table again (the log moved, its routes did not): keep the rows, and with them what the user
  // selected or hovers in them.
  const shown = JSON.stringify([selected, rows]);
  if (shown === shownRoutes) return;
  shownRoutes = shown;
  routesEmpty.hidden = rows.length > 0;
  const ms = (v?: number | null) => (v === undefined || v === null ? '–' : `${v} ms`);
  routeRows.replaceChildren(
    ...rows.map((r) => {
      const row = document.createElement('tr');
      row.dataset.route = r.route;
      for (const text of [
        r.route,
        String(r.requests),
        ms(r.p50Ms),
        ms(r.p99Ms),
        `${(r.errorRate * 100).toFixed(r.errorRate > 0 && r.errorRate < 0.1 ? 1 : 0)}%`,
      ]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

function addPoint(point: PanelPoint): void {
  let buffer = history.get(point.id);
  if (!buffer) history.set(point.id, (buffer = new RingBuffer(HISTORY)));
  buffer.push(point);
  if (point.id === selected) scheduleDraw();
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message.type === 'servers') {
    servers = message.servers;
    if (message.select) selected = message.select;
    for (const id of history.keys()) if (!servers.some((s) => s.id === id)) history.delete(id);
    renderServers();
  } else if (message.type === 'point') {
    addPoint(message.point);
  } else if (message.type === 'history') {
    for (const point of message.points) addPoint(point);
  } else if (message.type === 'routes') {
    routes.set(message.id, message.routes);
    if (message.id === selected) renderRoutes();
  }
});

openButton.addEventListener('click', () => {
  if (selected) vscode.postMessage({ type: 'openBrowser', id: selected });
});
select.addEventListener('change', () => {
  selected = select.value;
  vscode.setState({ selected });
  renderServers();
});
new ResizeObserver(() => scheduleDraw()).observe(document.body);
legend(latencyLegend, ['p50', 'p99']);
vscode.postMessage({ type: 'ready' });
