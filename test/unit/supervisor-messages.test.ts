/**
 * What a running runtime says on its control channel and what the supervisor makes of it, on the fake runtime
 * (fixtures/fakeRuntime.py): a metrics snapshot relayed with the server's id, a failed reload shown as the
 * running server's error, a good one clearing it (and saying so), and "stopping" taken for nothing else.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { describeExit } from '../../server-runtime/src/supervisor/errors';
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

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-fakemsg-'));
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

describe('control messages of a running runtime', { timeout: 60_000 }, () => {
  it('metrics relayed with the id; reloads: failed = error, good = cleared and said; stopping is nothing else', async () => {
    const rec = makeSupervisor({ stopTimeoutMs: 2000 });
    const app = makeApp(
      'application = None\n',
      await findFreePort(),
      '# fake: ready reload stopping metrics\n',
    );
    const log = path.join(app.dir, 'signals.log');
    const hups = () =>
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.endsWith(' SIGHUP')).length;
    const supervisorLines = () => rec.logs.filter((l) => l.stream === 'supervisor').flatMap((l) => l.lines);
    try {
      const info = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: fakePython,
      });
      assert.equal(info.state, 'running', JSON.stringify(info));
      await waitFor('the snapshot', () => rec.metrics.length === 1);
      assert.deepEqual(rec.metrics, [{ pid: info.pid, requests: 7, id: info.id }]);

      process.kill(info.pid!, 'SIGHUP'); // the first reload fails: the old app keeps serving
      const failed = await waitFor('the reload error', () => rec.supervisor.list()[0].error);
      assert.deepEqual(failed, { kind: 'app-import', message: 'reload failed', file: '/w/app.py', line: 3 });
      assert.equal(rec.supervisor.list()[0].state, 'running');
      assert.deepEqual(supervisorLines(), []);

      process.kill(info.pid!, 'SIGHUP'); // a good one clears it
      await waitFor('cleared', () => rec.supervisor.list()[0].error === undefined);
      assert.deepEqual(supervisorLines(), ['Runtime reloaded the app.']);
      const states = rec.states.length;

      process.kill(info.pid!, 'SIGHUP'); // again: nothing to clear, no new state
      await waitFor('said again', () => supervisorLines().length === 2 && hups() === 3);
      assert.equal(rec.states.length, states);

      const stopped = await rec.supervisor.stop(info.id); // the fake says "stopping" first
      assert.equal(stopped.state, 'stopped');
      assert.deepEqual(supervisorLines(), ['Runtime reloaded the app.', 'Runtime reloaded the app.']);
      assert.equal(rec.metrics.length, 1);
      assert.deepEqual(
        rec.states.slice(states).map((s) => [s.state, s.error]),
        [
          ['stopping', undefined],
          ['stopped', undefined],
        ],
      );
    } finally {
      await rec.supervisor.stopAll();
    }
  });

  it('an error said before ready explains the failed start; one said while stopping is not shown', async () => {
    const rec = makeSupervisor({ stopTimeoutMs: 2000 });
    try {
      const failing = makeApp('application = None\n', await findFreePort(), '# fake: fail\n');
      const failed = await rec.supervisor.start({
        ...startParams(failing.config, failing.dir),
        pythonPath: fakePython,
      });
      assert.deepEqual(
        [failed.state, failed.error],
        ['stopped', { kind: 'config-invalid', message: 'said on the channel' }],
      );

      const app = makeApp('application = None\n', await findFreePort(), '# fake: ready error-on-term\n');
      const info = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: fakePython,
      });
      assert.equal(info.state, 'running');
      const from = rec.states.length;
      const stopped = await rec.supervisor.stop(info.id);
      // The error is described asynchronously: give it time to (wrongly) arrive.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual([stopped.state, stopped.error], ['stopped', undefined]);
      assert.deepEqual(
        rec.states.slice(from).map((s) => [s.state, s.error]),
        [
          ['stopping', undefined],
          ['stopped', undefined],
        ],
      );
      assert.equal(rec.supervisor.list().find((s) => s.id === info.id)?.error, undefined);
    } finally {
      await rec.supervisor.stopAll();
    }
  });
});

describe('exit codes explained from stderr lines of unusual forms', () => {
  it('a "thread died" line of another form: a stage death without a thread or with the plain message', async () => {
    assert.deepEqual(await describeExit(5, null, ['one thread died here'], undefined, '/w', '/r'), {
      kind: 'stage-died',
      message: 'A thread of the server died.',
      traceback: 'one thread died here',
    });
    assert.deepEqual(
      await describeExit(5, null, ['the read thread died without a cause'], undefined, '/w', '/r'),
      {
        kind: 'stage-died',
        message: 'A thread of the server died.',
        traceback: 'the read thread died without a cause',
        thread: 'read',
      },
    );
  });

  it('a traceback on the very first stderr line: all of it, however long', async () => {
    const stderr = [
      'Traceback (most recent call last):',
      ...Array.from({ length: 11 }, (_, i) => `  line ${i}`),
    ];
    const e = await describeExit(3, null, stderr, undefined, '/w', '/r');
    assert.equal(e.traceback, stderr.join('\n'));
  });
});

describe('the stderr tail', () => {
  it('starts empty: a process that wrote nothing leaves nothing to explain a crash with', async () => {
    const proc = new RuntimeProcess(
      { python: path.join(bin, 'no-such-python'), configPath: '/w/c', cwd: bin, runtimePath: bin },
      { message: () => undefined, stdout: () => undefined, stderr: () => undefined, exit: () => undefined },
    );
    await proc.whenExited();
    assert.deepEqual(proc.recentStderr(), []);
  });
});
