/**
 * The request logs the supervisor relays (server3/requests, one per worker of each server, only while the
 * Requests view or the metrics panel shows them): what the Requests view lists, the request panel opens
 * and the metrics panel's route table shows. Plain Node (no `vscode`), unit tested in
 * test/unit/requestsStore.test.ts.
 *
 * Bounded however long VS Code runs: each update replaces its worker's previous one (the runtime sends its
 * whole window every time), and every list is capped again here (RECENT_CAP, SLOWEST_CAP, ROUTES_CAP), so
 * a runtime that sent more could not grow the extension's memory either.
 */
import type { RequestLog, RequestRecord, RouteStats } from '../../server-runtime/src/protocol';

export const RECENT_CAP = 200;
export const SLOWEST_CAP = 20;
export const ROUTES_CAP = 200;
/** Servers whose logs are kept (a stopped server's log is dropped; this bounds many configs at once). */
export const SERVERS_CAP = 16;

/** One request of the log, with where it came from (thread + seq name it within one worker). */
export interface RequestEntry extends RequestRecord {
  serverId: string;
  worker: number;
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** What the Requests view shows: requests whose path or route contains `route`, of status class `status`. */
export interface RequestFilter {
  route?: string;
  status?: StatusClass;
}

/** One row of the metrics panel's route table (all workers of a server). */
export interface RouteRow {
  route: string;
  requests: number;
  errors5xx: number;
  /** errors5xx / requests, 0..1. */
  errorRate: number;
  /** The runtime's histogram bucket bounds; with several workers the highest of theirs (an upper bound). */
  p50Ms?: number;
  p99Ms?: number;
}

/** "/users 5xx", "4xx", "/api" -> a filter; undefined for an empty text (no filter). */
export function parseFilter(text: string): RequestFilter | undefined {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return undefined;
  const filter: RequestFilter = {};
  const route: string[] = [];
  for (const word of words) {
    if (/^[1-5]xx$/i.test(word)) filter.status = word.toLowerCase() as StatusClass;
    else route.push(word);
  }
  if (route.length) filter.route = route.join(' ');
  return filter;
}

export function describeFilter(filter: RequestFilter | undefined): string {
  if (!filter) return '';
  return [filter.route && `route contains "${filter.route}"`, filter.status].filter(Boolean).join(', ');
}

export function statusClass(status: number): StatusClass | undefined {
  const digit = Math.floor(status / 100);
  return digit >= 1 && digit <= 5 ? (`${digit}xx` as StatusClass) : undefined;
}

export function matches(entry: RequestRecord, filter: RequestFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.status && statusClass(entry.status) !== filter.status) return false;
  if (filter.route) {
    const needle = filter.route.toLowerCase();
    if (!entry.path.toLowerCase().includes(needle) && !entry.route.toLowerCase().includes(needle))
      return false;
  }
  return true;
}

/** The name of one request across the whole store. */
export function entryKey(entry: Pick<RequestEntry, 'serverId' | 'worker' | 'thread' | 'seq'>): string {
  return `${entry.serverId}|${entry.worker}|${entry.thread}|${entry.seq}`;
}

/** The route table of several workers' logs: counts added, percentiles the highest (bucket bounds cannot be
 * merged exactly without the histograms; the higher bound is the honest one), busiest first. */
export function mergeRoutes(tables: RouteStats[][]): RouteRow[] {
  const rows = new Map<string, RouteRow>();
  for (const table of tables) {
    for (const r of table.slice(0, ROUTES_CAP)) {
      const row = rows.get(r.route) ?? { route: r.route, requests: 0, errors5xx: 0, errorRate: 0 };
      row.requests += r.requests;
      row.errors5xx += r.errors5xx;
      row.p50Ms = maxOf(row.p50Ms, r.p50Ms ?? undefined);
      row.p99Ms = maxOf(row.p99Ms, r.p99Ms ?? undefined);
      rows.set(r.route, row);
    }
  }
  for (const row of rows.values()) row.errorRate = row.requests ? row.errors5xx / row.requests : 0;
  return [...rows.values()]
    .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
    .slice(0, ROUTES_CAP);
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

export class RequestsStore {
  /** serverId -> worker -> its latest log. */
  private readonly logs = new Map<string, Map<number, RequestLog>>();
  /** serverId -> worker -> what its latest log holds, as JSON without the log's own `time`. */
  private readonly contents = new Map<string, Map<number, string>>();
  private readonly listeners = new Set<(serverId: string) => void>();

  /**
   * Called with the server whose log changed (or was dropped). The runtime sends its whole window every
   * interval whether or not a request came in; a log that holds what the previous one held is not a change.
   * (Re-rendering the Requests view every second for nothing closed its hovers and could swallow a click
   * landing during the re-render.)
   */
  onDidUpdate(listener: (serverId: string) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  add(serverId: string, log: RequestLog): void {
    let workers = this.logs.get(serverId);
    if (!workers) {
      if (this.logs.size >= SERVERS_CAP) {
        const oldest = this.logs.keys().next().value;
        if (oldest !== undefined) {
          this.logs.delete(oldest);
          this.contents.delete(oldest);
        }
      }
      this.logs.set(serverId, (workers = new Map()));
    }
    // A worker that restarted (new pid) starts a new log; the previous one is replaced either way.
    const kept: RequestLog = {
      ...log,
      recent: log.recent.slice(-RECENT_CAP),
      slowest: log.slowest.slice(0, SLOWEST_CAP),
      routes: log.routes.slice(0, ROUTES_CAP),
    };
    workers.set(log.worker, kept);
    const content = JSON.stringify([kept.pid, kept.recent, kept.slowest, kept.routes]);
    let contents = this.contents.get(serverId);
    if (!contents) this.contents.set(serverId, (contents = new Map()));
    if (contents.get(log.worker) === content) return;
    contents.set(log.worker, content);
    this.fire(serverId);
  }

  /** Forget a server's requests (it stopped or restarted): stale entries must not linger in the views. */
  clear(serverId: string): void {
    this.contents.delete(serverId);
    if (this.logs.delete(serverId)) this.fire(serverId);
  }

  servers(): string[] {
    return [...this.logs.keys()];
  }

  /** Newest first, at most `limit`, of one server or of all. */
  recent(filter?: RequestFilter, serverId?: string, limit = RECENT_CAP): RequestEntry[] {
    return this.entries('recent', serverId)
      .filter((e) => matches(e, filter))
      .sort((a, b) => b.time - a.time)
      .slice(0, limit);
  }

  /** Slowest first (the slowest of the current minute, as the runtime keeps them). */
  slowest(filter?: RequestFilter, serverId?: string, limit = SLOWEST_CAP): RequestEntry[] {
    return this.entries('slowest', serverId)
      .filter((e) => matches(e, filter))
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, limit);
  }

  routes(serverId: string): RouteRow[] {
    return mergeRoutes([...(this.logs.get(serverId)?.values() ?? [])].map((log) => log.routes));
  }

  /** The entry with this key, if any list still holds it. */
  find(key: string): RequestEntry | undefined {
    const [serverId] = key.split('|');
    return [...this.entries('recent', serverId), ...this.entries('slowest', serverId)].find(
      (e) => entryKey(e) === key,
    );
  }

  /** How many records the store holds in all (for the bound's tests). */
  size(): number {
    let n = 0;
    for (const workers of this.logs.values())
      for (const log of workers.values()) n += log.recent.length + log.slowest.length + log.routes.length;
    return n;
  }

  private entries(list: 'recent' | 'slowest', serverId?: string): RequestEntry[] {
    const out: RequestEntry[] = [];
    for (const [id, workers] of this.logs) {
      if (serverId !== undefined && id !== serverId) continue;
      for (const log of workers.values())
        for (const record of log[list]) out.push({ ...record, serverId: id, worker: log.worker });
    }
    return out;
  }

  private fire(serverId: string): void {
    for (const listener of this.listeners) listener(serverId);
  }
}
