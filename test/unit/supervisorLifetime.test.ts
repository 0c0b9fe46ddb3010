/**
 * The supervisor over time: auto-restart on file changes (debounced; a broken config keeps the old server)
 * and no orphaned runtime when the supervisor process dies, even by SIGKILL. Real runtime, real files.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import { findFreePort, isPortInUse } from '../../server-runtime/src/supervisor/ports';
import {
  get,
  helloApp,
  isAlive,
  makeApp,
  makeSupervisor,
  removeTempDirs,
  python,
  runtimePath,
  startParams,
  waitFor,
} from './supervisorHarness';

// A suite timeout (about ten times the normal run) turns a hang into a failure.
describe('supervisor lifetime', { timeout: 90_000 }, () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    removeTempDirs();
  });

  it('auto-restarts once, debounced, when the app changes, and ignores venv files', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const port = await findFreePort();
    const app = makeApp(helloApp('before'), port);
    fs.mkdirSync(path.join(app.dir, '.venv', 'lib'), { recursive: true });
    const first = await rec.supervisor.start(
      startParams(app.config, app.dir, { autoRestart: true, autoRestartDelayMs: 150 }),
    );
    assert.equal(first.state, 'running', JSON.stringify(first));
    await rec.supervisor.get(first.id)!.watcherReady();

    // A change inside .venv, then a burst of saves of the app in the same debounce window: one restart,
    // whose reason names app.py only (no fixed sleep: the restart itself is the event waited for).
    fs.writeFileSync(path.join(app.dir, '.venv', 'lib', 'ignored.py'), 'x = 1\n');
    for (const body of ['mid', 'after']) fs.writeFileSync(path.join(app.dir, 'app.py'), helloApp(body));
    const restarted = await waitFor('restart after the change', () => {
      const s = rec.supervisor.list()[0];
      return s.state === 'running' && s.pid !== first.pid && s;
    });
    assert.equal((await get(`http://127.0.0.1:${port}/`)).body, 'after');
    assert.deepEqual(rec.logText().match(/Restarting: .*/g), ['Restarting: changed: app.py']);
    // Absence of a second restart can only be checked by waiting: 400 ms is over twice the 150 ms debounce.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rec.logText().match(/Restarting: changed/g)?.length, 1, 'debounced to one restart');
    assert.equal(rec.supervisor.list()[0].pid, restarted.pid);
  });

  it('follows the auto-restart setting while running (off: changes are ignored)', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const port = await findFreePort();
    const app = makeApp(helloApp('v1'), port);
    const first = await rec.supervisor.start(startParams(app.config, app.dir, { autoRestart: false }));
    await rec.supervisor.updateOptions({ id: first.id, autoRestart: true, autoRestartDelayMs: 100 });
    await rec.supervisor.get(first.id)!.watcherReady();
    fs.writeFileSync(path.join(app.dir, 'app.py'), helloApp('v2'));
    const second = await waitFor('restart once auto-restart was switched on', () => {
      const s = rec.supervisor.list()[0];
      return s.state === 'running' && s.pid !== first.pid && s;
    });
    assert.equal((await get(`http://127.0.0.1:${port}/`)).body, 'v2');

    await rec.supervisor.updateOptions({ id: first.id, autoRestart: false, autoRestartDelayMs: 100 });
    fs.writeFileSync(path.join(app.dir, 'app.py'), helloApp('v3'));
    // Checking that nothing happens needs a wait: 600 ms is six times the 100 ms debounce.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(rec.supervisor.list()[0].pid, second.pid, 'no restart while auto-restart is off');
  });

  it('keeps the old server running when a changed config is broken, and says why', async () => {
    const rec = makeSupervisor();
    cleanups.push(() => rec.supervisor.stopAll());
    const port = await findFreePort();
    const app = makeApp(helloApp('still here'), port);
    const first = await rec.supervisor.start(
      startParams(app.config, app.dir, { autoRestart: true, autoRestartDelayMs: 100 }),
    );
    await rec.supervisor.get(first.id)!.watcherReady();
    fs.writeFileSync(app.config, fs.readFileSync(app.config, 'utf8').replace(`PORT=${port}`, 'PORT=oops'));
    const refused = await waitFor('refusal', () =>
      rec.states.find((s) => s.error?.kind === 'config-invalid'),
    );
    assert.equal(refused.state, 'running');
    assert.equal(refused.pid, first.pid);
    assert.equal(refused.error?.line, 2);
    assert.match(refused.error!.message, /PORT/);
    assert.match(rec.logText(), /Not restarting .*PORT/);
    assert.equal((await get(`http://127.0.0.1:${port}/`)).body, 'still here');
  });

  it('leaves no orphan when the supervisor process is SIGKILLed', async () => {
    const port = await findFreePort();
    const app = makeApp(helloApp('x'), port);
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'fixtures', 'supervisorChild.js'), app.config, app.dir, runtimePath, python],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    const info = await new Promise<ServerInfo>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as ServerInfo);
      });
      child.once('exit', () => reject(new Error('supervisor child exited early')));
    });
    assert.equal(info.state, 'running', JSON.stringify(info));
    const pid = info.pid!;
    cleanups.push(() => isAlive(pid) && process.kill(-pid, 'SIGKILL'));
    assert.equal(await isPortInUse('127.0.0.1', port), true);

    child.kill('SIGKILL');
    await waitFor('runtime to exit after its supervisor died', () => !isAlive(pid), 8000);
    await waitFor('port to be free again', async () => !(await isPortInUse('127.0.0.1', port)));
  });
});
