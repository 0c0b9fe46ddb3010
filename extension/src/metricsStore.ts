/**
 * The latest live numbers of every server, computed from the relayed snapshots (one per worker process):
 * what the status bar, the tree and the panel read. The arithmetic is RatesTracker's (metricsMath.ts, unit
 * tested in plain Node); this adds the editor's change event. Only the last point per worker is kept here;
 * the panel keeps its own bounded history.
 */
import * as vscode from 'vscode';
import type { MetricsSnapshot } from '../../server-runtime/src/protocol';
import { RatesTracker, type RatesPoint, type ServerRates } from './metricsMath';

export type { ServerRates } from './metricsMath';

export class MetricsStore implements vscode.Disposable {
  private readonly tracker = new RatesTracker();
  private readonly updated = new vscode.EventEmitter<RatesPoint>();
  /** Fires for every new point (one worker of one server). */
  readonly onDidUpdate = this.updated.event;

  add(snapshots: MetricsSnapshot[]): void {
    for (const snapshot of snapshots) this.updated.fire(this.tracker.add(snapshot));
  }

  /** Forget a server's numbers (it stopped): stale rates must not linger in the views. */
  clear(id: string): void {
    this.tracker.clear(id);
  }

  get(id: string): ServerRates | undefined {
    return this.tracker.get(id);
  }

  dispose(): void {
    this.updated.dispose();
  }
}
