/**
 * Messages between the metrics panel (extension side, metricsPanel.ts) and its webview script (main.ts).
 * Type-only: imported by both, bundles no code.
 */
import type { RouteRow } from '../src/requestsStore';

export interface PanelServer {
  id: string;
  label: string;
  state: string;
  url?: string;
  /** From the ready message: the interpreter's version and whether the GIL is off. */
  python?: string;
  gil?: boolean;
}

/** The live totals of one server (all workers summed): what the status bar, the tree and the panel show. */
export interface ServerTotals {
  id: string;
  /** Seconds since the epoch. */
  time: number;
  requestsPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
  connectionsOpen: number;
  requests: number;
  /** Process CPU seconds per wall second (all workers): above 1, threads ran in parallel. */
  cpuCores?: number;
  /** Any worker with the GIL on: true; all off: false; unknown: undefined. */
  gil?: boolean;
  python?: string;
}

/** One point of the panel's charts: the totals plus every thread's numbers. */
export interface PanelPoint extends ServerTotals {
  /** `cells`: the thread's row of the table, one text per column of the schema's views.thread (THREAD_COLUMNS). */
  threads: { name: string; busyPercent: number; cells: string[] }[];
}

export type ToWebview =
  | { type: 'servers'; servers: PanelServer[]; select?: string }
  | { type: 'point'; point: PanelPoint }
  /** Replayed when the webview (re)loads: it is rebuilt each time the hidden panel is shown again. */
  | { type: 'history'; points: PanelPoint[] }
  /** The per-route table of one server (all workers), from the request log. */
  | { type: 'routes'; id: string; routes: RouteRow[] };

export type FromWebview = { type: 'ready' } | { type: 'openBrowser'; id: string };
