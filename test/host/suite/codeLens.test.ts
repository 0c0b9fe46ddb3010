/**
 * The code lens above a config, read through VS Code's own code-lens provider command (what the editor
 * renders): "Start" while stopped; Stop, Restart, Open http://HOST:PORT and the request rate while it runs,
 * each bound to its command; "Start" again after Stop. The UI suite clicks the same lenses (oneClick.ui.ts).
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isPortOpen } from '../../harness/freePort';
import { log, waitFor, workspaceDir } from './helpers';

async function lensesOf(uri: vscode.Uri): Promise<{ title: string; command: string }[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
    'vscode.executeCodeLensProvider',
    uri,
    // Resolve every lens: titles are set at provide time, but the command reports resolved ones.
    100,
  );
  return (lenses ?? [])
    .filter((l) => l.command)
    .map((l) => ({ title: l.command!.title.replace(/^\$\([^)]*\)\s*/, ''), command: l.command!.command }));
}

describe('code lens on a config', function () {
  this.timeout(60_000);
  const uri = vscode.Uri.file(path.join(workspaceDir(), '.config_server'));
  let port = 0;

  before(async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  });

  after(async () => {
    if (port && (await isPortOpen(port)))
      await vscode.commands.executeCommand('server3.stop').then(undefined, () => undefined);
  });

  it('reads Start while no server runs', async () => {
    let lenses: { title: string; command: string }[] = [];
    assert.ok(
      await waitFor(async () => (lenses = await lensesOf(uri)).length > 0, 15_000),
      'no code lens on .config_server',
    );
    assert.deepEqual(lenses, [{ title: 'Start', command: 'server3.start' }]);
  });

  it('reads Stop · Restart · Open URL · req/s while it runs, and Start again after Stop', async () => {
    const info = await vscode.commands.executeCommand<{ port?: number } | undefined>(
      'server3.start',
      uri.toString(),
    );
    port = info?.port ?? 0;
    assert.ok(port > 0, `server3.start returned no port: ${JSON.stringify(info)}`);
    assert.ok(await waitFor(() => isPortOpen(port), 20_000), `nothing listens on ${port}`);
    let lenses: { title: string; command: string }[] = [];
    const running = async () => (lenses = await lensesOf(uri)).some((l) => l.command === 'server3.stop');
    assert.ok(await waitFor(running, 15_000), `lenses never showed Stop: ${JSON.stringify(lenses)}`);
    log(`      lenses: ${lenses.map((l) => l.title).join(' · ')}`);
    assert.deepEqual(
      lenses.map((l) => l.command),
      ['server3.stop', 'server3.restart', 'server3.openBrowser', 'server3.showMetrics'],
    );
    assert.equal(lenses[2].title, `Open http://127.0.0.1:${port}`);
    assert.match(lenses[3].title, /req\/s$/);

    await vscode.commands.executeCommand('server3.stop');
    assert.ok(await waitFor(async () => !(await isPortOpen(port)), 10_000), 'the port stayed open');
    const stopped = async () => (lenses = await lensesOf(uri)).some((l) => l.command === 'server3.start');
    assert.ok(await waitFor(stopped, 15_000), `lenses never came back to Start: ${JSON.stringify(lenses)}`);
  });
});
