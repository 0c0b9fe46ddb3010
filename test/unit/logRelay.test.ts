/** Log lines reach the client batched and within a per-server budget (server-runtime/src/supervisor/logRelay.ts). */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogParams } from '../../server-runtime/src/protocol';
import { LogRelay } from '../../server-runtime/src/supervisor/logRelay';

/** Records what the relay sends; `next(n)` resolves once n batches were sent (no fixed sleeps). */
function recorder() {
  const sent: LogParams[] = [];
  let wake = () => undefined as void;
  return {
    sent,
    send: (l: LogParams) => {
      sent.push(l);
      wake();
    },
    next: (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => sent.length >= n && resolve();
        wake();
      }),
  };
}

describe('LogRelay', () => {
  it('batches lines per server and stream until the flush', async () => {
    const { sent, send, next } = recorder();
    const relay = new LogRelay(send, { flushMs: 20 });
    relay.push({ id: 'a', stream: 'access', lines: ['1'] });
    relay.push({ id: 'a', stream: 'access', lines: ['2', '3'] });
    relay.push({ id: 'a', stream: 'stderr', lines: ['e'] });
    relay.push({ id: 'b', stream: 'access', lines: ['x'] });
    assert.equal(sent.length, 0, 'nothing before the flush timer');
    await next(3); // the timer's flush sends all three batches at once
    assert.deepEqual(sent, [
      { id: 'a', stream: 'access', lines: ['1', '2', '3'] },
      { id: 'a', stream: 'stderr', lines: ['e'] },
      { id: 'b', stream: 'access', lines: ['x'] },
    ]);
  });

  it('drops access lines past the budget, says how many, and never drops errors', () => {
    const sent: LogParams[] = [];
    const relay = new LogRelay((l) => sent.push(l), { flushMs: 1000, maxLinesPerSecond: 3 });
    const t0 = 1_000_000;
    relay.push({ id: 'a', stream: 'access', lines: ['1', '2'] }, t0);
    relay.push({ id: 'a', stream: 'access', lines: ['3', '4', '5'] }, t0 + 10);
    relay.push({ id: 'a', stream: 'stderr', lines: ['Traceback'] }, t0 + 20);
    relay.flush(t0 + 30);
    assert.deepEqual(sent, [
      { id: 'a', stream: 'access', lines: ['1', '2', '3'] },
      { id: 'a', stream: 'stderr', lines: ['Traceback'] },
    ]);
    // The next second: the count of what was left out comes first, then the new lines.
    relay.push({ id: 'a', stream: 'access', lines: ['6'] }, t0 + 1100);
    relay.flush(t0 + 1110);
    assert.deepEqual(sent.slice(2), [
      { id: 'a', stream: 'supervisor', lines: ['2 log lines not shown (more than 3 lines/s)'] },
      { id: 'a', stream: 'access', lines: ['6'] },
    ]);
  });
});

describe('LogRelay when the traffic stops', () => {
  it('still reports the lines it left out', async () => {
    const { sent, send, next } = recorder();
    const relay = new LogRelay(send, { flushMs: 10, maxLinesPerSecond: 1 });
    const began = Date.now();
    relay.push({ id: 'a', stream: 'access', lines: ['1', '2', '3'] });
    await next(2); // no more pushes: only the relay's own timer can send the count
    // The count closes the one-second window it belongs to (a lower bound only; the upper one is the test timeout).
    assert.ok(Date.now() - began >= 990, `reported after ${Date.now() - began} ms`);
    assert.deepEqual(sent, [
      { id: 'a', stream: 'access', lines: ['1'] },
      { id: 'a', stream: 'supervisor', lines: ['2 log lines not shown (more than 1 lines/s)'] },
    ]);
  });
});
