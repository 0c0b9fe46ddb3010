/**
 * The extension's front door: it activates in a workspace with a .config_server, registers its commands, and gives
 * .config_server files their language.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, workspaceDir } from './helpers';

describe('activation', () => {
  it('activates in a workspace that contains a .config_server', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    // activationEvents workspaceContains:**/.config_server fires on its own; wait for it rather than activate().
    const deadline = Date.now() + 15_000;
    while (!ext.isActive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ext.isActive, true, 'the extension did not activate by itself within 15 s');
  });

  it('registers the five commands', async () => {
    const all = await vscode.commands.getCommands(true);
    const expected = [
      'server3.start',
      'server3.stop',
      'server3.restart',
      'server3.showMetrics',
      'server3.openBrowser',
    ];
    const missing = expected.filter((c) => !all.includes(c));
    assert.deepEqual(missing, [], `commands not registered: ${missing.join(', ')}`);
  });

  it('applies the language id server3-config to .config_server', async () => {
    const doc = await vscode.workspace.openTextDocument(path.join(workspaceDir(), '.config_server'));
    assert.equal(doc.languageId, 'server3-config');
  });

  it("claims a file without a known name by its first line only with the Server 3 header, not another tool's env file", async () => {
    const write = (name: string, text: string) => {
      const file = path.join(workspaceDir(), name);
      fs.writeFileSync(file, text);
      return file;
    };
    const env = write('settings_env', 'HOST=127.0.0.1\nPORT=8000\nDEBUG=1\n');
    const ours = write('staging_conf', '# Server 3 config for staging\nHOST=127.0.0.1\nPORT=8000\n');
    try {
      assert.notEqual((await vscode.workspace.openTextDocument(env)).languageId, 'server3-config');
      assert.equal((await vscode.workspace.openTextDocument(ours)).languageId, 'server3-config');
    } finally {
      fs.rmSync(env);
      fs.rmSync(ours);
    }
  });
});
