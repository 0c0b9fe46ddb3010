/**
 * What the supervisor signals, in which order, and what it does when a runtime misbehaves: one that ignores
 * SIGTERM must be SIGKILLed after stopTimeout, one that never says "ready" is stopped by the start timeout.
 * The runtime here is test/unit/fixtures/fakeRuntime.py (a real process group, a forked worker, every signal
 * it receives written down); the supervisor is the real one. Stop and restart with the real runtime are in
 * supervisor.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ServerInfo } from '../../server-runtime/src/protocol';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import { RuntimeProcess } from '../../server-runtime/src/supervisor/runtimeProcess';
import {
  isAlive,
  makeApp,
  makeSupervisor,
  python,
  removeTempDirs,
  repoRoot,
  startParams,
  waitFor,
} from './supervisorHarness';

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-fake-'));
/** The "interpreter" the supervisor spawns: runs the fake runtime with the same pid (exec), whatever it is asked. */
const fakePython = path.join(bin, 'python');
fs.writeFileSync(
  fakePython,
  `#!/bin/sh\nexec ${python} ${path.join(repoRoot, 'test', 'unit', 'fixtures', 'fakeRuntime.py')} "$@"\n`,
  { mode: 0o755 },
);
after(() => {
  fs.rmSync(bin, { recursive: true, force: true });
  removeTempDirs();
});

/** A config whose comment tells the fake runtime how to behave (see fakeRuntime.py). */
async function fakeApp(modes: string): Promise<{ dir: string; config: string; events: () => string[] }> {
  const app = makeApp('application = None\n', await findFreePort(), `# fake: ${modes}\n`);
  const log = path.join(app.dir, 'signals.log');
  return {
    ...app,
    events: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

/** The events of one role ("parent"/"child"), pid left out: ["started", "SIGTERM"]. */
function eventsOf(lines: string[], role: string): string[] {
  return lines.filter((l) => l.startsWith(`${role} `)).map((l) => l.split(' ')[2]);
}

function pidsOf(lines: string[], role = ''): number[] {
  return lines
    .filter((l) => l.startsWith(role) && l.endsWith(' started'))
    .map((l) => Number(l.split(' ')[1]));
}

/** Consecutive repeats folded: a state notified twice in a row is one step for these tests. */
function steps(states: ServerInfo[]): string[] {
  return states.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]);
}

function spawnFake(app: { dir: string; config: string }) {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const proc = new RuntimeProcess(
    { python: fakePython, configPath: app.config, cwd: app.dir, runtimePath: bin },
    {
      message: () => undefined,
      stdout: () => undefined,
      stderr: () => undefined,
      exit: (code, signal) => (exit = { code, signal }),
    },
  );
  return { proc, exit: () => exit };
}

// Suite timeouts (about ten times the normal run) turn a hang, e.g. a stop that never escalates, into a failure.
describe(
  'runtime process: stop signals the process group, SIGTERM first, SIGKILL after the timeout',
  { timeout: 15_000 },
  () => {
    it('a runtime that ignores SIGTERM gets it once (it and its worker), then SIGKILL after stopTimeout', async () => {
      const app = await fakeApp('ignore-term fork');
      const { proc, exit } = spawnFake(app);
      await waitFor('parent and worker started', () => pidsOf(app.events()).length === 2);
      const began = Date.now();
      await proc.stop(700);
      const took = Date.now() - began;
      // The bound is the point: not before the timeout (the runtime gets its grace time), and SIGKILL does
      // come (generous upper bound for a loaded 2-core machine).
      assert.ok(took >= 700, `SIGKILL came after ${took} ms, before the 700 ms timeout`);
      assert.ok(took < 5000, `stop took ${took} ms`);
      assert.deepEqual(exit(), { code: null, signal: 'SIGKILL' });
      const lines = app.events();
      assert.deepEqual(eventsOf(lines, 'parent'), ['started', 'SIGTERM']);
      assert.deepEqual(
        eventsOf(lines, 'child'),
        ['started', 'SIGTERM'],
        'the worker is in the signalled group',
      );
      // A SIGKILLed process may take a moment to go on a loaded machine: wait for it, a survivor still fails.
      await waitFor('no process left (survived)', () => pidsOf(lines).every((pid) => !isAlive(pid)), 3000);
      assert.equal(proc.hasExited, true);
      assert.equal(proc.signal('SIGTERM'), false, 'nothing is signalled once it is gone');
    });

    it('a runtime that exits on SIGTERM is not killed: exit code 0, no signal, well before the timeout', async () => {
      const app = await fakeApp('fork');
      const { proc, exit } = spawnFake(app);
      await waitFor('parent and worker started', () => pidsOf(app.events()).length === 2);
      const began = Date.now();
      await proc.stop(10_000);
      assert.ok(Date.now() - began < 5000, 'stop waited for the SIGKILL timeout');
      assert.deepEqual(exit(), { code: 0, signal: null });
      assert.deepEqual(eventsOf(app.events(), 'parent'), ['started', 'SIGTERM']);
      assert.deepEqual(eventsOf(app.events(), 'child'), ['started', 'SIGTERM']);
      await proc.stop(10); // already gone: nothing to do, no error
      assert.equal(app.events().length, 4);
    });

    it('kill() is an immediate SIGKILL of the whole group, without SIGTERM', async () => {
      const app = await fakeApp('fork');
      const { proc, exit } = spawnFake(app);
      await waitFor('parent and worker started', () => pidsOf(app.events()).length === 2);
      proc.kill();
      await proc.whenExited();
      assert.deepEqual(exit(), { code: null, signal: 'SIGKILL' });
      assert.deepEqual(eventsOf(app.events(), 'parent'), ['started']);
      await waitFor('the worker to be gone', () => pidsOf(app.events()).every((pid) => !isAlive(pid)), 3000);
    });
  },
);

describe(
  'managed server: stop, restart and the start timeout with misbehaving runtimes',
  { timeout: 60_000 },
  () => {
    it('Stop: SIGTERM to the group, SIGKILL after stopTimeout when ignored; states running -> stopping -> stopped', async () => {
      const rec = makeSupervisor({ stopTimeoutMs: 600 });
      const app = await fakeApp('ready ignore-term fork');
      const info = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: fakePython,
      });
      assert.equal(info.state, 'running', JSON.stringify(info));
      await waitFor('worker started', () => pidsOf(app.events()).length === 2);
      const began = Date.now();
      const stopped = await rec.supervisor.stop(info.id);
      assert.ok(Date.now() - began >= 600, 'killed before stopTimeout');
      assert.deepEqual([stopped.state, stopped.error], ['stopped', undefined]);
      assert.deepEqual(steps(rec.states), ['starting', 'running', 'stopping', 'stopped']);
      const lines = app.events();
      assert.deepEqual(eventsOf(lines, 'parent'), ['started', 'SIGTERM']);
      assert.deepEqual(eventsOf(lines, 'child'), ['started', 'SIGTERM']);
      // A SIGKILLed process may take a moment to go on a loaded machine: wait for it, a survivor still fails.
      await waitFor(
        'no process left (outlived Stop)',
        () => pidsOf(lines).every((pid) => !isAlive(pid)),
        3000,
      );
      // A second Stop signals nothing.
      assert.equal((await rec.supervisor.stop(info.id)).state, 'stopped');
      assert.equal(app.events().length, lines.length);
    });

    it('Restart: the old group gets one SIGTERM and is gone before the new runtime starts', async () => {
      const rec = makeSupervisor({ stopTimeoutMs: 500 });
      const app = await fakeApp('ready ignore-term fork');
      const first = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: fakePython,
      });
      await waitFor('worker started', () => pidsOf(app.events()).length === 2);
      const old = [pidsOf(app.events(), 'parent ')[0], pidsOf(app.events(), 'child ')[0]];
      const second = await rec.supervisor.restart(first.id);
      assert.equal(second.state, 'running', JSON.stringify(second));
      assert.notEqual(second.pid, first.pid);
      const lines = app.events();
      const at = (role: string, pid: number, event: string) => lines.indexOf(`${role} ${pid} ${event}`);
      // In the order they happened: both old processes got SIGTERM (once) before the new runtime started.
      assert.deepEqual(eventsOf(lines.slice(0, 4), 'parent'), ['started', 'SIGTERM']);
      assert.deepEqual(eventsOf(lines.slice(0, 4), 'child'), ['started', 'SIGTERM']);
      const newStart = at('parent', second.pid!, 'started');
      assert.ok(
        newStart > at('parent', old[0], 'SIGTERM') && newStart > at('child', old[1], 'SIGTERM'),
        lines.join('\n'),
      );
      // A SIGKILLed process may take a moment to go on a loaded machine: wait for it, a survivor still fails.
      await waitFor('no old process left after the restart', () => old.every((pid) => !isAlive(pid)), 3000);
      assert.deepEqual(steps(rec.states), ['starting', 'running', 'restarting', 'running']);
      await rec.supervisor.stopAll();
    });

    it('a runtime that never says ready: the start timeout stops it, says why, and leaves no process', async () => {
      const rec = makeSupervisor({ stopTimeoutMs: 500, startTimeoutMs: 1000 });
      const app = await fakeApp('ignore-term fork');
      const began = Date.now();
      const info = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: fakePython,
      });
      const took = Date.now() - began;
      assert.equal(info.state, 'stopped');
      assert.equal(info.error?.kind, 'other');
      assert.equal(info.error?.message, 'The server did not report ready within 1 s; stopped it.');
      assert.equal(info.pid, undefined);
      // The start timeout (1 s) plus the SIGKILL grace (0.5 s), and the state comes only once all is gone.
      assert.ok(took >= 1500, `gave up after ${took} ms`);
      const lines = app.events();
      assert.deepEqual(eventsOf(lines, 'parent'), ['started', 'SIGTERM']);
      assert.deepEqual(eventsOf(lines, 'child'), ['started', 'SIGTERM']);
      // A SIGKILLed process may take a moment to go on a loaded machine: wait for it, a survivor still fails.
      await waitFor(
        'no process left (outlived the failed start)',
        () => pidsOf(lines).every((pid) => !isAlive(pid)),
        3000,
      );
      assert.deepEqual(steps(rec.states), ['starting', 'stopped']);
    });

    it('Stop during a start that hangs and ignores SIGTERM: SIGKILL after stopTimeout, not the start timeout', async () => {
      const rec = makeSupervisor({ stopTimeoutMs: 500, startTimeoutMs: 30_000 });
      const app = await fakeApp('ignore-term');
      const starting = rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
      await waitFor('runtime started', () => pidsOf(app.events()).length === 1);
      const began = Date.now();
      const stopped = await rec.supervisor.stop(app.config);
      const took = Date.now() - began;
      assert.ok(took >= 500 && took < 10_000, `stop took ${took} ms`);
      assert.deepEqual([stopped.state, stopped.error], ['stopped', undefined]);
      const started = await starting;
      assert.deepEqual(
        [started.state, started.error],
        ['stopped', undefined],
        'a stop is not a failed start',
      );
      assert.deepEqual(eventsOf(app.events(), 'parent'), ['started', 'SIGTERM']);
      await waitFor('the process to be gone', () => !isAlive(pidsOf(app.events())[0]), 3000);
    });

    it('supervisor exit (killAll): SIGKILL at once, no SIGTERM first', async () => {
      const rec = makeSupervisor({ stopTimeoutMs: 5000 });
      const app = await fakeApp('ready ignore-term fork');
      const info = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: fakePython,
      });
      await waitFor('worker started', () => pidsOf(app.events()).length === 2);
      rec.supervisor.killAll();
      await waitFor('the group to be gone', () => pidsOf(app.events()).every((pid) => !isAlive(pid)), 3000);
      assert.deepEqual(eventsOf(app.events(), 'parent'), ['started']);
      assert.deepEqual(eventsOf(app.events(), 'child'), ['started']);
      await waitFor('the process to be gone', () => !isAlive(info.pid!), 3000);
    });

    it('LSP shutdown (stopAll): the same graceful stop, SIGKILL after stopTimeout', async () => {
      const rec = makeSupervisor({ stopTimeoutMs: 400 });
      const app = await fakeApp('ready ignore-term');
      await rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
      const began = Date.now();
      await rec.supervisor.stopAll();
      assert.ok(Date.now() - began >= 400);
      assert.deepEqual(eventsOf(app.events(), 'parent'), ['started', 'SIGTERM']);
      await waitFor('the process to be gone', () => !isAlive(pidsOf(app.events())[0]), 3000);
    });
  },
);
