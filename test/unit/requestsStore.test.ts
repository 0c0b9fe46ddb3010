/**
 * The extension's request log (extension/src/requestsStore.ts): bounded however much a runtime sends, merged
 * over workers, filtered by route and status class, and the metrics panel's per-route table (p50/p99, count,
 * error rate).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestLog, RequestRecord, RouteStats } from '../../server-runtime/src/protocol';
import {
  describeFilter,
  entryKey,
  matches,
  mergeRoutes,
  parseFilter,
  RECENT_CAP,
  RequestsStore,
  ROUTES_CAP,
  SERVERS_CAP,
  SLOWEST_CAP,
  statusClass,
} from '../../extension/src/requestsStore';

let seq = 0;
function record(path: string, status = 200, totalMs = 1, extra: Partial<RequestRecord> = {}): RequestRecord {
  seq += 1;
  return {
    seq,
    time: 1000 + seq,
    connection: seq,
    thread: 'app-1',
    method: 'GET',
    path,
    route: path.replace(/\/\d+/g, '/{id}'),
    status,
    bytesIn: 10,
    bytesOut: 20,
    handoffMs: 0,
    readMs: 0,
    queueMs: 0,
    appMs: totalMs,
    sendMs: 0,
    totalMs,
    ...extra,
  };
}

function log(
  worker: number,
  recent: RequestRecord[],
  slowest: RequestRecord[] = [],
  routes: RouteStats[] = [],
): RequestLog {
  return { time: 2000, worker, pid: 100 + worker, recent, slowest, routes };
}

describe('RequestsStore', () => {
  it('keeps each worker’s latest log only, capped however much a runtime sends', () => {
    const store = new RequestsStore();
    const many = Array.from({ length: RECENT_CAP * 3 }, (_, i) => record(`/r/${i}`));
    const routes = Array.from({ length: ROUTES_CAP * 2 }, (_, i) => ({
      route: `/x${i}`,
      requests: 1,
      errors5xx: 0,
    }));
    for (let round = 0; round < 5; round++) store.add('s', log(0, many, many, routes));
    assert.equal(store.recent(undefined, 's', Infinity).length, RECENT_CAP);
    assert.equal(store.slowest(undefined, 's', Infinity).length, SLOWEST_CAP);
    assert.equal(store.routes('s').length, ROUTES_CAP);
    assert.equal(store.size(), RECENT_CAP + SLOWEST_CAP + ROUTES_CAP, 'the rounds replaced each other');
    // the newest are the ones kept
    assert.equal(store.recent(undefined, 's', 1)[0].path, `/r/${RECENT_CAP * 3 - 1}`);

    for (let i = 0; i < SERVERS_CAP + 5; i++) store.add(`server-${i}`, log(0, [record('/')]));
    assert.equal(store.servers().length, SERVERS_CAP, 'servers are capped too, the oldest dropped');
  });

  it('merges workers, newest first, each entry naming its server and worker', () => {
    const store = new RequestsStore();
    const a = record('/a');
    const b = record('/b');
    const c = record('/c');
    store.add('s', log(0, [a, c]));
    store.add('s', log(1, [b]));
    store.add('t', log(0, [record('/other')]));
    assert.deepEqual(
      store.recent(undefined, 's').map((e) => [e.path, e.worker, e.serverId]),
      [
        ['/c', 0, 's'],
        ['/b', 1, 's'],
        ['/a', 0, 's'],
      ],
    );
    assert.equal(store.recent().length, 4, 'all servers');
    const key = entryKey({ serverId: 's', worker: 1, thread: b.thread, seq: b.seq });
    assert.equal(store.find(key)?.path, '/b');
    // the same thread and seq in another worker is another request
    assert.equal(store.find(entryKey({ serverId: 's', worker: 0, thread: b.thread, seq: b.seq })), undefined);
  });

  it('sorts the slowest by total time and drops a stopped server', () => {
    const store = new RequestsStore();
    const updates: string[] = [];
    store.onDidUpdate((id) => updates.push(id));
    store.add('s', log(0, [], [record('/fast', 200, 2), record('/slow', 200, 300), record('/mid', 200, 40)]));
    assert.deepEqual(
      store.slowest().map((e) => e.path),
      ['/slow', '/mid', '/fast'],
    );
    store.clear('s');
    store.clear('s'); // nothing left: no second event
    assert.deepEqual(store.slowest(), []);
    assert.deepEqual(updates, ['s', 's']);
  });

  it('tells its listeners only when a log holds something new, not on every interval', () => {
    const store = new RequestsStore();
    const updates: string[] = [];
    store.onDidUpdate((id) => updates.push(id));
    const first = record('/a');
    store.add('s', log(0, [first]));
    // The runtime sends its whole window every interval: the same requests, only the log's time moved.
    store.add('s', { ...log(0, [first]), time: 2001 });
    store.add('s', { ...log(0, [{ ...first }]), time: 2002 });
    assert.deepEqual(updates, ['s']);
    store.add('s', log(0, [first, record('/b')])); // a new request
    store.add('s', log(0, [{ ...first, lingerMs: 3 }])); // an older one's connection closed
    store.add('s', log(1, [first])); // another worker's log is news even with the same requests
    store.add('s', { ...log(1, [first]), pid: 999 }); // that worker restarted
    assert.deepEqual(updates, ['s', 's', 's', 's', 's']);
    store.clear('s');
    store.add('s', log(0, [first])); // after a stop, the same log again is shown again
    assert.deepEqual(updates, ['s', 's', 's', 's', 's', 's', 's']);
  });

  it('filters by a part of the path or route and by status class', () => {
    const store = new RequestsStore();
    store.add(
      's',
      log(0, [record('/users/12'), record('/users/13', 500), record('/health', 404), record('/API/x', 200)]),
    );
    const paths = (text: string) =>
      store
        .recent(parseFilter(text))
        .map((e) => e.path)
        .sort();
    assert.deepEqual(paths('/users'), ['/users/12', '/users/13']);
    assert.deepEqual(paths('{id}'), ['/users/12', '/users/13'], 'the route matches too');
    assert.deepEqual(paths('5xx'), ['/users/13']);
    assert.deepEqual(paths('/users 2xx'), ['/users/12']);
    assert.deepEqual(paths('4XX'), ['/health']);
    assert.deepEqual(paths('/api'), ['/API/x'], 'case does not matter');
    assert.equal(paths('').length, 4);
  });
});

describe('filters', () => {
  it('parses a route and a status class in any order', () => {
    assert.equal(parseFilter('   '), undefined);
    assert.deepEqual(parseFilter('5xx /users'), { route: '/users', status: '5xx' });
    assert.deepEqual(parseFilter('/a b'), { route: '/a b' });
    assert.deepEqual(parseFilter('2xx'), { status: '2xx' });
    assert.equal(describeFilter(parseFilter('/api 5xx')), 'route contains "/api", 5xx');
    assert.equal(describeFilter(undefined), '');
  });

  it('classes statuses by their first digit', () => {
    assert.deepEqual([101, 200, 304, 499, 500, 599].map(statusClass), [
      '1xx',
      '2xx',
      '3xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
    assert.equal(statusClass(0), undefined);
    assert.equal(statusClass(600), undefined);
    assert.equal(matches(record('/x', 404), { status: '4xx' }), true);
    assert.equal(matches(record('/x', 404), { status: '5xx' }), false);
    assert.equal(matches(record('/x', 404), undefined), true);
  });
});

describe('mergeRoutes (the metrics panel’s route table)', () => {
  it('adds counts over workers, keeps the higher percentile bound, error rate = 5xx / requests, busiest first', () => {
    const rows = mergeRoutes([
      [
        { route: '/users/{id}', requests: 30, errors5xx: 3, p50Ms: 5, p99Ms: 50 },
        { route: '/', requests: 10, errors5xx: 0, p50Ms: 1, p99Ms: 2 },
      ],
      [
        { route: '/users/{id}', requests: 10, errors5xx: 1, p50Ms: 10, p99Ms: 25 },
        { route: '/slow', requests: 1, errors5xx: 0, p50Ms: 500, p99Ms: 500 },
        // the runtime sends null for a route without a histogram count yet
        { route: '/new', requests: 0, errors5xx: 0, p50Ms: null as unknown as undefined },
      ],
    ]);
    assert.deepEqual(rows, [
      { route: '/users/{id}', requests: 40, errors5xx: 4, errorRate: 0.1, p50Ms: 10, p99Ms: 50 },
      { route: '/', requests: 10, errors5xx: 0, errorRate: 0, p50Ms: 1, p99Ms: 2 },
      { route: '/slow', requests: 1, errors5xx: 0, errorRate: 0, p50Ms: 500, p99Ms: 500 },
      { route: '/new', requests: 0, errors5xx: 0, errorRate: 0, p50Ms: undefined, p99Ms: undefined },
    ]);
  });

  it('orders equal counts by route, so the table does not jump between updates', () => {
    const rows = mergeRoutes([
      [
        { route: '/b', requests: 1, errors5xx: 0 },
        { route: '/a', requests: 1, errors5xx: 0 },
      ],
    ]);
    assert.deepEqual(
      rows.map((r) => r.route),
      ['/a', '/b'],
    );
  });
});
