/**
 * Auto-restart end to end: with a server running, saving a .config_server that moves it to another PORT makes the
 * supervisor restart it (debounced, server3.autoRestart is on by default): the new port serves, the old one closes.
 * The original config is restored afterwards, because the other host tests read it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { freePort, isPortOpen } from '../../harness/freePort';
import { httpGet, log, waitFor, workspaceDir } from './helpers';

describe('auto-restart', function () {
  this.timeout(60_000);
  const configFile = (): string => path.join(workspaceDir(), '.config_server');
  let original = '';
  let oldPort = 0;
  let newPort = 0;

  before(() => {
    original = fs.readFileSync(configFile(), 'utf8');
    oldPort = Number(/^PORT\s*=\s*(\d+)/m.exec(original)?.[1]);
  });

  after(async () => {
    await vscode.commands.executeCommand('server3.stop').then(undefined, () => undefined);
    fs.writeFileSync(configFile(), original);
    await waitFor(async () => !(await isPortOpen(newPort)) && !(await isPortOpen(oldPort)), 10_000);
  });

  it('restarts on the new PORT when the saved config changes it', async () => {
    await vscode.commands.executeCommand('server3.start');
    assert.ok(await waitFor(() => isPortOpen(oldPort), 20_000), `the server did not start on ${oldPort}`);
    newPort = await freePort();
    log(`      moving the server from port ${oldPort} to ${newPort}`);
    fs.writeFileSync(configFile(), original.replace(/^PORT\s*=.*$/m, `PORT=${newPort}`));
    assert.ok(
      await waitFor(() => isPortOpen(newPort), 20_000),
      `nothing listens on the new port ${newPort} 20 s after the config was saved`,
    );
    assert.equal((await httpGet(`http://127.0.0.1:${newPort}/`)).body, 'Hello, world!');
    assert.ok(
      await waitFor(async () => !(await isPortOpen(oldPort)), 10_000),
      `the old port ${oldPort} still accepts connections`,
    );
  });
});
