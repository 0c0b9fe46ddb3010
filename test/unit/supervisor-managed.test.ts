/**
 * ManagedServer's bookkeeping across a server's life, on the fake runtime (fixtures/fakeRuntime.py): the exact
 * states and supervisor lines of start/stop/restart in every order, a stop that cuts a launch short and skips
 * the start queued behind it, an unexpected exit while running, what supervisor shutdown (stopAll, killAll)
 * does not report, metrics commands only while running, and the auto-restart watcher following the settings.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ManagedServer } from '../../server-runtime/src/supervisor/managedServer';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import {
  isAlive,
  makeApp,
  makeSupervisor,
  python,
  removeTempDirs,
  repoRoot,
  startParams,
  waitFor,
  type Recorded,
} from './supervisorHarness';

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-fakems-'));
const fakePython = path.join(bin, 'python');
fs.writeFileSync(
  fakePython,
  `#!/bin/sh\nexec ${python} ${path.join(repoRoot, 'test', 'unit', 'fixtures', 'fakeRuntime.py')} "$@"\n`,
  { mode: 0o755 },
);
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  fs.rmSync(bin, { recursive: true, force: true });
  removeTempDirs();
});

async function fakeApp(modes: string) {
  const app = makeApp('application = None\n', await findFreePort(), `# fake: ${modes}\n`);
  const log = path.join(app.dir, 'signals.log');
  const events = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  return {
    ...app,
    events,
    /** Pids of the runtimes started so far (parents only). */
    parents: () => events().filter((l) => l.startsWith('parent ') && l.endsWith(' started')),
    controls: () => events().filter((l) => l.includes(' control ')),
  };
}

function supervisor(extra: Parameters<typeof makeSupervisor>[0] = {}): Recorded {
  const rec = makeSupervisor({ stopTimeoutMs: 2000, ...extra });
  cleanups.push(() => rec.supervisor.stopAll());
  return rec;
}

/** States from index `from` on, only their names. */
const statesFrom = (rec: Recorded, from: number) => rec.states.slice(from).map((s) => s.state);
/** Lines of the supervisor stream (what the supervisor itself said). */
const supervisorLines = (rec: Recorded) =>
  rec.logs.filter((l) => l.stream === 'supervisor').flatMap((l) => l.lines);
/** The private watcher of a server: whether auto-restart is watching is its whole state. */
const watcherOf = (server: ManagedServer) => (server as unknown as { watcher?: object }).watcher;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('managed server on the fake runtime', { timeout: 60_000 }, () => {
  it('start, restart and stop in every order: the exact states and supervisor lines', async () => {
    const rec = supervisor();
    const app = await fakeApp('ready');
    const params = { ...startParams(app.config, app.dir), pythonPath: fakePython };
    const first = await rec.supervisor.start(params);
    assert.equal(first.state, 'running', JSON.stringify(first));
    const server = rec.supervisor.get(first.id)!;

    // start() without new parameters while running: the same server.
    assert.equal((await server.start()).pid, first.pid);

    const restarted = await rec.supervisor.restart(first.id);
    assert.equal(restarted.state, 'running');
    assert.notEqual(restarted.pid, first.pid);
    assert.deepEqual(supervisorLines(rec), ['Restarting: restart requested']);

    let mark = rec.states.length;
    await rec.supervisor.stop(first.id);
    assert.deepEqual(statesFrom(rec, mark), ['stopping', 'stopped']);
    mark = rec.states.length;
    await rec.supervisor.stop(first.id); // nothing runs: no "stopping"
    assert.deepEqual(statesFrom(rec, mark), ['stopped']);

    // Started again after a stop: a fresh start, not a restart.
    mark = rec.states.length;
    const again = await rec.supervisor.start(params);
    assert.equal(again.state, 'running');
    assert.deepEqual(statesFrom(rec, mark), ['starting', 'running']);
    await rec.supervisor.stop(first.id);

    // Restart of a stopped server: starts it, with nothing to say about a previous one.
    mark = rec.states.length;
    const fromStopped = await rec.supervisor.restart(first.id);
    assert.equal(fromStopped.state, 'running');
    assert.deepEqual(statesFrom(rec, mark), ['restarting', 'running']);
    assert.deepEqual(supervisorLines(rec), ['Restarting: restart requested']);
    assert.equal(app.parents().length, 4);

    // LSP shutdown: the server stops without being reported as crashed.
    mark = rec.states.length;
    await rec.supervisor.stopAll();
    await pause(200);
    assert.deepEqual(statesFrom(rec, mark), []);
    assert.deepEqual(supervisorLines(rec), ['Restarting: restart requested']);
  });

  it('an unexpected exit while running: crashed, said on the supervisor stream', async () => {
    const rec = supervisor();
    const app = await fakeApp('ready');
    const info = await rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
    process.kill(info.pid!, 'SIGTERM'); // the fake exits 0 on it: not a signal death, an exit
    const crashed = await waitFor('crashed', () => rec.supervisor.list()[0].state === 'crashed');
    assert.ok(crashed);
    assert.deepEqual(rec.supervisor.list()[0], {
      id: info.id,
      configUri: info.configUri,
      state: 'crashed',
      url: info.url,
      host: info.host,
      port: info.port,
      python: fakePython,
      error: { kind: 'crashed', message: 'The server exited.' },
    });
    assert.deepEqual(supervisorLines(rec), ['Server exited unexpectedly: The server exited.']);
  });

  it('supervisor exit (killAll): nothing reported afterwards, and file changes restart nothing', async () => {
    const rec = supervisor();
    const app = await fakeApp('ready');
    const info = await rec.supervisor.start({
      ...startParams(app.config, app.dir, { autoRestart: true, autoRestartDelayMs: 50 }),
      pythonPath: fakePython,
    });
    await rec.supervisor.get(info.id)!.watcherReady();
    const mark = rec.states.length;
    rec.supervisor.killAll();
    await waitFor('killed', () => !isAlive(info.pid!));
    fs.writeFileSync(path.join(app.dir, 'app.py'), 'application = 1\n');
    // Only waiting shows that nothing happens: 1 s is twenty times the debounce.
    await pause(1000);
    assert.deepEqual(statesFrom(rec, mark), []);
    assert.deepEqual(supervisorLines(rec), []);
    assert.equal(app.parents().length, 1);
  });

  it('Stop during a launch: no error shown, and a start queued behind it does not run', async () => {
    const rec = supervisor({ startTimeoutMs: 4000 });
    const app = await fakeApp('never-ready'); // not a mode: it never says ready, and exits on SIGTERM
    const params = { ...startParams(app.config, app.dir), pythonPath: fakePython };
    const first = rec.supervisor.start(params);
    await waitFor('runtime started', () => app.parents().length === 1);
    const second = rec.supervisor.start(params);
    const stopped = await rec.supervisor.stop(app.config);
    assert.deepEqual([stopped.state, stopped.error], ['stopped', undefined]);
    for (const info of await Promise.all([first, second]))
      assert.deepEqual([info.state, info.error], ['stopped', undefined]);
    assert.equal(app.parents().length, 1, 'the queued start ran');
    assert.ok(
      rec.states.every((s) => s.error === undefined),
      JSON.stringify(rec.states.filter((s) => s.error)),
    );
  });

  it('Stop while a restart validates: the server is signalled only in its turn, and the restart does not launch', async () => {
    let release: (() => void) | undefined;
    const rec = supervisor({
      validate: () =>
        release === undefined
          ? Promise.resolve(undefined)
          : new Promise((resolve) => (release = () => resolve(undefined))),
    });
    const app = await fakeApp('ready');
    const info = await rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
    release = () => undefined;
    const restarting = rec.supervisor.restart(info.id); // waits in validate until released
    const stopping = rec.supervisor.stop(info.id);
    // Only waiting shows that no signal was sent: the fake notes one within milliseconds.
    await pause(500);
    assert.deepEqual(
      app.events().map((l) => l.split(' ')[2]),
      ['started'],
    );
    const mark = rec.states.length;
    release();
    await restarting;
    assert.deepEqual(await stopping, {
      id: info.id,
      configUri: info.configUri,
      state: 'stopped',
      python: fakePython,
    });
    assert.deepEqual(statesFrom(rec, mark), ['restarting', 'stopped']);
    assert.equal(app.parents().length, 1);
  });

  it('metrics commands go to a running server only, not to one that is still starting', async () => {
    const rec = supervisor({ stopTimeoutMs: 1000 });
    const app = await fakeApp('listen ignore-term'); // never ready; notes every control line
    const starting = rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
    await waitFor('runtime started', () => app.parents().length === 1);
    rec.supervisor.setMetricsSubscription({ ids: [app.config], intervalMs: 300 });
    await rec.supervisor.stop(app.config); // SIGKILL after 1 s: time enough to note a line sent before
    await starting;
    assert.deepEqual(app.controls(), []);
  });
});

describe('auto-restart follows the settings', { timeout: 60_000 }, () => {
  it('each change restarts (added, changed, removed files, named in one line); settings swap the watcher', async () => {
    const rec = supervisor();
    const app = await fakeApp('ready');
    const info = await rec.supervisor.start({
      ...startParams(app.config, app.dir, { autoRestart: true, autoRestartDelayMs: 60_000 }),
      pythonPath: fakePython,
    });
    const server = rec.supervisor.get(info.id)!;
    await server.watcherReady();
    const watcher = watcherOf(server);
    assert.ok(watcher);

    // The same settings: the same watcher (no rescan). Only the delay changes: a new one, with that delay.
    await rec.supervisor.updateOptions({ id: info.id, autoRestart: true, autoRestartDelayMs: 60_000 });
    assert.equal(watcherOf(server), watcher);
    await rec.supervisor.updateOptions({ id: info.id, autoRestart: true, autoRestartDelayMs: 1000 });
    assert.notEqual(watcherOf(server), watcher);
    await server.watcherReady();

    // A burst (an existing file changed, a new one added) within the 1 s debounce: one restart naming both.
    fs.writeFileSync(path.join(app.dir, 'notes.txt'), 'not Python, not the config: ignored\n');
    fs.writeFileSync(path.join(app.dir, 'app.py'), 'application = 2\n');
    fs.writeFileSync(path.join(app.dir, 'util.py'), 'x = 1\n');
    await waitFor('restart after the burst', () => supervisorLines(rec).length === 1, 20_000);
    assert.match(supervisorLines(rec)[0], /^Restarting: changed: (app\.py, util\.py|util\.py, app\.py)$/);
    await waitFor('running again', () => rec.supervisor.list()[0].state === 'running');
    // Files that never matter are not even watched; a watch error (EMFILE, a folder removed) is not fatal.
    const chokidar = (watcherOf(server) as { watcher: import('chokidar').FSWatcher }).watcher;
    const watched = chokidar.getWatched()[fs.realpathSync(app.dir)] ?? chokidar.getWatched()[app.dir];
    assert.ok(watched.includes('app.py') && !watched.includes('notes.txt'), watched.join(' '));
    chokidar.emit('error', new Error('EMFILE: too many open files'));

    // The watcher outlives the restart: a removed file restarts it again.
    fs.rmSync(path.join(app.dir, 'util.py'));
    await waitFor('restart after the removal', () => supervisorLines(rec).length === 2, 20_000);
    assert.equal(supervisorLines(rec)[1], 'Restarting: changed: util.py');
    await waitFor('running again', () => rec.supervisor.list()[0].state === 'running');
    assert.equal(app.parents().length, 3);

    // Stopped by the user: turning auto-restart off and on again does not start watching.
    await rec.supervisor.stop(info.id);
    assert.equal(watcherOf(server), undefined);
    await rec.supervisor.updateOptions({ id: info.id, autoRestart: false, autoRestartDelayMs: 1000 });
    await rec.supervisor.updateOptions({ id: info.id, autoRestart: true, autoRestartDelayMs: 1000 });
    assert.equal(watcherOf(server), undefined);
  });
});
