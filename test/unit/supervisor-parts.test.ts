/**
 * The supervisor's small parts at the edges the contract tests leave out, all in process and without a Python
 * server: which address and options the port probes bind (a spy on net.Server), a probe that gets no address,
 * traceback frames at their exact syntax, the log relay's clocks on node:test's mock timers (flush delay,
 * one-second windows at their boundary, when the count of left-out lines is sent), and the Supervisor's
 * settings as its servers see them.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { afterEach, describe, it, mock } from 'node:test';
import type { LogParams, ServerError } from '../../server-runtime/src/protocol';
import { describeExit, describeRuntimeError } from '../../server-runtime/src/supervisor/errors';
import { LogRelay } from '../../server-runtime/src/supervisor/logRelay';
import { findFreePort, isPortInUse } from '../../server-runtime/src/supervisor/ports';
import { Supervisor } from '../../server-runtime/src/supervisor/supervisor';
import { locateInTraceback } from '../../server-runtime/src/supervisor/traceback';

type Listen = typeof net.Server.prototype.listen;

/** Runs `body` with every net.Server.listen recorded (its first argument) and optionally replaced. */
async function withListen<T>(
  body: (seen: unknown[]) => Promise<T>,
  replace?: (server: net.Server, original: Listen, args: unknown[]) => net.Server,
): Promise<T> {
  const original = net.Server.prototype.listen;
  const seen: unknown[] = [];
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    seen.push(args[0]);
    return replace ? replace(this, original, args) : original.apply(this, args as never);
  } as Listen;
  try {
    return await body(seen);
  } finally {
    net.Server.prototype.listen = original;
  }
}

const loopbackProbe = { host: '127.0.0.1', port: 0, exclusive: true };

describe('port probes', { timeout: 10_000 }, () => {
  it('a free port is asked for on loopback, exclusively; the suggestion after a clash too', async () => {
    await withListen(async (seen) => {
      assert.ok((await findFreePort()) > 0);
      assert.deepEqual(seen, [loopbackProbe]);
      const reported = await describeRuntimeError(
        { type: 'error', kind: 'port-in-use', message: 'm' },
        '/w',
        '/r',
      );
      assert.ok(reported.suggestedPort! > 0);
      const exited = await describeExit(4, null, [], undefined, '/w', '/r');
      assert.ok(exited.suggestedPort! > 0);
      assert.deepEqual(seen, [loopbackProbe, loopbackProbe, loopbackProbe]);
    });
  });

  it('"in use" is probed with an exclusive bind of exactly that host and port', async () => {
    const port = await findFreePort();
    await withListen(async (seen) => {
      assert.equal(await isPortInUse('127.0.0.1', port), false);
      assert.deepEqual(seen, [{ host: '127.0.0.1', port, exclusive: true }]);
    });
  });

  it('a probe that gets no address rejects, and a clash then suggests no port', async () => {
    const address = net.Server.prototype.address;
    net.Server.prototype.address = () => null;
    try {
      await assert.rejects(findFreePort(), { message: 'no port assigned' });
      const e = await describeExit(4, null, ['OSError: in use'], undefined, '/w', '/r');
      assert.deepEqual(e, { kind: 'port-in-use', message: 'OSError: in use', suggestedPort: undefined });
    } finally {
      net.Server.prototype.address = address;
    }
  });

  it('a probe that cannot bind: no suggestion rather than a failure', async () => {
    await withListen(
      async () => {
        const e = await describeRuntimeError(
          { type: 'error', kind: 'port-in-use', message: 'm' },
          '/w',
          '/r',
        );
        assert.deepEqual(e, { kind: 'port-in-use', message: 'm', suggestedPort: undefined });
      },
      (server) => {
        process.nextTick(() =>
          server.emit('error', Object.assign(new Error('listen EACCES'), { code: 'EACCES' })),
        );
        return server;
      },
    );
  });
});

describe('traceback frames', () => {
  const frame = (file: string, line: number) => `  File "${file}", line ${line}, in f`;

  it('only a line that starts with File is a frame, and every digit of its line number counts', () => {
    const tb = [
      'Traceback (most recent call last):',
      frame('/srv/app/main.py', 1234),
      'ValueError: bad input File "/srv/app/other.py", line 5',
    ].join('\n');
    assert.deepEqual(locateInTraceback(tb, '/srv/app'), { file: '/srv/app/main.py', line: 1234 });
  });

  it('only frames of the runtime: the innermost of them', () => {
    const tb = [frame('/opt/rt/a.py', 1), frame('/opt/rt/b.py', 2), frame('/opt/rt/c.py', 3)].join('\n');
    assert.deepEqual(locateInTraceback(tb, '/srv/app', '/opt/rt'), { file: '/opt/rt/c.py', line: 3 });
  });
});

describe('LogRelay clocks (mock timers)', () => {
  afterEach(() => mock.timers.reset());

  function relay(options?: ConstructorParameters<typeof LogRelay>[1]) {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const sent: LogParams[] = [];
    return { sent, relay: new LogRelay((l) => sent.push(l), options) };
  }

  it('flushes 100 ms after the first line by default, and after flushMs when given', () => {
    const a = relay();
    a.relay.push({ id: 'a', stream: 'stderr', lines: ['x'] });
    mock.timers.tick(99);
    assert.deepEqual(a.sent, []);
    mock.timers.tick(1);
    assert.deepEqual(a.sent, [{ id: 'a', stream: 'stderr', lines: ['x'] }]);
    mock.timers.reset();

    const b = relay({ flushMs: 30 });
    b.relay.push({ id: 'a', stream: 'stderr', lines: ['y'] });
    mock.timers.tick(29);
    assert.deepEqual(b.sent, []);
    mock.timers.tick(1);
    assert.deepEqual(b.sent, [{ id: 'a', stream: 'stderr', lines: ['y'] }]);
  });

  it('the default budget is 2000 lines a second per server', () => {
    const { sent, relay: r } = relay();
    r.push({ id: 'a', stream: 'access', lines: Array.from({ length: 2001 }, (_, i) => String(i)) });
    r.flush(1000);
    assert.equal(sent[0].lines.length, 1, 'the drop count comes first');
    assert.deepEqual(sent[0], {
      id: 'a',
      stream: 'supervisor',
      lines: ['1 log lines not shown (more than 2000 lines/s)'],
    });
    assert.equal(sent[1].lines.length, 2000);
  });

  it("the app's stdout is budgeted like the access log", () => {
    const { sent, relay: r } = relay({ maxLinesPerSecond: 2 });
    r.push({ id: 'a', stream: 'stdout', lines: ['1', '2', '3'] }, 0);
    r.flush(1000);
    assert.deepEqual(sent, [
      { id: 'a', stream: 'supervisor', lines: ['1 log lines not shown (more than 2 lines/s)'] },
      { id: 'a', stream: 'stdout', lines: ['1', '2'] },
    ]);
  });

  it('no empty batch: nothing pushed, or nothing left within the budget, sends nothing', () => {
    const { sent, relay: r } = relay({ maxLinesPerSecond: 1 });
    r.push({ id: 'a', stream: 'stderr', lines: [] }, 0);
    r.push({ id: 'a', stream: 'access', lines: ['1'] }, 0);
    r.flush(10);
    r.push({ id: 'a', stream: 'access', lines: ['2'] }, 20);
    r.flush(30);
    assert.deepEqual(sent, [{ id: 'a', stream: 'access', lines: ['1'] }]);
  });

  it('a window is one second exactly: the count is due at +1000 ms, and the budget is new there', () => {
    const { sent, relay: r } = relay({ flushMs: 5000, maxLinesPerSecond: 1 });
    r.push({ id: 'a', stream: 'access', lines: ['1', '2'] }, 0);
    r.flush(999);
    assert.deepEqual(sent, [{ id: 'a', stream: 'access', lines: ['1'] }]);
    r.flush(1000);
    assert.deepEqual(sent.slice(1), [
      { id: 'a', stream: 'supervisor', lines: ['1 log lines not shown (more than 1 lines/s)'] },
    ]);

    const b = new LogRelay((l) => sent.push(l), { flushMs: 5000, maxLinesPerSecond: 1 });
    b.push({ id: 'b', stream: 'access', lines: ['x'] }, 0);
    b.push({ id: 'b', stream: 'access', lines: ['y'] }, 999); // same window: no room
    b.push({ id: 'b', stream: 'access', lines: ['z'] }, 1000); // a new window: room again
    b.flush(1001);
    assert.deepEqual(sent.slice(2), [
      { id: 'b', stream: 'supervisor', lines: ['1 log lines not shown (more than 1 lines/s)'] },
      { id: 'b', stream: 'access', lines: ['x', 'z'] },
    ]);
  });

  it('a window without dropped lines reports nothing when it ends', () => {
    const { sent, relay: r } = relay({ maxLinesPerSecond: 5 });
    r.push({ id: 'a', stream: 'access', lines: ['1'] }, 0);
    r.flush(1000);
    r.push({ id: 'a', stream: 'access', lines: ['2'] }, 2500);
    r.flush(2600);
    assert.deepEqual(sent, [
      { id: 'a', stream: 'access', lines: ['1'] },
      { id: 'a', stream: 'access', lines: ['2'] },
    ]);
  });

  it('the count is sent when the earliest window with drops ends, even with no more traffic', () => {
    const { sent, relay: r } = relay({ flushMs: 300, maxLinesPerSecond: 1 });
    r.push({ id: 'a', stream: 'access', lines: ['1', '2'] }); // window a: 0..1000
    mock.timers.tick(200);
    r.push({ id: 'b', stream: 'access', lines: ['3', '4'] }); // window b: 200..1200
    mock.timers.tick(100); // the batch timer, at 300: the next flush is due when window a ends
    assert.deepEqual(
      sent.map((l) => l.lines),
      [['1'], ['3']],
    );
    mock.timers.tick(699);
    assert.equal(sent.length, 2);
    mock.timers.tick(1); // 1000
    assert.deepEqual(sent.slice(2), [
      { id: 'a', stream: 'supervisor', lines: ['1 log lines not shown (more than 1 lines/s)'] },
    ]);
    mock.timers.tick(200); // 1200: window b ends (never sooner than flushMs after the last flush)
    assert.deepEqual(sent.slice(3), []);
    mock.timers.tick(100); // 1300
    assert.deepEqual(sent.slice(3), [
      { id: 'b', stream: 'supervisor', lines: ['1 log lines not shown (more than 1 lines/s)'] },
    ]);
  });

  it('after a flush close to the end of a window, the next one still waits flushMs', () => {
    const { sent, relay: r } = relay({ flushMs: 300, maxLinesPerSecond: 1 });
    r.push({ id: 'a', stream: 'access', lines: ['1', '2'] });
    mock.timers.tick(900);
    r.flush(); // at 900, on an exit path: the window ends in 100 ms, the next flush is at 1200
    assert.equal(sent.length, 1);
    mock.timers.tick(299);
    assert.equal(sent.length, 1);
    mock.timers.tick(1);
    assert.deepEqual(sent.slice(1), [
      { id: 'a', stream: 'supervisor', lines: ['1 log lines not shown (more than 1 lines/s)'] },
    ]);
  });
});

describe('supervisor settings', () => {
  /** The stop timeout a server of this supervisor uses (its options are what RuntimeProcess.stop gets). */
  async function stopTimeoutOf(sup: Supervisor): Promise<number> {
    await sup.start({
      configUri: '/nowhere/.config_server',
      pythonPath: 'python3',
      cwd: '/nowhere',
      autoRestart: false,
      autoRestartDelayMs: 100,
    });
    const server = sup.get('/nowhere/.config_server') as unknown as { options: { stopTimeoutMs(): number } };
    return server.options.stopTimeoutMs();
  }
  const invalid = async (): Promise<ServerError> => ({ kind: 'config-invalid', message: 'not started' });
  const events = {
    state: () => undefined,
    log: () => undefined,
    metrics: () => undefined,
    requests: () => undefined,
  };

  it('the stop timeout: 5 s by default, as constructed, then as configured', async () => {
    assert.equal(await stopTimeoutOf(new Supervisor({ runtimePath: '/r', events, validate: invalid })), 5000);
    const sup = new Supervisor({ runtimePath: '/r', events, validate: invalid, stopTimeoutMs: 1234 });
    assert.equal(await stopTimeoutOf(sup), 1234);
    sup.configure({ stopTimeoutMs: 250 });
    assert.equal(await stopTimeoutOf(sup), 250);
  });
});

describe('a server whose config is refused (no process ever runs)', () => {
  it('starts out stopped; stop, restart, start again, kill and shutdown all work without a process', async () => {
    const logs: LogParams[] = [];
    const states: string[] = [];
    let validations = 0;
    const sup = new Supervisor({
      runtimePath: '/r',
      events: {
        state: (s) => states.push(s.state),
        log: (l) => logs.push(l),
        metrics: () => undefined,
        requests: () => undefined,
      },
      validate: async () => {
        validations++;
        return { kind: 'config-invalid', message: 'PORT is missing' };
      },
    });
    const id = '/nowhere/.config_server';
    const starting = sup.start({
      configUri: id,
      pythonPath: 'python3',
      cwd: '/nowhere',
      autoRestart: false,
      autoRestartDelayMs: 100,
    });
    assert.deepEqual(sup.list(), [{ id, configUri: id, state: 'stopped' }], 'before anything ran');
    assert.equal((await starting).error?.message, 'PORT is missing');
    const server = sup.get(id)!;
    await server.watcherReady(); // no auto-restart: nothing to wait for
    assert.equal(server.pid, undefined);

    const restarted = await sup.restart(id);
    assert.deepEqual(restarted.error, { kind: 'config-invalid', message: 'PORT is missing' });
    assert.deepEqual(logs, [
      { id, stream: 'supervisor', lines: ['Not restarting (restart requested): PORT is missing'] },
    ]);
    assert.equal((await server.start()).state, 'stopped'); // the same parameters, validated again
    assert.equal(validations, 3);

    states.length = 0;
    assert.deepEqual(await sup.stop(id), { id, configUri: id, state: 'stopped' });
    assert.deepEqual(states, ['stopped'], 'nothing ran: no stopping step');
    sup.killAll();
    await sup.stopAll();
  });
});
