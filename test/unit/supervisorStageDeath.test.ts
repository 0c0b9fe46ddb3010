/**
 * A runtime whose pipeline thread dies ends itself (exit code 5) instead of staying up without serving; the
 * supervisor must say which thread and why (with the traceback), show it as a crash, and start the server
 * again, within a budget. The runtime is the real one; the fault is injected with SERVER3_FAULTS (see
 * server-runtime/python/Server_3_free_threads/faults.py), which the spawned runtime inherits.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { describeExit } from '../../server-runtime/src/supervisor/errors';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import {
  get,
  helloApp,
  makeApp,
  makeSupervisor,
  removeTempDirs,
  startParams,
  waitFor,
} from './supervisorHarness';

after(removeTempDirs);
afterEach(() => delete process.env.SERVER3_FAULTS);

describe('supervisor: a pipeline thread dies', () => {
  it('reports the stage death with its thread and traceback, then restarts the server', async () => {
    // Every runtime started here loses its app thread after its first request (app.loop is passed once at
    // thread start, then after each request; one app thread, so the count is that thread's).
    process.env.SERVER3_FAULTS = 'app.loop:RuntimeError@2';
    const rec = makeSupervisor();
    const app = makeApp(helloApp('hi'), await findFreePort(), 'APP_THREADS=1\n');
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    try {
      assert.equal(info.state, 'running');
      const firstPid = info.pid;
      assert.equal((await get(`${info.url}/`)).body, 'hi');
      const crash = await waitFor('the crashed state', () => rec.states.find((s) => s.state === 'crashed'));
      assert.equal(crash.error?.kind, 'stage-died');
      assert.equal(crash.error?.thread, 'app-1');
      assert.match(crash.error!.message, /the app-1 thread died \(RuntimeError: fault injected at app\.loop/);
      assert.match(crash.error!.message, /\)\. Restarting it\.$/);
      assert.match(crash.error!.traceback ?? '', /Traceback[\s\S]*faults\.py/);
      const again = await waitFor('the restarted server', () =>
        rec.states.find((s, i) => s.state === 'running' && i > rec.states.indexOf(crash)),
      );
      assert.notEqual(again.pid, firstPid);
      // The restarted server goes on saying why it was restarted (until the user starts or stops it).
      assert.equal(again.error?.kind, 'stage-died');
      assert.match(again.error!.message, /thread died .*; restarted at \d\d:\d\d:\d\d$/);
      assert.equal((await get(`${again.url}/`)).body, 'hi'); // serving again (and dying again: fault @2)
    } finally {
      await rec.supervisor.stop(info.id);
    }
  });

  it('gives up after three deaths within a minute and says so', async () => {
    process.env.SERVER3_FAULTS = 'app.loop:RuntimeError@2';
    const rec = makeSupervisor();
    const app = makeApp(helloApp('hi'), await findFreePort(), 'APP_THREADS=1\n');
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    try {
      for (let death = 1; death <= 4; death++) {
        const running = await waitFor(`running before death ${death}`, () => {
          const last = rec.states.at(-1);
          return last?.state === 'running' && last;
        });
        await get(`${running.url}/`).catch(() => undefined); // the request that kills its app thread
        await waitFor(
          `crash ${death}`,
          () => rec.states.filter((s) => s.state === 'crashed').length >= death,
        );
      }
      const last = rec.states.filter((s) => s.state === 'crashed').at(-1)!;
      assert.match(last.error!.message, /Not restarted: it died 3 times within a minute/);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(rec.states.at(-1)?.state, 'crashed'); // and it stays down
    } finally {
      await rec.supervisor.stop(info.id);
    }
  });

  it('explains exit code 5 from stderr when the control channel said nothing', async () => {
    const stderr = [
      '[2026-11-30 12:00:00,000] [ERROR] the read thread died (MemoryError); the server cannot serve without it: exiting with code 5 so that it is restarted',
      'Traceback (most recent call last):',
      '  File "/x/read_thread.py", line 1, in loop',
      'MemoryError',
    ];
    const error = await describeExit(5, null, stderr, undefined, '/tmp', '/x');
    assert.equal(error.kind, 'stage-died');
    assert.equal(error.thread, 'read');
    assert.equal(error.message, 'the read thread died (MemoryError)');
    assert.match(error.traceback ?? '', /^Traceback/);
  });
});

describe('supervisor: what the runtime says while it runs', () => {
  it("a failed reload (SIGHUP) shows as the running server's error; a good one clears it", async () => {
    const rec = makeSupervisor();
    const app = makeApp(helloApp('one'), await findFreePort());
    const info = await rec.supervisor.start(startParams(app.config, app.dir));
    try {
      assert.equal(info.state, 'running');
      fs.writeFileSync(path.join(app.dir, 'app.py'), 'def application(:\n'); // a syntax error
      process.kill(info.pid!, 'SIGHUP');
      const broken = await waitFor('the reload error', () =>
        rec.states.find((s) => s.state === 'running' && s.error?.kind === 'app-import'),
      );
      assert.equal(broken.pid, info.pid); // still the same process: the old app keeps serving
      assert.equal((await get(`${info.url}/`)).body, 'one');
      fs.writeFileSync(path.join(app.dir, 'app.py'), helloApp('two'));
      process.kill(info.pid!, 'SIGHUP');
      await waitFor('the error cleared', () => {
        const last = rec.states.at(-1);
        return last?.state === 'running' && !last.error && rec.states.indexOf(broken) < rec.states.length - 1;
      });
      assert.equal((await get(`${info.url}/`)).body, 'two');
    } finally {
      await rec.supervisor.stop(info.id);
    }
  });
});
