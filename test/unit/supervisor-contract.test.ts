/**
 * The supervisor's small parts, each against its exact contract: the control channel's lines, how a failure
 * becomes one ServerError (every exit code, signal and report), line splitting, traceback locations, ports,
 * validate-first messages, the file watcher's ignore rule and the Supervisor's own bookkeeping.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  describeExit,
  describeRuntimeError,
  describeSpawnError,
} from '../../server-runtime/src/supervisor/errors';
import { isIgnoredPath } from '../../server-runtime/src/supervisor/fileWatcher';
import { LineSplitter } from '../../server-runtime/src/supervisor/lineSplitter';
import { findFreePort, isPortInUse } from '../../server-runtime/src/supervisor/ports';
import {
  ExitCode,
  metricsCommand,
  parseRuntimeMessage,
} from '../../server-runtime/src/supervisor/runtimeMessages';
import { configPathOf, Supervisor } from '../../server-runtime/src/supervisor/supervisor';
import { locateInTraceback } from '../../server-runtime/src/supervisor/traceback';
import { validateConfigFile } from '../../server-runtime/src/supervisor/validateConfig';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-contract-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('control channel', () => {
  it('parses the five known messages and nothing else', () => {
    for (const type of ['ready', 'error', 'metrics', 'reloaded', 'stopping'])
      assert.deepEqual(parseRuntimeMessage(JSON.stringify({ type, x: 1 })), { type, x: 1 });
    for (const line of [
      '',
      '   ',
      '{"type":"hello"}',
      '{"type":1}',
      '{}',
      'null',
      '[1]',
      'not json',
      '{"type":"ready"',
    ])
      assert.equal(parseRuntimeMessage(line), undefined, line);
  });

  it('the metrics command is one JSON line; the exit codes are the contract with the runtime', () => {
    assert.equal(metricsCommand(250), '{"cmd":"metrics","intervalMs":250}\n');
    assert.equal(metricsCommand(0), '{"cmd":"metrics","intervalMs":0}\n');
    assert.deepEqual(ExitCode, {
      clean: 0,
      other: 1,
      configInvalid: 2,
      appImport: 3,
      addressInUse: 4,
      stageDied: 5,
    });
  });

  it('splits a stream into lines, keeps a partial one, cuts a runaway one', () => {
    const s = new LineSplitter(8);
    assert.deepEqual(s.push('a\nb'), ['a']);
    assert.deepEqual(s.push('c\r\nd\n\n'), ['bc', 'd', '']);
    assert.deepEqual(s.push(Buffer.from('12345678')), []); // exactly the limit: still waiting
    assert.deepEqual(s.push('9'), ['123456789']); // past it: cut
    assert.deepEqual(s.push('x'), []);
    assert.deepEqual(s.flush(), ['x']);
    assert.deepEqual(s.flush(), []);
    assert.deepEqual(new LineSplitter().push('y'.repeat(1000)), []);
  });
});

describe('errors: what a failed runtime left behind, as one ServerError', { timeout: 10_000 }, () => {
  const cwd = '/srv/app';
  const runtime = '/opt/runtime';
  const tb =
    'Traceback (most recent call last):\n  File "/srv/app/wsgi.py", line 7, in <module>\nImportError: no flask';

  it("the runtime's own report wins over the exit code", async () => {
    const reported = { kind: 'app-import' as const, message: 'said so' };
    assert.equal(await describeExit(3, null, ['x'], reported, cwd, runtime), reported);
  });

  it('exit 5: a pipeline thread died, named from its stderr line, with the traceback', async () => {
    const died =
      '[2026-11-30 12:00:00,000] [ERROR] the app-2 thread died (MemoryError); the server cannot serve without it: exiting with code 5 so that it is restarted';
    const stderr = [
      'noise',
      died,
      'Traceback (most recent call last):',
      '  File "/x/app_thread.py"',
      'MemoryError',
    ];
    assert.deepEqual(await describeExit(5, null, stderr, undefined, cwd, runtime), {
      kind: 'stage-died',
      message: 'the app-2 thread died (MemoryError)',
      thread: 'app-2',
      traceback: stderr.slice(2).join('\n'),
    });
    // No such line (it was lost): still a stage death, said plainly, with the last lines as the traceback.
    assert.deepEqual(await describeExit(5, null, ['a', 'b'], undefined, cwd, runtime), {
      kind: 'stage-died',
      message: 'A thread of the server died.',
      traceback: 'a\nb',
    });
    assert.deepEqual(await describeExit(5, null, [], undefined, cwd, runtime), {
      kind: 'stage-died',
      message: 'A thread of the server died.',
    });
    // The control channel's report, when there was one, wins as for every code.
    const reported = { kind: 'stage-died' as const, message: 'the read thread died (X)', thread: 'read' };
    assert.equal(await describeExit(5, null, stderr, reported, cwd, runtime), reported);
  });

  it('exit 2: config invalid, the last non-blank stderr line, or a default', async () => {
    assert.deepEqual(await describeExit(2, null, ['a', 'PORT bad', '  '], undefined, cwd, runtime), {
      kind: 'config-invalid',
      message: 'PORT bad',
    });
    assert.deepEqual(await describeExit(2, null, [], undefined, cwd, runtime), {
      kind: 'config-invalid',
      message: 'the runtime rejected the config (see the output)',
    });
  });

  it('exit 3: app import, the traceback from its first line on, and the user frame', async () => {
    const stderr = ['starting', 'noise', ...tb.split('\n')];
    assert.deepEqual(await describeExit(3, null, stderr, undefined, cwd, runtime), {
      kind: 'app-import',
      message: 'ImportError: no flask',
      traceback: tb,
      file: '/srv/app/wsgi.py',
      line: 7,
    });
    // Two tracebacks: the last one is the one that ended the process.
    const twice = [...tb.split('\n'), ...tb.replace('line 7', 'line 9').split('\n')];
    assert.equal((await describeExit(3, null, twice, undefined, cwd, runtime)).line, 9);
    const none = await describeExit(3, null, [], undefined, cwd, runtime);
    assert.deepEqual(none, { kind: 'app-import', message: 'see the traceback in the output', traceback: '' });
  });

  it('exit 4: port in use, with a free port to suggest', async () => {
    const e = await describeExit(4, null, ['OSError: in use'], undefined, cwd, runtime);
    assert.equal(e.kind, 'port-in-use');
    assert.equal(e.message, 'OSError: in use');
    assert.ok(e.suggestedPort! > 0 && !(await isPortInUse('127.0.0.1', e.suggestedPort!)));
    assert.equal(
      (await describeExit(4, null, [], undefined, cwd, runtime)).message,
      'The address is already in use.',
    );
  });

  it('a signal: crashed, with the last lines; exit 0: exited; others: the code and last line', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i}`);
    assert.deepEqual(await describeExit(null, 'SIGKILL', lines, undefined, cwd, runtime), {
      kind: 'crashed',
      message: 'The server was killed by SIGKILL.',
      traceback: lines.slice(-10).join('\n'),
    });
    assert.deepEqual(await describeExit(null, 'SIGSEGV', [], undefined, cwd, runtime), {
      kind: 'crashed',
      message: 'The server was killed by SIGSEGV.',
      traceback: undefined,
    });
    assert.deepEqual(await describeExit(0, null, ['bye'], undefined, cwd, runtime), {
      kind: 'other',
      message: 'The server exited.',
    });
    assert.deepEqual(await describeExit(1, null, ['odd', ''], undefined, cwd, runtime), {
      kind: 'other',
      message: 'The server exited with code 1: odd.',
      traceback: 'odd\n',
    });
    assert.deepEqual(await describeExit(7, null, [], undefined, cwd, runtime), {
      kind: 'other',
      message: 'The server exited with code 7.',
      traceback: undefined,
    });
  });

  it('a control-channel error: kept as said, located from its traceback when it names no file', async () => {
    assert.deepEqual(
      await describeRuntimeError(
        { type: 'error', kind: 'app-import', message: 'm', traceback: tb },
        cwd,
        runtime,
      ),
      { kind: 'app-import', message: 'm', traceback: tb, file: '/srv/app/wsgi.py', line: 7 },
    );
    assert.deepEqual(
      await describeRuntimeError(
        {
          type: 'error',
          kind: 'config-invalid',
          message: 'm',
          file: '/srv/app/.config_server',
          line: 3,
          traceback: tb,
        },
        cwd,
        runtime,
      ),
      { kind: 'config-invalid', message: 'm', traceback: tb, file: '/srv/app/.config_server', line: 3 },
    );
    assert.deepEqual(
      await describeRuntimeError(
        { type: 'error', kind: 'other', message: 'm', file: '/x', line: 0 },
        cwd,
        runtime,
      ),
      { kind: 'other', message: 'm', file: '/x' },
    );
    assert.deepEqual(
      await describeRuntimeError({ type: 'error', kind: 'other', message: 'm' }, cwd, runtime),
      {
        kind: 'other',
        message: 'm',
      },
    );
    const port = await describeRuntimeError(
      { type: 'error', kind: 'port-in-use', message: 'm' },
      cwd,
      runtime,
    );
    assert.ok(port.suggestedPort! > 0);
  });

  it('spawn errors: a missing or non-executable interpreter, or anything else', () => {
    const err = (code: string) => Object.assign(new Error(`spawn x ${code}`), { code });
    for (const code of ['ENOENT', 'EACCES']) {
      const e = describeSpawnError(err(code), '/no/python');
      assert.equal(e.kind, 'interpreter-missing');
      assert.equal(
        e.message,
        `The Python interpreter "/no/python" was not found or is not executable (${code}). Select an interpreter with the Python extension or set server3.pythonPath.`,
      );
    }
    assert.deepEqual(describeSpawnError(err('E2BIG'), 'py'), {
      kind: 'other',
      message: 'Could not start "py": spawn x E2BIG',
    });
  });
});

describe('traceback locations', () => {
  const frames = (...files: [string, number][]) =>
    [
      'Traceback (most recent call last):',
      ...files.map(([f, l]) => `  File "${f}", line ${l}, in x`),
      'Error: e',
    ].join('\n');

  it('the innermost frame in the working directory, else the innermost user frame, else the last', () => {
    const cwd = '/srv/app';
    assert.deepEqual(
      locateInTraceback(
        frames(['/srv/app/a.py', 1], ['/srv/app/b.py', 2], ['/usr/lib/python3.11/json.py', 3]),
        cwd,
      ),
      { file: '/srv/app/b.py', line: 2 },
    );
    // Relative frames resolve against the working directory.
    assert.deepEqual(locateInTraceback(frames(['pkg/c.py', 4]), cwd), { file: '/srv/app/pkg/c.py', line: 4 });
    // Nothing in the workspace: the innermost frame that is not the runtime, stdlib, site-packages or <frozen>.
    assert.deepEqual(
      locateInTraceback(
        frames(
          ['/elsewhere/x.py', 5],
          ['/opt/rt/Server_3_free_threads/app_loader.py', 6],
          ['/v/lib/python3.12/site-packages/flask/app.py', 7],
          ['<frozen importlib._bootstrap>', 8],
          ['/usr/Lib/python3.11/a.py', 9],
        ),
        cwd,
        '/opt/rt',
      ),
      { file: '/elsewhere/x.py', line: 5 },
    );
    // Only the runtime's frames: the last one rather than nothing.
    assert.deepEqual(locateInTraceback(frames(['/opt/rt/a.py', 1], ['/opt/rt/b.py', 2]), cwd, '/opt/rt'), {
      file: '/opt/rt/b.py',
      line: 2,
    });
    // A folder named like the start of the working directory is not inside it.
    assert.deepEqual(locateInTraceback(frames(['/srv/app/a.py', 1], ['/srv/app2/b.py', 2]), cwd), {
      file: '/srv/app/a.py',
      line: 1,
    });
    assert.equal(locateInTraceback('no frames here', cwd), undefined);
    assert.deepEqual(locateInTraceback('  File "/srv/app/w.py", line 3\r\n', cwd), {
      file: '/srv/app/w.py',
      line: 3,
    });
  });
});

describe('ports', { timeout: 10_000 }, () => {
  it('a free port is free; a listening one is in use; another error is not "in use"', async () => {
    const port = await findFreePort();
    assert.ok(port > 0);
    assert.equal(await isPortInUse('127.0.0.1', port), false);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      assert.equal(await isPortInUse('127.0.0.1', port), true);
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(await isPortInUse('192.0.2.1', port), false, 'EADDRNOTAVAIL is not EADDRINUSE');
    await assert.rejects(findFreePort('192.0.2.1'));
  });
});

describe('validate first', { timeout: 10_000 }, () => {
  const write = (name: string, text: string) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const good = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=64\nAPP=app\nDOMAIN=localhost\n';

  it('a valid config (warnings included) passes', async () => {
    assert.equal(await validateConfigFile(write('ok.server3', good + 'NOPE=1\n')), undefined);
  });

  it('one error: where and what; more: the first three and how many more', async () => {
    const one = write('one.server3', good.replace('PORT=8000', 'PORT=x'));
    assert.deepEqual(await validateConfigFile(one), {
      kind: 'config-invalid',
      message: `the config has an error: ${one}:2: error: PORT: 'x' is not an integer; PORT must be an integer from 1 to 65535, e.g. PORT=8000`,
      file: one,
      line: 2,
    });
    const five = write('five.server3', 'HOST=127.0.0.1\nPORT=x\nWORKERS=0\nAPP_THREADS=0\n');
    const e = (await validateConfigFile(five))!;
    assert.equal(e.line, 1); // missing-required problems sit on the first line
    assert.match(e.message, /^the config has 6 errors: /);
    assert.equal(e.message.split('; ').length, 3);
    assert.match(e.message, / \(and 3 more\)$/);
    const four = write(
      'four.server3',
      'HOST=127.0.0.1\nPORT=x\nSOCKET_BACKLOG=64\nAPP=app\nDOMAIN=localhost\nWORKERS=0\nAPP_THREADS=0\nLOG_LEVEL=x\n',
    );
    assert.match((await validateConfigFile(four))!.message, /^the config has 4 errors: .* \(and 1 more\)$/);
    const three = write('three.server3', good.replace('PORT=8000', 'PORT=x') + 'WORKERS=0\nAPP_THREADS=0\n');
    assert.doesNotMatch((await validateConfigFile(three))!.message, /more/);
  });

  it('an unreadable file says so', async () => {
    const missing = path.join(tmp, 'missing.server3');
    const e = (await validateConfigFile(missing))!;
    assert.equal(e.kind, 'config-invalid');
    assert.equal(e.file, missing);
    // A missing file is said in words; any other error keeps its own message (here: a folder).
    assert.equal(e.message, `Cannot read the config file ${missing}: it does not exist`);
    const shown = (await validateConfigFile(missing, tmp))!.message;
    assert.equal(shown, 'Cannot read the config file missing.server3: it does not exist');
    const folder = (await validateConfigFile(tmp))!;
    assert.equal(folder.kind, 'config-invalid');
    assert.match(folder.message, new RegExp(`^Cannot read the config file ${tmp}: EISDIR`));
  });
});

describe('supervisor bookkeeping', () => {
  it('file watcher: folders never entered, at any depth, and nothing else', () => {
    for (const p of [
      '.venv/lib/x.py',
      'a/node_modules/b.py',
      'src/__pycache__/m.pyc',
      '.git/HEAD',
      'env/x.py',
      'a\\venv\\x.py',
    ])
      assert.equal(isIgnoredPath(p), true, p);
    for (const p of ['app.py', 'venvs/x.py', 'my.venv/x.py', 'environment/x.py', 'src/app.py', ''])
      assert.equal(isIgnoredPath(p), false, p);
  });

  it('config URIs and paths', () => {
    assert.equal(configPathOf('file:///w/site/.config_server'), '/w/site/.config_server');
    assert.equal(configPathOf('/w/../w/x.server3'), '/w/x.server3');
    assert.equal(configPathOf('rel/x.server3'), path.resolve('rel/x.server3'));
  });

  it('an unknown server id is an error that says what to do; a negative interval is 0', async () => {
    const states: unknown[] = [];
    const sup = new Supervisor({
      runtimePath: tmp,
      events: { state: (s) => states.push(s), log: () => undefined, metrics: () => undefined },
    });
    for (const call of [() => sup.stop('nope'), () => sup.restart('nope')])
      assert.throws(call, { message: 'No server was started for nope. Run "Server 3: Start" first.' });
    assert.throws(() => sup.updateOptions({ id: 'nope', autoRestart: true, autoRestartDelayMs: 1 }), /nope/);
    assert.deepEqual(sup.list(), []);
    assert.equal(sup.get('nope'), undefined);
    sup.setMetricsSubscription({ ids: ['a'], intervalMs: -5 });
    await sup.stopAll();
    sup.killAll();
    assert.deepEqual(states, []);
  });
});
