/**
 * The latest live numbers of every server, computed from the relayed snapshots (one per worker process):
 * what the status bar, the tree and the panel read. Only the last point per worker is kept here; the panel
 * keeps its own bounded history.
 */
import * as vscode from 'vscode';
import type { MetricsSnapshot } from '../../server-runtime/src/protocol';
import type { ServerTotals } from '../webview/messages';
import { computeRates, type RatesPoint } from './metricsMath';

export interface ServerRates extends ServerTotals {
  /** One entry per worker process (usually one). */
  workers: RatesPoint[];
  /** Health problems of every worker ("worker 1: the read thread is stuck ..." with several). */
  problems: string[];
}

export class MetricsStore implements vscode.Disposable {
  private readonly previous = new Map<string, MetricsSnapshot>();
  private readonly latest = new Map<string, Map<number, RatesPoint>>();
  private readonly updated = new vscode.EventEmitter<RatesPoint>();
  /** Fires for every new point (one worker of one server). */
  readonly onDidUpdate = this.updated.event;

  add(snapshots: MetricsSnapshot[]): void {
    for (const snapshot of snapshots) {
      const key = `${snapshot.id}#${snapshot.worker}`;
      const point = computeRates(snapshot, this.previous.get(key));
      this.previous.set(key, snapshot);
      let workers = this.latest.get(snapshot.id);
      if (!workers) this.latest.set(snapshot.id, (workers = new Map()));
      workers.set(snapshot.worker, point);
      this.updated.fire(point);
    }
  }

  /** Forget a server's numbers (it stopped): stale rates must not linger in the views. */
  clear(id: string): void {
    this.latest.delete(id);
    for (const key of [...this.previous.keys()]) if (key.startsWith(`${id}#`)) this.previous.delete(key);
  }

  get(id: string): ServerRates | undefined {
    const workers = [...(this.latest.get(id)?.values() ?? [])].sort((a, b) => a.worker - b.worker);
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
      workers,
      cpuCores: workers.some((p) => p.cpuCores !== undefined) ? sum((p) => p.cpuCores ?? 0) : undefined,
      gil: workers.some((p) => p.gil === undefined) ? undefined : workers.some((p) => p.gil),
      python: workers[0].python,
      problems: workers.flatMap((p) =>
        p.problems.map((problem) => (workers.length > 1 ? `worker ${p.worker}: ${problem}` : problem)),
      ),
    };
  }

  dispose(): void {
    this.updated.dispose();
  }
}
