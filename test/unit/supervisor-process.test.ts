/**
 * One runtime process from the supervisor's side, against the fake runtime (fixtures/fakeRuntime.py): the exact
 * command line and environment it gets, its three outputs (stderr tail, stray control lines, an unterminated
 * last line), the control commands it is sent, and a running server's start/metrics bookkeeping.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import { RuntimeProcess } from '../../server-runtime/src/supervisor/runtimeProcess';
import {
  makeApp,
  makeSupervisor,
  python,
  removeTempDirs,
  repoRoot,
  startParams,
  waitFor,
} from './supervisorHarness';

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-fakeproc-'));
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

async function fakeApp(modes: string) {
  const app = makeApp('application = None\n', await findFreePort(), `# fake: ${modes}\n`);
  const file = (name: string) => path.join(app.dir, name);
  return {
    ...app,
    events: () =>
      fs.existsSync(file('signals.log')) ? fs.readFileSync(file('signals.log'), 'utf8').split('\n') : [],
    controls: () =>
      (fs.existsSync(file('signals.log')) ? fs.readFileSync(file('signals.log'), 'utf8').split('\n') : [])
        .filter((l) => l.includes(' control '))
        .map((l) => l.split(' control ')[1]),
    launch: () =>
      JSON.parse(fs.readFileSync(file('launch.json'), 'utf8')) as {
        argv: string[];
        cwd: string;
        PYTHONPATH: string | null;
        PYTHONUNBUFFERED: string | null;
      },
  };
}

function record() {
  const out = {
    stdout: [] as string[],
    stderr: [] as string[],
    messages: [] as unknown[],
    exit: undefined as unknown,
  };
  return {
    out,
    listener: {
      message: (m: unknown) => out.messages.push(m),
      stdout: (lines: string[]) => out.stdout.push(...lines),
      stderr: (lines: string[]) => out.stderr.push(...lines),
      exit: (code: number | null, signal: NodeJS.Signals | null) => (out.exit = { code, signal }),
    },
  };
}

// Suite timeouts (about ten times the normal run) turn a hang into a failure.
describe('runtime process', { timeout: 30_000 }, () => {
  it('gets the exact command line, working directory and environment, --port only when overridden', async () => {
    const app = await fakeApp('ready');
    const runtimePath = path.join(bin, 'runtime');
    const saved = process.env.PYTHONPATH;
    delete process.env.PYTHONPATH;
    try {
      const r = record();
      const proc = new RuntimeProcess(
        { python: fakePython, configPath: app.config, cwd: app.dir, runtimePath },
        r.listener,
      );
      await waitFor('launch.json', () => fs.existsSync(path.join(app.dir, 'launch.json')));
      assert.deepEqual(app.launch(), {
        argv: ['-m', 'Server_3_free_threads', '--config', app.config, '--control-fd', '3'],
        cwd: fs.realpathSync(app.dir),
        PYTHONPATH: runtimePath,
        PYTHONUNBUFFERED: '1',
      });
      await waitFor('ready', () => r.out.messages.length === 1);
      assert.equal((r.out.messages[0] as { type: string }).type, 'ready');
      await proc.stop(2000);
      fs.rmSync(path.join(app.dir, 'launch.json'));

      process.env.PYTHONPATH = '/extra/one';
      const again = new RuntimeProcess(
        { python: fakePython, configPath: app.config, cwd: app.dir, runtimePath, port: 1234 },
        record().listener,
      );
      await waitFor('launch.json', () => fs.existsSync(path.join(app.dir, 'launch.json')));
      assert.deepEqual(app.launch().argv.slice(-2), ['--port', '1234']);
      assert.equal(app.launch().PYTHONPATH, `${runtimePath}:/extra/one`);
      await again.stop(2000);
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
    }
  });

  it('relays stderr with a bounded tail, flags stray control lines, flushes an unterminated last line', async () => {
    const app = await fakeApp('chatty');
    const r = record();
    const proc = new RuntimeProcess(
      { python: fakePython, configPath: app.config, cwd: app.dir, runtimePath: bin },
      r.listener,
    );
    await proc.whenExited();
    assert.deepEqual(r.out.exit, { code: 1, signal: null });
    const lines = Array.from({ length: 70 }, (_, i) => `stderr line ${i}`);
    assert.deepEqual(
      r.out.stderr.filter((l) => l.startsWith('stderr line')),
      lines,
    );
    assert.ok(
      r.out.stderr.includes('[control] unrecognised line: this is not json'),
      r.out.stderr.join('\n'),
    );
    assert.deepEqual(
      proc.recentStderr(),
      lines.slice(10),
      'the last 60 stderr lines, control noise left out',
    );
    assert.deepEqual(r.out.stdout, ['partial stdout']);
    assert.deepEqual(r.out.messages, []);
    proc.setMetricsInterval(100); // gone: nothing to write to, no error
  });

  it('a failed start is explained by the last stderr line and the tail', async () => {
    const rec = makeSupervisor();
    const app = await fakeApp('chatty');
    const info = await rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
    assert.equal(info.state, 'stopped');
    assert.deepEqual(info.error, {
      kind: 'other',
      message: 'The server exited with code 1: stderr line 69.',
      traceback: Array.from({ length: 10 }, (_, i) => `stderr line ${60 + i}`).join('\n'),
    });
    assert.ok(rec.logs.some((l) => l.stream === 'access' && l.lines.includes('partial stdout')));
    assert.ok(rec.logs.some((l) => l.stream === 'stderr' && l.lines.includes('stderr line 0')));
  });
});

describe('managed server bookkeeping', { timeout: 30_000 }, () => {
  it('metrics commands: the subscription made before the start is sent once ready, changes only when it changes', async () => {
    const rec = makeSupervisor({ stopTimeoutMs: 2000 });
    const app = await fakeApp('ready listen');
    rec.supervisor.setMetricsSubscription({ ids: [app.config], intervalMs: 300 });
    const params = { ...startParams(app.config, app.dir), pythonPath: fakePython };
    const info = await rec.supervisor.start(params);
    assert.equal(info.state, 'running', JSON.stringify(info));
    await waitFor('first command', () => app.controls().length === 1);
    rec.supervisor.setMetricsSubscription({ ids: [app.config], intervalMs: 300 }); // unchanged: not sent again
    rec.supervisor.setMetricsSubscription({ ids: ['other'], intervalMs: 300 }); // not this server: 0
    rec.supervisor.setMetricsSubscription({ ids: [app.config], intervalMs: -20 }); // clamped to 0: unchanged
    rec.supervisor.setMetricsSubscription({ ids: [app.config], intervalMs: 500 });
    await waitFor('three commands', () => app.controls().length === 3);
    assert.deepEqual(app.controls(), [
      '{"cmd":"metrics","intervalMs":300}',
      '{"cmd":"metrics","intervalMs":0}',
      '{"cmd":"metrics","intervalMs":500}',
    ]);

    // Start while running: nothing happens, same process, no new state.
    const states = rec.states.length;
    const same = await rec.supervisor.start(params);
    assert.equal(same.pid, info.pid);
    assert.equal(rec.states.length, states);

    // Start with a port override while running: restarted there, and the subscription follows the new process.
    const port = await findFreePort();
    const moved = await rec.supervisor.start({ ...params, portOverride: port });
    assert.notEqual(moved.pid, info.pid);
    assert.deepEqual(app.launch().argv.slice(-2), ['--port', String(port)]);
    assert.deepEqual(
      rec.states.slice(states).map((s) => s.state),
      ['restarting', 'starting', 'running'],
    );
    await waitFor('the new process is told the interval', () =>
      app
        .events()
        .some((l) => l.startsWith(`parent ${moved.pid} control {"cmd":"metrics","intervalMs":500}`)),
    );
    const stopped = await rec.supervisor.stop(info.id);
    // Nothing of the dead process is left to open or show; the interpreter it ran stays known.
    assert.deepEqual(Object.keys(stopped).sort(), ['configUri', 'id', 'python', 'state']);
  });

  it('a stopped server is not told about metrics, and its snapshot has no stale fields', async () => {
    const rec = makeSupervisor({ stopTimeoutMs: 2000 });
    const app = await fakeApp('ready listen');
    const info = await rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: fakePython });
    assert.deepEqual(
      [info.url, info.host, info.port, info.pid, info.python],
      ['http://127.0.0.1:9', '127.0.0.1', 9, info.pid, fakePython],
    );
    await rec.supervisor.stop(info.id);
    rec.supervisor.setMetricsSubscription({ ids: [info.id], intervalMs: 200 });
    assert.deepEqual(app.controls(), []);
    assert.deepEqual(rec.supervisor.list(), [
      { id: info.id, configUri: info.configUri, state: 'stopped', python: fakePython },
    ]);
  });
});
