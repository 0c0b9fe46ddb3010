/**
 * The main path through the real extension host: server3.start runs examples/hello (a scratch copy whose
 * .config_server has a free PORT), the app answers real HTTP on 127.0.0.1, restart replaces the process,
 * openBrowser's URL reaches the app, and server3.stop closes the port.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isPortOpen } from '../../harness/freePort';
import { httpGet, log, waitFor, workspaceDir } from './helpers';

/** The PORT written into the workspace's .config_server by test/host/run.ts. */
function configuredPort(): number {
  const text = fs.readFileSync(path.join(workspaceDir(), '.config_server'), 'utf8');
  const match = /^PORT\s*=\s*(\d+)/m.exec(text);
  assert.ok(match, 'no PORT= line in the fixture .config_server');
  return Number(match[1]);
}

describe('start and stop', function () {
  this.timeout(60_000);
  const port = configuredPort();

  after(async () => {
    // Leave nothing running for the next test file, even when an assertion failed half-way.
    if (await isPortOpen(port))
      await vscode.commands.executeCommand('server3.stop').then(undefined, () => undefined);
  });

  it('server3.start serves the app on the configured port', async () => {
    assert.equal(await isPortOpen(port), false, `port ${port} is busy before the test started`);
    const info = await vscode.commands.executeCommand<{ state?: string; url?: string } | undefined>(
      'server3.start',
    );
    log(`      server3.start -> ${JSON.stringify(info)}`);
    assert.ok(
      await waitFor(() => isPortOpen(port), 20_000),
      `nothing listens on 127.0.0.1:${port} 20 s after start`,
    );
    const res = await httpGet(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'Hello, world!');
    const missing = await httpGet(`http://127.0.0.1:${port}/no-such-page`);
    assert.equal(missing.status, 404);
  });

  it('server3.restart replaces the process and serves again', async () => {
    const before = await vscode.commands.executeCommand<{ pid?: number } | undefined>('server3.restart');
    log(`      server3.restart -> pid ${before?.pid}`);
    assert.ok(before?.pid, 'server3.restart returned no pid');
    assert.ok(await waitFor(() => isPortOpen(port), 20_000), `nothing listens on ${port} after restart`);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/`)).body, 'Hello, world!');
    const again = await vscode.commands.executeCommand<{ pid?: number } | undefined>('server3.restart');
    assert.notEqual(again?.pid, before.pid, 'a restart kept the same process');
  });

  it('server3.openBrowser opens a URL that reaches the app', async () => {
    const opened = await vscode.commands.executeCommand<string | undefined>('server3.openBrowser');
    log(`      server3.openBrowser -> ${opened}`);
    assert.ok(opened, 'server3.openBrowser returned nothing');
    // In code-server, asExternalUri may route the port through its own proxy: either way it stays on loopback.
    const url = new URL(opened);
    assert.ok(['127.0.0.1', 'localhost'].includes(url.hostname), `${opened} is not a loopback URL`);
    assert.ok(await waitFor(() => isPortOpen(port), 20_000));
    const res = await httpGet(opened);
    assert.equal(res.status, 200, `GET ${opened} answered ${res.status}`);
    assert.equal(res.body, 'Hello, world!');
  });

  it('server3.stop closes the port', async () => {
    await vscode.commands.executeCommand('server3.stop');
    assert.ok(
      await waitFor(async () => !(await isPortOpen(port)), 10_000),
      `127.0.0.1:${port} still accepts connections 10 s after server3.stop`,
    );
  });
});
