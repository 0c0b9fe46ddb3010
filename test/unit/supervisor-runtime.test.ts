/**
 * RuntimeProcess at its edges, against the fake runtime (fixtures/fakeRuntime.py): the listener's exact calls
 * (never an empty batch of lines, exactly one exit, the spawn error's own exit), control-channel noise, what
 * signal() answers and its fallback when the group cannot be signalled, and when a metrics command is (not)
 * written on the control socket.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import { RuntimeProcess } from '../../server-runtime/src/supervisor/runtimeProcess';
import { makeApp, python, removeTempDirs, repoRoot, waitFor } from './supervisorHarness';

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-fakert-'));
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
  const log = path.join(app.dir, 'signals.log');
  return {
    ...app,
    events: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

/** Every listener call as it came: the tests look at the batches themselves, not only at the lines. */
function spawnRecorded(python: string, app: { dir: string; config: string }) {
  const calls = {
    stdout: [] as string[][],
    stderr: [] as string[][],
    messages: [] as { type: string }[],
    exits: [] as { code: number | null; signal: NodeJS.Signals | null; spawnError?: string }[],
  };
  const proc = new RuntimeProcess(
    { python, configPath: app.config, cwd: app.dir, runtimePath: bin },
    {
      message: (m) => calls.messages.push(m),
      stdout: (lines) => calls.stdout.push(lines),
      stderr: (lines) => calls.stderr.push(lines),
      exit: (code, signal, spawnError) =>
        calls.exits.push({ code, signal, ...(spawnError ? { spawnError: spawnError.message } : {}) }),
    },
  );
  return { proc, calls };
}

/** Lets pending callbacks (a second exit, say) run before the test looks. */
const settle = () => new Promise((r) => setTimeout(r, 100));

describe('runtime process edges', { timeout: 30_000 }, () => {
  it('an interpreter that does not exist: one exit, with the spawn error and no exit code', async () => {
    const app = await fakeApp('ready');
    const { proc, calls } = spawnRecorded(path.join(bin, 'no-such-python'), app);
    await proc.whenExited();
    await settle();
    assert.deepEqual(calls.exits, [
      { code: null, signal: null, spawnError: `spawn ${path.join(bin, 'no-such-python')} ENOENT` },
    ]);
    assert.deepEqual([calls.stdout, calls.stderr, calls.messages], [[], [], []]);
    assert.equal(proc.hasExited, true);
    assert.equal(proc.signal('SIGTERM'), false);
  });

  it('control noise: blank lines are skipped, a stray line is reported cut at 200 characters', async () => {
    const app = await fakeApp('noise ready');
    const { proc, calls } = spawnRecorded(fakePython, app);
    await waitFor('ready', () => calls.messages.length === 1);
    await proc.stop(3000);
    await settle();
    assert.deepEqual(calls.stderr, [[`[control] unrecognised line: ${'x'.repeat(200)}`]]);
    assert.deepEqual(calls.stdout, [], 'no output, no (empty) batch');
    assert.deepEqual(calls.exits, [{ code: 0, signal: null }]);
  });

  it('a stdout line without its line end: one batch, at the exit, with that line', async () => {
    const app = await fakeApp('chatty');
    const { proc, calls } = spawnRecorded(fakePython, app);
    await proc.whenExited();
    await settle();
    assert.deepEqual(calls.stdout, [['partial stdout']]);
    assert.ok(calls.stderr.every((batch) => batch.length > 0));
    assert.deepEqual(calls.exits, [{ code: 1, signal: null }]);
  });

  it('signal(): true when sent to the group, false for a signal that cannot be sent', async () => {
    const app = await fakeApp('ready ignore-term');
    const { proc, calls } = spawnRecorded(fakePython, app);
    await waitFor('ready', () => calls.messages.length === 1);
    assert.equal(proc.signal('SIGHUP'), true);
    await waitFor('SIGHUP noted', () => app.events().some((l) => l.endsWith(' SIGHUP')));
    assert.equal(proc.signal('SIGNOPE' as NodeJS.Signals), false);

    // The group cannot be signalled (it is gone, or not ours): the child itself still is.
    const kill = process.kill;
    process.kill = ((pid: number, sig?: string | number) => {
      if (pid < 0) throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
      return kill(pid, sig);
    }) as typeof process.kill;
    try {
      assert.equal(proc.signal('SIGINT'), true);
    } finally {
      process.kill = kill;
    }
    await waitFor('SIGINT noted', () => app.events().some((l) => l.endsWith(' SIGINT')));

    // An error on the control socket (EPIPE once the child is gone) is not the supervisor's error.
    const control = proc.child.stdio[3] as Socket;
    control.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));

    // Killed: the control socket is destroyed at once, so no command is written to it any more.
    const written: string[] = [];
    const write = control.write.bind(control);
    control.write = ((chunk: string, ...rest: never[]) => {
      written.push(chunk);
      return write(chunk, ...rest);
    }) as typeof control.write;
    proc.setMetricsInterval(100);
    assert.deepEqual(written, ['{"cmd":"metrics","intervalMs":100}\n']);
    proc.kill();
    proc.setMetricsInterval(200);
    await proc.whenExited();
    proc.setMetricsInterval(300);
    await settle();
    assert.deepEqual(written, ['{"cmd":"metrics","intervalMs":100}\n']);
    assert.deepEqual(calls.exits, [{ code: null, signal: 'SIGKILL' }]);
    assert.deepEqual([calls.stdout, calls.stderr], [[], []]);
  });
});
