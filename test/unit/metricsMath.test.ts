/** Rates and percentiles from cumulative snapshots (extension/src/metricsMath.ts). */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricsSnapshot } from '../../server-runtime/src/protocol';
import {
  computeRates,
  formatCores,
  formatRate,
  gilText,
  histogramDelta,
  percentileMs,
} from '../../extension/src/metricsMath';

function snapshot(time: number, requests: number, counts: number[], busy = 0, pid = 10): MetricsSnapshot {
  return {
    id: 'file:///w/.config_server',
    time,
    uptimeSeconds: time - 1000,
    pid,
    worker: 0,
    threads: [
      {
        name: 'app-1',
        role: 'app',
        state: 'busy',
        items: requests,
        busySeconds: busy,
        waitSeconds: 0,
        queueDepth: 2,
        errors: 0,
        cpuSeconds: 0.5,
      },
    ],
    totals: {
      connectionsOpen: 1,
      connectionsAccepted: requests,
      requests,
      status: { '1xx': 0, '2xx': requests, '3xx': 0, '4xx': 0, '5xx': 0 },
      bytesIn: 0,
      bytesOut: 0,
      latency: { boundsMs: [1, 5, 10, 50], counts },
    },
  };
}

describe('metricsMath', () => {
  it('finds percentiles in a histogram', () => {
    const hist = { boundsMs: [1, 5, 10, 50], counts: [50, 40, 9, 1, 0] };
    assert.equal(percentileMs(hist, 0.5), 1);
    assert.equal(percentileMs(hist, 0.9), 5);
    assert.equal(percentileMs(hist, 0.99), 10);
    assert.equal(percentileMs(hist, 1), 50);
    assert.equal(percentileMs({ boundsMs: [1], counts: [0, 0] }, 0.5), undefined);
    // Everything in the +Inf bucket: report the last finite bound.
    assert.equal(percentileMs({ boundsMs: [1, 5], counts: [0, 0, 3] }, 0.5), 5);
  });

  it('subtracts histograms bucket by bucket', () => {
    const d = histogramDelta({ boundsMs: [1], counts: [5, 7] }, { boundsMs: [1], counts: [2, 7] });
    assert.deepEqual(d.counts, [3, 0]);
  });

  it('computes rates over the interval between two snapshots of one process', () => {
    const a = snapshot(1010, 100, [100, 0, 0, 0, 0], 1);
    const b = snapshot(1012, 300, [100, 150, 48, 2, 0], 2);
    const r = computeRates(b, a);
    assert.equal(r.requestsPerSec, 100);
    assert.equal(r.p50Ms, 5);
    assert.equal(r.p99Ms, 10);
    assert.equal(r.threads[0].itemsPerSec, 100);
    assert.equal(r.threads[0].busyPercent, 50);
    assert.equal(r.threads[0].queueDepth, 2);
  });

  it('falls back to averages since start when the process changed (restart)', () => {
    const before = snapshot(1010, 500, [500, 0, 0, 0, 0], 5, 10);
    const after = snapshot(1004, 40, [40, 0, 0, 0, 0], 1, 11);
    const r = computeRates(after, before);
    assert.equal(r.requestsPerSec, 10);
    assert.equal(r.threads[0].busyPercent, 25);
  });

  it('turns process CPU seconds into cores busy over the interval, and passes GIL and Python on', () => {
    const a = {
      ...snapshot(1010, 100, [100, 0, 0, 0, 0]),
      processCpuSeconds: 4,
      gil: false,
      python: '3.13.5',
    };
    const b = {
      ...snapshot(1012, 300, [300, 0, 0, 0, 0]),
      processCpuSeconds: 6.9,
      gil: false,
      python: '3.13.5',
    };
    const r = computeRates(b, a);
    assert.ok(Math.abs(r.cpuCores! - 1.45) < 1e-9, String(r.cpuCores)); // 2.9 CPU s in 2 wall s
    assert.equal(r.gil, false);
    assert.equal(r.python, '3.13.5');
    // First snapshot (or a restart): the average since the process started.
    const first = computeRates({ ...snapshot(1020, 10, [10, 0, 0, 0, 0]), processCpuSeconds: 5 });
    assert.equal(first.cpuCores, 0.25); // 5 CPU s over 20 s of uptime
    // A runtime that does not report it: unknown, not zero.
    assert.equal(computeRates(snapshot(1012, 1, [1, 0, 0, 0, 0]), a).cpuCores, undefined);
    assert.equal(formatCores(1.449), '1.45 cores');
    assert.equal(formatCores(undefined), '–');
    assert.equal(gilText(false), 'GIL off');
    assert.equal(gilText(true), 'GIL on');
    assert.equal(gilText(undefined), '');
  });

  it('formats rates for narrow places', () => {
    assert.equal(formatRate(0), '0.0');
    assert.equal(formatRate(12.34), '12');
    assert.equal(formatRate(1530), '1.5k');
    assert.equal(formatRate(25000), '25k');
  });
});
