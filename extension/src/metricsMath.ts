/**
 * Pure arithmetic on metrics snapshots (no vscode import, so unit tests and the webview can use it):
 * snapshots carry cumulative counters, views want rates over the last interval and latency percentiles.
 */
import { THREAD_COLUMNS, type ThreadColumn } from '../../server-runtime/src/contract.generated';
import type { LatencyHistogram, MetricsSnapshot, ThreadMetrics } from '../../server-runtime/src/protocol';
import type { ServerTotals } from '../webview/messages';

/**
 * A thread as the views show it: its snapshot's fields (the schema's, contract.generated.ts) and, per column
 * of the schema's `views.thread` (THREAD_COLUMNS, same order), the value shown over the last interval.
 */
export interface ThreadRates extends ThreadMetrics {
  /** Per column of THREAD_COLUMNS: the field's value, its rate per second, or its share of the interval (%). */
  shown: (string | number)[];
  itemsPerSec: number;
  /** Share of the interval the thread spent busy, 0-100 (the busy chart). */
  busyPercent: number;
}

/** A column's value for one thread, as its `show` says, over `dt` seconds since `before`. */
export function shownValue(
  column: ThreadColumn,
  now: ThreadMetrics,
  before: ThreadMetrics | undefined,
  dt: number,
): string | number {
  const value = now[column.field];
  if (column.show === 'value' || typeof value !== 'number') return value;
  const was = before?.[column.field];
  const perSecond = Math.max(0, value - (typeof was === 'number' ? was : 0)) / dt;
  return column.show === 'ratePerSecond' ? perSecond : Math.min(100, 100 * perSecond);
}

/** Units written after a number (counts such as items are said by the column's name instead). */
const SUFFIXED_UNITS = new Set(['s', 'ms', 'bytes']);

/** A column's value in a table cell under the column's label (the metrics panel). */
export function cellText(column: ThreadColumn, value: string | number): string {
  if (typeof value === 'string') return value;
  if (column.show === 'ratePerSecond') return formatRate(value);
  if (column.show === 'percentOfInterval') return `${value.toFixed(0)}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** A column's value in a line of text, saying what it is: "12/s", "40% busy", "queue 3", "cpu 0.52 s". */
export function phraseText(column: ThreadColumn, value: string | number): string {
  if (typeof value === 'string') return value;
  const name = column.label.toLowerCase();
  if (column.show === 'ratePerSecond') return `${formatRate(value)}/s`;
  if (column.show === 'percentOfInterval') return `${value.toFixed(0)}% ${name}`;
  const unit = column.unit && SUFFIXED_UNITS.has(column.unit) ? ` ${column.unit}` : '';
  return `${name} ${cellText(column, value)}${unit}`;
}

/** One point of a server's live view, computed from two consecutive snapshots of the same process. */
export interface RatesPoint {
  id: string;
  /** Seconds since the epoch (runtime clock). */
  time: number;
  worker: number;
  pid: number;
  uptimeSeconds: number;
  requestsPerSec: number;
  /** Over the requests of the interval; undefined when none completed. */
  p50Ms?: number;
  p99Ms?: number;
  connectionsOpen: number;
  requests: number;
  errors5xx: number;
  /** What the runtime's health check found wrong (a dead or stuck stage); empty when healthy. */
  problems: string[];
  /** Process CPU seconds per wall second over the interval: above 1, its threads ran in parallel. */
  cpuCores?: number;
  /** The GIL's state in the last snapshot (undefined from a runtime that does not say). */
  gil?: boolean;
  python?: string;
  threads: ThreadRates[];
}

/** Upper bound (ms) of the bucket holding the q-quantile; the +Inf bucket reports the last finite bound. */
export function percentileMs(hist: LatencyHistogram, q: number): number | undefined {
  const total = hist.counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < hist.counts.length; i++) {
    seen += hist.counts[i];
    if (seen >= rank) return hist.boundsMs[Math.min(i, hist.boundsMs.length - 1)];
  }
  return hist.boundsMs.at(-1);
}

/** Bucket-wise difference of two cumulative histograms (the requests of one interval). */
export function histogramDelta(current: LatencyHistogram, previous?: LatencyHistogram): LatencyHistogram {
  if (!previous || previous.counts.length !== current.counts.length) return current;
  return {
    boundsMs: current.boundsMs,
    counts: current.counts.map((c, i) => Math.max(0, c - previous.counts[i])),
  };
}

/**
 * Rates between `previous` and `current`. Without a usable previous (first snapshot, or the process was
 * restarted so counters went back to zero) the rates are averages since the process started.
 */
export function computeRates(current: MetricsSnapshot, previous?: MetricsSnapshot): RatesPoint {
  const usable = previous && previous.pid === current.pid && current.time > previous.time;
  const dt = usable ? current.time - previous.time : Math.max(current.uptimeSeconds, 1e-3);
  const prevThreads = new Map((usable ? previous.threads : []).map((t) => [t.name, t]));
  const rate = (now: number, before: number) => Math.max(0, now - before) / dt;
  const latency = histogramDelta(current.totals.latency, usable ? previous.totals.latency : undefined);
  return {
    id: current.id,
    time: current.time,
    worker: current.worker,
    pid: current.pid,
    uptimeSeconds: current.uptimeSeconds,
    requestsPerSec: rate(current.totals.requests, usable ? previous.totals.requests : 0),
    p50Ms: percentileMs(latency, 0.5),
    p99Ms: percentileMs(latency, 0.99),
    connectionsOpen: current.totals.connectionsOpen,
    requests: current.totals.requests,
    errors5xx: current.totals.status['5xx'],
    problems: current.health?.status === 'failing' ? current.health.problems : [],
    cpuCores:
      current.processCpuSeconds === undefined
        ? undefined
        : rate(current.processCpuSeconds, usable ? (previous.processCpuSeconds ?? 0) : 0),
    gil: current.gil,
    python: current.python,
    threads: current.threads.map((t) => {
      const before = prevThreads.get(t.name);
      return {
        ...t,
        shown: THREAD_COLUMNS.map((column) => shownValue(column, t, before, dt)),
        itemsPerSec: rate(t.items, before?.items ?? 0),
        busyPercent: Math.min(100, 100 * rate(t.busySeconds, before?.busySeconds ?? 0)),
      };
    }),
  };
}

/** "1.45 cores" / "0.30 cores": process CPU per wall second, for the tree, the tooltip and the panel. */
export function formatCores(cores: number | undefined): string {
  return cores === undefined ? '–' : `${cores.toFixed(2)} cores`;
}

/** "GIL off" / "GIL on" / "" (unknown), as the views show a server's GIL state. */
export function gilText(gil: boolean | undefined): string {
  return gil === undefined ? '' : gil ? 'GIL on' : 'GIL off';
}

export interface ServerRates extends ServerTotals {
  /** One entry per worker process (usually one), by worker number. */
  workers: RatesPoint[];
  /** Health problems of every worker ("worker 1: the read thread is stuck ..." with several). */
  problems: string[];
}

/**
 * The latest point of every worker of every server, each computed against that same worker's previous
 * snapshot (workers of one server are separate processes with their own counters). MetricsStore wraps it
 * with the editor's change events.
 */
export class RatesTracker {
  private readonly previous = new Map<string, Map<number, MetricsSnapshot>>();
  private readonly latest = new Map<string, Map<number, RatesPoint>>();

  /** Adds one snapshot and returns the point computed from it. */
  add(snapshot: MetricsSnapshot): RatesPoint {
    const previous = mapOf(this.previous, snapshot.id);
    const point = computeRates(snapshot, previous.get(snapshot.worker));
    previous.set(snapshot.worker, snapshot);
    mapOf(this.latest, snapshot.id).set(snapshot.worker, point);
    return point;
  }

  /** Forget a server's numbers (it stopped): stale rates must not linger in the views. */
  clear(id: string): void {
    this.previous.delete(id);
    this.latest.delete(id);
  }

  /** The server's totals over its workers, or undefined before its first snapshot. */
  get(id: string): ServerRates | undefined {
    return serverRates(id, [...(this.latest.get(id)?.values() ?? [])]);
  }
}

function mapOf<V>(maps: Map<string, Map<number, V>>, id: string): Map<number, V> {
  let map = maps.get(id);
  if (!map) maps.set(id, (map = new Map()));
  return map;
}

/** Totals of one server over its workers' latest points: rates and counts add up, percentiles do not. */
export function serverRates(id: string, points: RatesPoint[]): ServerRates | undefined {
  const workers = [...points].sort((a, b) => a.worker - b.worker);
  if (!workers.length) return undefined;
  const sum = (pick: (p: RatesPoint) => number) => workers.reduce((total, p) => total + pick(p), 0);
  const max = (pick: (p: RatesPoint) => number | undefined) => {
    const values = workers.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? Math.max(...values) : undefined;
  };
  return {
    id,
    time: Math.max(...workers.map((p) => p.time)),
    requestsPerSec: sum((p) => p.requestsPerSec),
    // Across workers the exact percentile is unknown; the slowest worker's is the honest upper bound.
    p50Ms: max((p) => p.p50Ms),
    p99Ms: max((p) => p.p99Ms),
    connectionsOpen: sum((p) => p.connectionsOpen),
    requests: sum((p) => p.requests),
    cpuCores: workers.some((p) => p.cpuCores !== undefined) ? sum((p) => p.cpuCores ?? 0) : undefined,
    gil: workers.some((p) => p.gil === undefined) ? undefined : workers.some((p) => p.gil),
    python: workers[0].python,
    workers,
    problems: workers.flatMap((p) =>
      p.problems.map((problem) => (workers.length > 1 ? `worker ${p.worker}: ${problem}` : problem)),
    ),
  };
}

/** Short human numbers for narrow places (status bar, tree descriptions). */
export function formatRate(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 10) return value.toFixed(0);
  return value.toFixed(1);
}
