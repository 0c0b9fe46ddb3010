/** Rates and percentiles from cumulative snapshots (extension/src/metricsMath.ts). */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { THREAD_COLUMNS, type ThreadColumn } from '../../server-runtime/src/contract.generated';
import type { MetricsSnapshot } from '../../server-runtime/src/protocol';
import {
  cellText,
  computeRates,
  formatCores,
  formatRate,
  gilText,
  histogramDelta,
  percentileMs,
  phraseText,
  RatesTracker,
  serverRates,
  shownValue,
} from '../../extension/src/metricsMath';

function snapshot(
  time: number,
  requests: number,
  counts: number[],
  busy = 0,
  pid = 10,
  worker = 0,
  id = 'file:///w/.config_server',
): MetricsSnapshot {
  return {
    id,
    time,
    uptimeSeconds: time - 1000,
    pid,
    worker,
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
      status: { '1xx': 0, '2xx': requests, '3xx': 0, '4xx': 0, '5xx': Math.floor(requests / 100) },
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
  it('reads a q above 1 as the largest answer, and skips empty buckets', () => {
    const hist = { boundsMs: [1, 5, 10, 50], counts: [50, 40, 9, 1, 0] };
    assert.equal(percentileMs(hist, 1.5), 50);
    // The rank falls exactly on the last request of a bucket: that bucket, not the next.
    assert.equal(percentileMs({ boundsMs: [1, 5, 10], counts: [2, 0, 2, 0] }, 0.5), 1);
    assert.equal(percentileMs({ boundsMs: [1, 5, 10], counts: [2, 0, 2, 0] }, 0.51), 10);
    // q = 0 still means the first request (rank 1), not "nothing".
    assert.equal(percentileMs({ boundsMs: [1, 5, 10], counts: [0, 3, 0, 0] }, 0), 5);
  });

  it('does not subtract histograms of different shapes (a runtime with other buckets)', () => {
    const current = { boundsMs: [1, 5], counts: [4, 4, 4] };
    assert.equal(histogramDelta(current, { boundsMs: [1], counts: [1, 1] }), current);
    assert.equal(histogramDelta(current), current);
    // A bucket that went down (counters reset) gives 0, never a negative count.
    assert.deepEqual(histogramDelta(current, { boundsMs: [1, 5], counts: [5, 1, 4] }).counts, [0, 3, 0]);
  });

  it('busy seconds: exactly the interval is 100 %, more (clock skew) is capped, less counters is 0', () => {
    const a = snapshot(1010, 100, [100, 0, 0, 0, 0], 3);
    assert.equal(computeRates(snapshot(1012, 100, [100, 0, 0, 0, 0], 5), a).threads[0].busyPercent, 100);
    assert.equal(computeRates(snapshot(1012, 100, [100, 0, 0, 0, 0], 5.5), a).threads[0].busyPercent, 100);
    assert.equal(computeRates(snapshot(1012, 100, [100, 0, 0, 0, 0], 4.5), a).threads[0].busyPercent, 75);
    assert.equal(computeRates(snapshot(1012, 100, [100, 0, 0, 0, 0], 3), a).threads[0].busyPercent, 0);
    assert.equal(computeRates(snapshot(1012, 100, [100, 0, 0, 0, 0], 2), a).threads[0].busyPercent, 0);
  });

  it('a thread that was not in the previous snapshot counts from zero over the interval', () => {
    const a = snapshot(1010, 100, [100, 0, 0, 0, 0], 1);
    const b = snapshot(1012, 300, [100, 200, 0, 0, 0], 2);
    b.threads[0].name = 'app-2';
    const r = computeRates(b, a);
    assert.equal(r.threads[0].itemsPerSec, 150); // 300 items over 2 s
    assert.equal(r.threads[0].busyPercent, 100); // 2 busy seconds over 2 s
    assert.equal(r.requestsPerSec, 100); // the totals still use the previous snapshot
  });

  it('restart detection: another pid means the counters restarted, even when time moved on', () => {
    const before = snapshot(1010, 500, [500, 0, 0, 0, 0], 5, 10);
    // New process, later clock, uptime 4 s (time - 1000 = 1014 - 1000 would be 14: set it explicitly).
    const after = { ...snapshot(1014, 40, [0, 40, 0, 0, 0], 1, 11), uptimeSeconds: 4 };
    const r = computeRates(after, before);
    assert.equal(r.requestsPerSec, 10); // 40 requests over 4 s of uptime, not (40 - 500) / 4
    assert.equal(r.p50Ms, 5); // the whole histogram, not a delta against another process
    assert.equal(r.threads[0].busyPercent, 25);
    assert.equal(r.threads[0].itemsPerSec, 10);
  });

  it('restart detection: the same pid with a clock that did not move forward is not an interval', () => {
    const before = snapshot(1010, 100, [100, 0, 0, 0, 0], 1);
    for (const time of [1010, 1009]) {
      const same = { ...snapshot(time, 100, [100, 0, 0, 0, 0], 1), uptimeSeconds: 20 };
      const r = computeRates(same, before);
      assert.equal(r.requestsPerSec, 5, `time ${time}`); // 100 over 20 s of uptime, never 0/0
      assert.equal(r.threads[0].busyPercent, 5, `time ${time}`);
      assert.equal(r.p50Ms, 1, `time ${time}`);
    }
  });

  it('the first snapshot gives averages since start, with a floor on uptime', () => {
    const first = snapshot(1010, 100, [100, 0, 0, 0, 0], 5);
    const r = computeRates(first);
    assert.equal(r.requestsPerSec, 10);
    assert.equal(r.threads[0].busyPercent, 50);
    assert.equal(r.errors5xx, 1);
    assert.deepEqual([r.id, r.time, r.worker, r.pid, r.uptimeSeconds], [first.id, 1010, 0, 10, 10]);
    assert.deepEqual([r.connectionsOpen, r.requests], [1, 100]);
    const t = r.threads[0];
    assert.deepEqual(
      [t.name, t.role, t.state, t.queueDepth, t.cpuSeconds, t.items, t.errors],
      ['app-1', 'app', 'busy', 2, 0.5, 100, 0],
    );
    // Uptime 0 (a snapshot taken at once): divided by 1 ms, not by zero.
    const instant = { ...snapshot(1000, 1, [1, 0, 0, 0, 0]), uptimeSeconds: 0 };
    assert.equal(computeRates(instant).requestsPerSec, 1000);
  });

  it('sums CPU over workers, says the GIL is on if any worker has it, and names each worker in problems', () => {
    const withHealth = (
      worker: number,
      cpu: number | undefined,
      gil: boolean | undefined,
      problems: string[],
    ) => ({
      ...snapshot(1012, 10, [10, 0, 0, 0, 0], 1, 10 + worker, worker),
      processCpuSeconds: cpu,
      gil,
      python: '3.13.5',
      health: { status: problems.length ? ('failing' as const) : ('ok' as const), problems },
    });
    const one = computeRates(withHealth(0, 6, false, ['the read thread is stuck (busy for 10 s or more)']));
    const two = computeRates(withHealth(1, undefined, true, []));
    assert.deepEqual(one.problems, ['the read thread is stuck (busy for 10 s or more)']);
    // A health that is not failing carries no problems, whatever it lists.
    const okButListed = {
      ...withHealth(0, 6, false, []),
      health: { status: 'ok' as const, problems: ['x'] },
    };
    assert.deepEqual(computeRates(okButListed).problems, []);
    const single = serverRates('s', [one])!;
    assert.deepEqual(single.problems, ['the read thread is stuck (busy for 10 s or more)']); // no "worker 0:"
    assert.equal(single.gil, false);
    assert.equal(single.python, '3.13.5');
    const both = serverRates('s', [two, one])!;
    assert.deepEqual(both.problems, ['worker 0: the read thread is stuck (busy for 10 s or more)']);
    assert.equal(both.cpuCores, one.cpuCores); // the worker that does not report counts as 0
    assert.equal(both.gil, true); // one worker with the GIL on: the server has it on
    const three = computeRates(withHealth(2, 3, false, ['the close thread is not running']));
    assert.equal(serverRates('s', [one, three])!.cpuCores, one.cpuCores! + three.cpuCores!);
    assert.equal(serverRates('s', [one, three])!.gil, false);
    const unknown = computeRates(withHealth(3, undefined, undefined, []));
    assert.equal(serverRates('s', [one, unknown])!.gil, undefined); // unknown for one: unknown
    assert.equal(serverRates('s', [unknown])!.cpuCores, undefined);
  });

  it('formats rates at the exact boundaries of each form', () => {
    assert.equal(formatRate(9.99), '10.0');
    assert.equal(formatRate(10), '10');
    assert.equal(formatRate(999), '999');
    assert.equal(formatRate(1000), '1.0k');
    assert.equal(formatRate(9999), '10.0k');
    assert.equal(formatRate(10_000), '10k');
  });

  it('tracks each worker against its own previous snapshot, and sums the workers of a server', () => {
    const tracker = new RatesTracker();
    const id = 'file:///w/.config_server';
    assert.equal(tracker.get(id), undefined);
    tracker.add(snapshot(1010, 100, [100, 0, 0, 0, 0], 1, 10, 0));
    tracker.add(snapshot(1010, 1000, [0, 0, 1000, 0, 0], 1, 20, 1));
    const w0 = tracker.add(snapshot(1012, 300, [100, 200, 0, 0, 0], 2, 10, 0));
    const w1 = tracker.add(snapshot(1012, 1100, [0, 0, 1000, 100, 0], 1.5, 20, 1));
    assert.equal(w0.requestsPerSec, 100);
    assert.equal(w1.requestsPerSec, 50);
    const totals = tracker.get(id)!;
    assert.deepEqual(
      { ...totals, workers: totals.workers.map((w) => w.worker) },
      {
        id,
        time: 1012,
        requestsPerSec: 150,
        p50Ms: 50, // the slower worker's
        p99Ms: 50,
        connectionsOpen: 2,
        requests: 1400,
        cpuCores: undefined, // these snapshots do not report it
        gil: undefined,
        python: undefined,
        problems: [],
        workers: [0, 1],
      },
    );
    // Another server with an id that starts like this one is not touched by clearing it.
    tracker.add(snapshot(1010, 5, [5, 0, 0, 0, 0], 0, 30, 0, id + '#2'));
    tracker.clear(id);
    assert.equal(tracker.get(id), undefined);
    assert.equal(tracker.get(id + '#2')?.requests, 5);
    // After a clear the next snapshot is a first one again (averages since start).
    assert.equal(tracker.add(snapshot(1014, 400, [400, 0, 0, 0, 0], 2, 10, 0)).requestsPerSec, 400 / 14);
  });

  it('server totals: percentiles of idle workers are left out, the latest time wins, workers sorted', () => {
    const busy = computeRates(snapshot(1012, 10, [10, 0, 0, 0, 0]));
    const idle = { ...computeRates({ ...snapshot(1013, 0, [0, 0, 0, 0, 0]), worker: 3 }) };
    assert.equal(idle.p50Ms, undefined);
    const totals = serverRates('x', [idle, busy])!;
    assert.equal(totals.p50Ms, 1);
    assert.equal(totals.p99Ms, 1);
    assert.equal(totals.time, 1013);
    assert.deepEqual(
      totals.workers.map((w) => w.worker),
      [0, 3],
    );
    assert.equal(serverRates('x', [idle])!.p99Ms, undefined);
    assert.equal(serverRates('x', []), undefined);
  });

  it("the views' columns come from the schema: each thread's shown values follow THREAD_COLUMNS", () => {
    const a = snapshot(1010, 100, [100, 0, 0, 0, 0], 1);
    const b = snapshot(1012, 300, [100, 150, 48, 2, 0], 2);
    const t = computeRates(b, a).threads[0];
    assert.deepEqual(
      THREAD_COLUMNS.map((c) => c.field),
      ['name', 'state', 'items', 'busySeconds', 'queueDepth', 'cpuSeconds'],
    );
    assert.deepEqual(t.shown, ['app-1', 'busy', 100, 50, 2, 0.5]);
    assert.deepEqual(
      THREAD_COLUMNS.map((c, i) => cellText(c, t.shown[i])),
      ['app-1', 'busy', '100', '50%', '2', '0.50'],
    );
    assert.deepEqual(
      THREAD_COLUMNS.map((c, i) => phraseText(c, t.shown[i])),
      ['app-1', 'busy', '100/s', '50% busy', 'queue 2', 'cpu 0.50 s'],
    );
    // The snapshot's own fields pass through, whatever the schema adds.
    assert.deepEqual([t.name, t.role, t.waitSeconds, t.errors], ['app-1', 'app', 0, 0]);
  });

  it('shown values: a rate from zero without a previous snapshot, a percentage capped at 100, a count as is', () => {
    const column = (
      field: ThreadColumn['field'],
      show: ThreadColumn['show'],
      unit?: string,
    ): ThreadColumn => ({
      field,
      label: field === 'busySeconds' ? 'Busy' : 'Errors',
      show,
      unit,
      meaning: '',
    });
    const [now] = snapshot(1012, 300, [0, 0, 0, 0, 0], 3).threads;
    const [before] = snapshot(1010, 100, [0, 0, 0, 0, 0], 1).threads;
    assert.equal(shownValue(column('items', 'ratePerSecond'), now, undefined, 2), 150);
    assert.equal(shownValue(column('items', 'ratePerSecond'), before, now, 2), 0); // counters never go back
    assert.equal(shownValue(column('busySeconds', 'percentOfInterval'), now, before, 2), 100);
    assert.equal(shownValue(column('busySeconds', 'percentOfInterval'), now, before, 4), 50);
    assert.equal(shownValue(column('errors', 'value'), now, before, 2), 0);
    assert.equal(phraseText(column('errors', 'value', 'errors'), 3), 'errors 3');
    assert.equal(phraseText(column('busySeconds', 'value', 'ms'), 1.5), 'busy 1.50 ms');
    assert.equal(phraseText(column('busySeconds', 'value', 'bytes'), 2048), 'busy 2048 bytes');
    assert.equal(phraseText(column('busySeconds', 'value', 's'), 2), 'busy 2 s');
    // A text field is shown as it is, whatever the column asks of a number.
    assert.equal(shownValue(column('state', 'ratePerSecond'), now, before, 2), now.state);
    assert.equal(shownValue(column('state', 'percentOfInterval'), now, undefined, 2), now.state);
    assert.equal(cellText(column('items', 'ratePerSecond'), 12_345), '12k');
    assert.equal(cellText(column('busySeconds', 'percentOfInterval'), 99.6), '100%');
  });
});
