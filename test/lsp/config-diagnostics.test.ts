/**
 * The config language server as a child process, driven by a real LSP client over stdio: diagnostics on
 * open and on incremental edits, with file-system checks against a real temp workspace.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DidChangeWatchedFilesNotification, FileChangeType } from 'vscode-languageserver-protocol/node';
import { brief, fileUri, LspClient, makeWorkspace } from './lspClient';

const OLD_EXAMPLE = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=messager.wsgi\nDOMAIN=localhost\n';

describe('config diagnostics over LSP', () => {
  let client: LspClient;
  let ws: string;

  before(async () => {
    ws = makeWorkspace({
      'hello/wsgi.py': 'def application(environ, start_response):\n    pass\n',
      'noapp/wsgi.py': 'app = object()\n',
    });
    client = await LspClient.start(ws);
  });
  after(async () => {
    await client.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  test("the 0.2 package's example only warns that messager.wsgi is not in the folder", async () => {
    const uri = fileUri(ws, '.config_server');
    await client.open(uri, OLD_EXAMPLE);
    const diagnostics = await client.diagnostics(uri);
    assert.deepEqual(brief(diagnostics), ['3:4-17 warning module-not-found']);
    assert.equal(diagnostics[0].source, 'server3');
    assert.match(diagnostics[0].message, /messager\/wsgi\.py/);
  });

  test('a module that exists and defines application gives no problem', async () => {
    const uri = fileUri(ws, 'good.server3');
    await client.open(uri, OLD_EXAMPLE.replace('messager.wsgi', 'hello.wsgi'));
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('a module without application is a warning that names APP_CALLABLE', async () => {
    const uri = fileUri(ws, 'noapp.server3');
    await client.open(uri, OLD_EXAMPLE.replace('messager.wsgi', 'noapp.wsgi'));
    const diagnostics = await client.diagnostics(uri);
    assert.deepEqual(brief(diagnostics), ['3:4-14 warning no-application']);
    assert.match(diagnostics[0].message, /APP_CALLABLE/);
  });

  test('a broken file gets exact diagnostics, and they follow incremental edits', async () => {
    const uri = fileUri(ws, 'broken.server3');
    await client.open(
      uri,
      'HOST=0.0.0.0\nport=80\nSOCKET_BACKLOG=0\nAPP=hello/wsgi.py\nDOMIAN=localhost\nPORT 8000\n',
    );
    const first = await client.diagnostics(uri);
    assert.deepEqual(
      brief(first),
      [
        '0:0-0 error missing-required', // PORT
        '0:0-0 error missing-required', // DOMAIN
        '0:5-12 warning non-loopback-host',
        '1:0-4 error wrong-case-key',
        '2:15-16 error out-of-range',
        '3:4-17 error bad-module',
        '4:0-6 warning unknown-key',
        '5:0-9 error not-key-value',
      ].sort(),
    );
    const missing = first.filter((d) => d.code === 'missing-required').map((d) => d.message);
    assert.ok(missing.some((m) => m.includes('PORT')) && missing.some((m) => m.includes('DOMAIN')));
    assert.match(first.find((d) => d.code === 'unknown-key')!.message, /did you mean DOMAIN\?/);

    // Fix PORT's line: the wrong-case key, the not-key-value line and the missing PORT all go away.
    await client.edit(uri, [
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 4 } }, newText: 'PORT' },
      { range: { start: { line: 5, character: 0 }, end: { line: 6, character: 0 } }, newText: '' },
    ]);
    assert.deepEqual(
      brief(await client.diagnostics(uri)),
      [
        '0:0-0 error missing-required',
        '0:5-12 warning non-loopback-host',
        '2:15-16 error out-of-range',
        '3:4-17 error bad-module',
        '4:0-6 warning unknown-key',
      ].sort(),
    );
  });

  test('creating the missing module re-validates the open config (watched *.py files)', async () => {
    assert.deepEqual(client.watchedGlobs, ['**/*.py']);
    const uri = fileUri(ws, 'later.server3');
    await client.open(uri, OLD_EXAMPLE.replace('messager.wsgi', 'later.wsgi'));
    assert.deepEqual(brief(await client.diagnostics(uri)), ['3:4-14 warning module-not-found']);
    const count = client.publishCount.get(uri) ?? 0;
    fs.mkdirSync(path.join(ws, 'later'));
    fs.writeFileSync(path.join(ws, 'later', 'wsgi.py'), 'application = None\n');
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: fileUri(ws, 'later/wsgi.py'), type: FileChangeType.Created }],
    });
    assert.deepEqual(brief(await client.nextPublish(uri, count)), []);
  });

  test('documents of other languages are left alone', async () => {
    const uri = fileUri(ws, 'notes.txt');
    await client.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'plaintext', version: 1, text: 'not a config' },
    });
    // A config opened after it still gets its diagnostics; the text file never does.
    const config = fileUri(ws, 'after.server3');
    await client.open(config, '');
    assert.equal((await client.diagnostics(config)).length, 5);
    await assert.rejects(client.diagnostics(uri, 300));
  });
});
