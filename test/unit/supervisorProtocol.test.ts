/**
 * The supervisor behind the real language-server process, over Node IPC as the extension talks to it
 * (vscode-languageclient uses the same transport): the typed requests and notifications of protocol.ts,
 * a real Python server in between, and nothing left running after shutdown/exit.
 */
import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createProtocolConnection,
  InitializeRequest,
  InitializedNotification,
  IPCMessageReader,
  IPCMessageWriter,
  ExitNotification,
  ShutdownRequest,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import {
  ListServersRequest,
  LogNotification,
  MetricsNotification,
  ServerStateNotification,
  SetMetricsSubscriptionRequest,
  StartRequest,
  StopRequest,
  type MetricsSnapshot,
  type ServerInfo,
} from '../../server-runtime/src/protocol';
import { findFreePort, isPortInUse } from '../../server-runtime/src/supervisor/ports';
import {
  get,
  helloApp,
  isAlive,
  makeApp,
  python,
  removeTempDirs,
  repoRoot,
  waitFor,
} from './supervisorHarness';

const serverJs = path.join(repoRoot, 'out', 'server-runtime', 'src', 'languageServer.js');

async function startLanguageServer(): Promise<{ child: ChildProcess; connection: ProtocolConnection }> {
  const child = fork(serverJs, ['--node-ipc'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const connection = createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    workspaceFolders: null,
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return { child, connection };
}

describe('supervisor over the language-server connection', () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    removeTempDirs();
  });

  it('starts, streams state/log/metrics notifications, stops, and shuts down clean', async () => {
    const server = await startLanguageServer();
    child = server.child;
    const { connection } = server;
    const states: ServerInfo[] = [];
    const logs: string[] = [];
    const metrics: MetricsSnapshot[] = [];
    connection.onNotification(ServerStateNotification, (info) => states.push(info));
    connection.onNotification(LogNotification, (log) => logs.push(...log.lines));
    connection.onNotification(MetricsNotification, (snapshots) => metrics.push(...snapshots));

    const port = await findFreePort();
    const app = makeApp(helloApp('over ipc'), port);
    const configUri = `file://${app.config}`;
    const info = await connection.sendRequest(StartRequest, {
      configUri,
      pythonPath: python,
      cwd: app.dir,
      autoRestart: false,
      autoRestartDelayMs: 100,
    });
    assert.equal(info.state, 'running', JSON.stringify(info));
    assert.equal(info.id, configUri);
    assert.equal(info.url, `http://127.0.0.1:${port}`);
    assert.deepEqual(
      states.map((s) => s.state),
      ['starting', 'running'],
    );
    assert.deepEqual(
      (await connection.sendRequest(ListServersRequest)).map((s) => [s.id, s.state]),
      [[configUri, 'running']],
    );

    await connection.sendRequest(SetMetricsSubscriptionRequest, { ids: [configUri], intervalMs: 200 });
    assert.equal((await get(`${info.url}/`)).body, 'over ipc');
    await waitFor('access log notification', () => logs.some((l) => l.includes('GET /')));
    const snap = await waitFor('metrics notification with the request', () =>
      metrics.find((m) => m.totals.requests >= 1),
    );
    assert.equal(snap.id, configUri);

    const stopped = await connection.sendRequest(StopRequest, { id: configUri });
    assert.equal(stopped.state, 'stopped');
    assert.equal(isAlive(info.pid!), false);

    // Start again, then end the language server the LSP way: the Python server must go with it.
    const again = await connection.sendRequest(StartRequest, {
      configUri,
      pythonPath: python,
      cwd: app.dir,
      autoRestart: false,
      autoRestartDelayMs: 100,
    });
    assert.equal(again.state, 'running');
    await connection.sendRequest(ShutdownRequest.type);
    assert.equal(isAlive(again.pid!), false, 'shutdown stops the servers gracefully');
    const exited = new Promise((r) => child!.once('exit', r));
    await connection.sendNotification(ExitNotification.type);
    await exited;
    connection.dispose();
    assert.equal(await isPortInUse('127.0.0.1', port), false);
  });

  it('kills its servers when the language-server process is terminated', async () => {
    const server = await startLanguageServer();
    child = server.child;
    const app = makeApp(helloApp('x'), await findFreePort());
    const info = await server.connection.sendRequest(StartRequest, {
      configUri: `file://${app.config}`,
      pythonPath: python,
      cwd: app.dir,
      autoRestart: false,
      autoRestartDelayMs: 100,
    });
    assert.equal(info.state, 'running', JSON.stringify(info));
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await waitFor('the Python server to be gone', () => !isAlive(info.pid!), 5000);
    server.connection.dispose();
  });
});
