/**
 * The supervisor against the real Python runtime: start, stop, restart, port in use, import error, crash,
 * metrics relay. Real processes, real sockets on 127.0.0.1, ephemeral ports. Run: npm run build && npm run test:unit
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { findFreePort, isPortInUse } from '../../server-runtime/src/supervisor/ports';
import {
  get,
  helloApp,
  helloDir,
  isAlive,
  makeApp,
  makeSupervisor,
  removeTempDirs,
  startParams,
  waitFor,
} from './supervisorHarness';

const helloConfig = path.join(helloDir, '.config_server');

// A suite timeout (about ten times the normal run) turns a hang into a failure.
describe('supervisor', { timeout: 90_000 }, () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    removeTempDirs();
  });

  it('starts the hello example, serves it, relays the access log, and stops gracefully', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const port = await findFreePort();
    const info = await rec.supervisor.start(startParams(helloConfig, helloDir, { portOverride: port }));
    assert.equal(info.state, 'running', JSON.stringify(info));
    assert.equal(info.port, port);
    assert.ok(info.pid && isAlive(info.pid));
    assert.deepEqual(
      rec.states.map((s) => s.state),
      ['starting', 'running'],
    );
    const res = await get(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'Hello, world!');
    await waitFor('access log line', () =>
      rec.logs.some((l) => l.stream === 'access' && /GET \/ /.test(l.lines.join())),
    );

    const stopped = await rec.supervisor.stop(info.id);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.error, undefined);
    assert.equal(isAlive(info.pid), false);
    assert.equal(await isPortInUse('127.0.0.1', port), false);
  });

  it('restarts: a new process serves on the same port', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const port = await findFreePort();
    const app = makeApp(helloApp('one'), port);
    const first = await rec.supervisor.start(startParams(app.config, app.dir));
    assert.equal(first.state, 'running', JSON.stringify(first));
    fs.writeFileSync(path.join(app.dir, 'app.py'), helloApp('two'));
    const second = await rec.supervisor.restart(first.id);
    assert.equal(second.state, 'running', JSON.stringify(second));
    assert.notEqual(second.pid, first.pid);
    assert.equal(isAlive(first.pid!), false);
    assert.equal((await get(`http://127.0.0.1:${port}/`)).body, 'two');
    assert.ok(rec.states.some((s) => s.state === 'restarting'));
    await rec.supervisor.stop(first.id);
  });

  it('runs several servers at once, one per config', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const [p1, p2] = [await findFreePort(), await findFreePort()];
    const a = makeApp(helloApp('A'), p1);
    const b = makeApp(helloApp('B'), p2);
    const [ia, ib] = await Promise.all([
      rec.supervisor.start(startParams(a.config, a.dir)),
      rec.supervisor.start(startParams(b.config, b.dir)),
    ]);
    assert.equal(ia.state, 'running');
    assert.equal(ib.state, 'running');
    assert.equal((await get(`http://127.0.0.1:${p1}/`)).body, 'A');
    assert.equal((await get(`http://127.0.0.1:${p2}/`)).body, 'B');
    assert.equal(rec.supervisor.list().length, 2);
    await rec.supervisor.stopAll();
  });

  it('reports a port in use and suggests a free one', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as net.AddressInfo).port;
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const app = makeApp(helloApp('x'), port);
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    assert.equal(info.state, 'stopped');
    assert.equal(info.error?.kind, 'port-in-use', JSON.stringify(info.error));
    assert.ok(info.error?.suggestedPort && info.error.suggestedPort !== port);

    // "Use another port" = start again with the override: it runs there.
    const retried = await rec.supervisor.start(
      startParams(app.config, app.dir, { portOverride: info.error!.suggestedPort }),
    );
    assert.equal(retried.state, 'running', JSON.stringify(retried));
    assert.equal((await get(`http://127.0.0.1:${retried.port}/`)).body, 'x');
    await rec.supervisor.stop(info.id);
  });

  it('reports an app import error with its traceback and the file and line to open', async () => {
    const rec = makeSupervisor();
    const port = await findFreePort();
    const app = makeApp('import os\n\nraise RuntimeError("boom at import")\n', port);
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    assert.equal(info.state, 'stopped');
    assert.equal(info.error?.kind, 'app-import', JSON.stringify(info.error));
    assert.match(info.error!.message, /boom at import/);
    assert.match(info.error!.traceback ?? '', /RuntimeError/);
    assert.equal(fs.realpathSync(info.error!.file!), fs.realpathSync(path.join(app.dir, 'app.py')));
    assert.equal(info.error!.line, 3);
  });

  it('validates the config first: an invalid one starts nothing and says where', async () => {
    const rec = makeSupervisor();
    const app = makeApp(helloApp('x'), await findFreePort());
    fs.writeFileSync(
      app.config,
      'HOST=127.0.0.1\nPORT=99999\nSOCKET_BACKLOG=64\nAPP=app\nDOMAIN=localhost\n',
    );
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    assert.equal(info.state, 'stopped');
    assert.equal(info.error?.kind, 'config-invalid', JSON.stringify(info.error));
    assert.equal(info.error?.file, app.config);
    assert.equal(info.error?.line, 2);
    assert.match(info.error!.message, /PORT/);
    assert.equal(info.pid, undefined);
    assert.equal(rec.logs.filter((l) => l.stream !== 'supervisor').length, 0, 'no Python process ran');
  });

  it('stops a server that is still starting (hanging import) without waiting for the start timeout', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const app = makeApp('import time\n\ntime.sleep(30)\n', await findFreePort());
    const starting = rec.supervisor.start(startParams(app.config, app.dir));
    const id = app.config;
    await waitFor('the process to be spawned', () => rec.supervisor.get(id)?.pid);
    const pid = rec.supervisor.get(id)!.pid!;
    const began = Date.now();
    const stopped = await rec.supervisor.stop(id);
    // The bound is the point of the test: far below the 15 s start timeout, generous for a loaded machine.
    assert.ok(Date.now() - began < 4000, `stop took ${Date.now() - began} ms`);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.error, undefined);
    const started = await starting;
    assert.equal(started.state, 'stopped');
    assert.equal(started.error, undefined, 'a stop is not a failed start');
    assert.equal(isAlive(pid), false);
  });

  it('reports a missing interpreter', async () => {
    const rec = makeSupervisor();
    const app = makeApp(helloApp('x'), await findFreePort());
    const info = await rec.supervisor.start({
      ...startParams(app.config, app.dir),
      pythonPath: path.join(app.dir, 'no-such-python'),
    });
    assert.equal(info.state, 'stopped');
    assert.equal(info.error?.kind, 'interpreter-missing', JSON.stringify(info.error));
  });

  it('notices a crash of a running server', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const app = makeApp(helloApp('x'), await findFreePort());
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    assert.equal(info.state, 'running');
    process.kill(info.pid!, 'SIGKILL');
    const crashed = await waitFor('crashed state', () => rec.states.find((s) => s.state === 'crashed'));
    assert.equal(crashed.error?.kind, 'crashed');
    assert.match(crashed.error!.message, /SIGKILL/);
    // It can be started again afterwards.
    assert.equal((await rec.supervisor.start(startParams(app.config, app.dir))).state, 'running');
  });

  it('relays the metrics of every worker process (WORKERS=2), and stop ends them all', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const port = await findFreePort();
    const app = makeApp(helloApp('w'), port, 'WORKERS=2\n');
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    assert.equal(info.state, 'running', JSON.stringify(info));
    assert.equal(info.workers, 2);
    rec.supervisor.setMetricsSubscription({ ids: [info.id], intervalMs: 200 });
    for (let i = 0; i < 6; i++) await get(`http://127.0.0.1:${port}/`);
    const byWorker = await waitFor('snapshots of both workers counting all requests', () => {
      const latest = new Map(rec.metrics.map((m) => [m.worker, m]));
      const total = [...latest.values()].reduce((sum, m) => sum + m.totals.requests, 0);
      return latest.size === 2 && total >= 6 && latest;
    });
    const pids = [...byWorker.values()].map((m) => m.pid);
    assert.notEqual(pids[0], pids[1], 'one snapshot stream per worker process');
    await rec.supervisor.stop(info.id);
    for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived the stop`);
  });

  it('relays metrics only while subscribed', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const app = makeApp(helloApp('x'), await findFreePort());
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    // Absence needs a wait: 400 ms is two intervals of the 200 ms used below.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rec.metrics.length, 0, 'no metrics before any view subscribes');
    rec.supervisor.setMetricsSubscription({ ids: [info.id], intervalMs: 200 });
    await get(`${info.url}/`);
    const snap = await waitFor('two metrics snapshots', () => rec.metrics.length >= 2 && rec.metrics.at(-1));
    assert.equal(snap.id, info.id);
    assert.equal(snap.pid, info.pid);
    assert.equal('type' in snap, false, 'the control message type is not part of the snapshot');
    assert.ok(snap.threads.length >= 4, JSON.stringify(snap.threads));
    assert.ok(Array.isArray(snap.totals.latency.counts));
    // Real counters: the request made above is counted.
    const counted = await waitFor('the request in the totals', () =>
      rec.metrics.find((m) => m.totals.requests >= 1),
    );
    assert.ok(
      counted.threads.some((t) => t.role === 'app' && t.items >= 1),
      JSON.stringify(counted.threads),
    );
    rec.supervisor.setMetricsSubscription({ ids: [], intervalMs: 0 });
    // A snapshot already on its way may still arrive (400 ms), then none for 700 ms (over three intervals).
    await new Promise((r) => setTimeout(r, 400));
    const count = rec.metrics.length;
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(rec.metrics.length, count, 'metrics stop after unsubscribing');
  });
});
