/**
 * The request log through the supervisor, against the real runtime: streamed only while subscribed (like the
 * metrics), one update per worker with WORKERS>1, a request's headers fetched from the worker that ran it
 * (redacted by the runtime), and "Start with Debugger": the runtime under debugpy, whose listener answers a
 * Debug Adapter Protocol client.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import type { RequestRecord, RequestsUpdate } from '../../server-runtime/src/protocol';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import {
  get,
  makeApp,
  makeSupervisor,
  removeTempDirs,
  venvPython,
  startParams,
  waitFor,
} from './supervisorHarness';

after(removeTempDirs);

const APP = [
  'import time',
  'def application(environ, start_response):',
  "    if environ['PATH_INFO'] == '/slow':",
  '        time.sleep(0.3)',
  "    if environ['PATH_INFO'] == '/pid':",
  '        import os',
  '        body = str(os.getpid()).encode()',
  '    else:',
  "        body = b'ok'",
  "    start_response('200 OK', [('Content-Length', str(len(body))), ('Set-Cookie', 'sid=s3cr3t')])",
  '    return [body]',
  '',
].join('\n');

function getWithHeaders(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

function recordOf(
  updates: RequestsUpdate[],
  pathName: string,
): (RequestRecord & { worker: number }) | undefined {
  for (const update of [...updates].reverse()) {
    const found = update.log.recent.find((r) => r.path === pathName);
    if (found) return { ...found, worker: update.log.worker };
  }
  return undefined;
}

describe('supervisor: the request log', () => {
  it('streams only while subscribed, and answers one request with its redacted headers', async () => {
    const rec = makeSupervisor();
    const app = makeApp(APP, await findFreePort());
    const id = app.config;
    try {
      const info = await rec.supervisor.start(startParams(app.config, app.dir));
      assert.equal(info.state, 'running', rec.logText());
      await get(`${info.url}/fast`);
      await getWithHeaders(`${info.url}/slow?token=x`, { Authorization: 'Bearer s3cr3t', 'X-Trace': 't-1' });
      // Nothing is streamed before a view subscribes: a few multiples of the interval used below.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(rec.requests.length, 0);

      rec.supervisor.setRequestsSubscription({ ids: [id], intervalMs: 200 });
      const slow = await waitFor('the /slow record', () => recordOf(rec.requests, '/slow'));
      assert.equal(rec.requests[0].id, id);
      assert.ok(slow.appMs >= 300, JSON.stringify(slow));
      assert.ok(slow.appMs > slow.readMs + slow.queueMs + slow.sendMs, 'the app stage dominates');
      assert.ok(recordOf(rec.requests, '/fast'));
      const routes = rec.requests[rec.requests.length - 1].log.routes.map((r) => r.route);
      assert.ok(routes.includes('/slow') && routes.includes('/fast'), routes.join());

      const detail = await rec.supervisor.requestDetail({
        id,
        worker: 0,
        thread: slow.thread,
        seq: slow.seq,
      });
      assert.ok(detail, 'a detail for a kept request');
      assert.equal(detail.path, '/slow');
      const requestHeaders = Object.fromEntries(detail.requestHeaders);
      assert.equal(requestHeaders['X-Trace'], 't-1');
      assert.equal(requestHeaders['Authorization'], '[redacted]');
      assert.equal(Object.fromEntries(detail.responseHeaders)['Set-Cookie'], '[redacted]');
      assert.ok(!JSON.stringify(detail).includes('s3cr3t'));
      // A request the runtime does not keep (or never had) is null, after the detail's timeout.
      assert.equal(
        await rec.supervisor.requestDetail({ id, worker: 0, thread: slow.thread, seq: 999999 }),
        null,
      );
      assert.equal(
        await rec.supervisor.requestDetail({ id: 'nope', worker: 0, thread: 'app-1', seq: 1 }),
        null,
      );

      rec.supervisor.setRequestsSubscription({ ids: [], intervalMs: 0 });
      await new Promise((r) => setTimeout(r, 300)); // a line already on its way may still arrive
      const count = rec.requests.length;
      await new Promise((r) => setTimeout(r, 800)); // four intervals of 200 ms: none may come
      assert.equal(rec.requests.length, count, 'no request log after unsubscribing');
    } finally {
      await rec.supervisor.stopAll();
    }
  });

  it('relays every worker’s log with WORKERS=2 and fetches a detail from the worker that ran it', async () => {
    const rec = makeSupervisor();
    const app = makeApp(APP, await findFreePort(), 'WORKERS=2\n');
    const id = app.config;
    try {
      rec.supervisor.setRequestsSubscription({ ids: [id], intervalMs: 200 });
      const info = await rec.supervisor.start(startParams(app.config, app.dir));
      assert.equal(info.state, 'running', rec.logText());
      const pids = new Set<string>();
      for (let i = 0; i < 60 && pids.size < 2; i++) pids.add((await get(`${info.url}/pid`)).body);
      assert.equal(pids.size, 2, 'new connections spread over both workers');
      await waitFor('logs of both workers with /pid', () => {
        const workers = new Set(
          rec.requests.filter((u) => u.log.recent.some((r) => r.path === '/pid')).map((u) => u.log.worker),
        );
        return workers.size === 2;
      });
      for (const worker of [0, 1]) {
        const update = [...rec.requests]
          .reverse()
          .find((u) => u.log.worker === worker && u.log.recent.length)!;
        const record = update.log.recent[update.log.recent.length - 1];
        const detail = await rec.supervisor.requestDetail({
          id,
          worker,
          thread: record.thread,
          seq: record.seq,
        });
        assert.ok(detail, `worker ${worker}'s detail`);
        assert.equal(detail.worker, worker);
        assert.equal(detail.time, record.time);
      }
    } finally {
      await rec.supervisor.stopAll();
    }
  });

  it('starts the runtime under debugpy: a DAP client is answered on the reported port, and it serves', async () => {
    const python = venvPython();
    assert.ok(python, '.venv (with debugpy) is made by scripts/setup.sh');
    const rec = makeSupervisor();
    const app = makeApp(APP, await findFreePort());
    try {
      const info = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: python,
        debug: true,
      });
      assert.equal(info.state, 'running', rec.logText());
      assert.ok(info.debugPort, 'the debug port is reported');
      assert.equal((await get(`${info.url}/fast`)).body, 'ok');
      const answer = await dapInitialize(info.debugPort);
      assert.equal(answer.success, true, JSON.stringify(answer));
      assert.equal(answer.command, 'initialize');

      // A plain Start of the same config restarts it without the debugger.
      const plain = await rec.supervisor.start({
        ...startParams(app.config, app.dir),
        pythonPath: python,
      });
      assert.equal(plain.state, 'running');
      assert.equal(plain.debugPort, undefined);
      assert.notEqual(plain.pid, info.pid);
    } finally {
      await rec.supervisor.stopAll();
    }
  });
});

/** One Debug Adapter Protocol round trip (initialize) over TCP, framed as VS Code frames it. */
function dapInitialize(port: number): Promise<{ success: boolean; command: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no DAP answer within 20 s'));
    }, 20_000);
    let buffer = Buffer.alloc(0);
    socket.on('connect', () => {
      const body = JSON.stringify({
        seq: 1,
        type: 'request',
        command: 'initialize',
        arguments: {
          adapterID: 'debugpy',
          clientID: 'server3-test',
          linesStartAt1: true,
          pathFormat: 'path',
        },
      });
      socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const headerEnd = buffer.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString())?.[1]);
        if (buffer.length < headerEnd + 4 + length) return;
        const message = JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString()) as {
          type: string;
          request_seq?: number;
          success: boolean;
          command: string;
        };
        buffer = buffer.subarray(headerEnd + 4 + length);
        if (message.type === 'response' && message.request_seq === 1) {
          clearTimeout(timer);
          socket.destroy();
          resolve(message);
          return;
        }
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
