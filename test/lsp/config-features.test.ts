/**
 * Completion, hover, quick fixes (edits applied, resulting text checked), formatting and document symbols of
 * the config language server, driven over stdio by a real LSP client.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  CodeActionRequest,
  type CompletionItem,
  CompletionRequest,
  type CodeAction,
  type Diagnostic,
  DocumentFormattingRequest,
  type DocumentSymbol,
  DocumentSymbolRequest,
  HoverRequest,
  type MarkupContent,
} from 'vscode-languageserver-protocol/node';
import { brief, fileUri, LspClient, makeWorkspace } from './lspClient';

const GOOD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\n';

describe('config language features over LSP', () => {
  let client: LspClient;
  let ws: string;
  let counter = 0;

  before(async () => {
    ws = makeWorkspace({
      'hello/wsgi.py': 'def application(environ, start_response):\n    pass\n',
      'api/__init__.py': 'from .main import application\n',
      'api/main.py': 'application = None\n',
      'flaskapp.py': 'app = Flask(__name__)\n',
      'node_modules/x/wsgi.py': 'application = 1\n',
    });
    client = await LspClient.start(ws);
  });
  after(async () => {
    await client.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  async function open(text: string): Promise<string> {
    const uri = fileUri(ws, `doc${++counter}.server3`);
    await client.open(uri, text);
    await client.diagnostics(uri);
    return uri;
  }

  async function complete(uri: string, line: number, character: number): Promise<CompletionItem[]> {
    const result = await client.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position: { line, character },
    });
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    return [...items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label));
  }

  async function actions(uri: string, line: number, character: number): Promise<CodeAction[]> {
    const diagnostics: Diagnostic[] = await client.diagnostics(uri);
    const range = { start: { line, character }, end: { line, character } };
    const result = await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range,
      context: { diagnostics },
    });
    return (result ?? []) as CodeAction[];
  }

  async function apply(uri: string, action: CodeAction): Promise<string> {
    const edits = action.edit?.changes?.[uri];
    assert.ok(edits && edits.length, `action "${action.title}" has no edits`);
    return client.edit(uri, edits);
  }

  test('key completion: missing required fields first, keys already set left out', async () => {
    const uri = await open('HOST=127.0.0.1\nAPP=hello.wsgi\n\n');
    const items = await complete(uri, 2, 0);
    // The whole list in the order the client shows it (by sortText), not just its first items.
    assert.deepEqual(
      items.map((i) => i.label),
      [
        'PORT',
        'SOCKET_BACKLOG',
        'DOMAIN',
        'APP_CALLABLE',
        'APP_THREADS',
        'WORKERS',
        'KEEPALIVE_TIMEOUT',
        'REQUEST_TIMEOUT',
        'SEND_TIMEOUT',
        'SHUTDOWN_TIMEOUT',
        'DRAIN_DELAY',
        'MAX_HEADER_SIZE',
        'MAX_BODY_SIZE',
        'MAX_CONNECTIONS',
        'ACCESS_LOG',
        'LOG_LEVEL',
        'METRICS',
        'STATS',
      ],
    );
    const port = items[0];
    assert.equal(port.textEdit && 'range' in port.textEdit ? port.textEdit.newText : '', 'PORT=');
    assert.match((port.documentation as MarkupContent).value, /1–65535/);
  });

  test('key completion replaces the partly typed key', async () => {
    const uri = await open(GOOD + 'APP_TH');
    const item = (await complete(uri, 5, 6)).find((i) => i.label === 'APP_THREADS')!;
    assert.ok(item.textEdit && 'range' in item.textEdit);
    const text = await client.edit(uri, [item.textEdit]);
    assert.equal(text, GOOD + 'APP_THREADS=');
  });

  test('value completion: enum values with the default first, booleans', async () => {
    const uri = await open(GOOD + 'ACCESS_LOG=\nMETRICS=o\n');
    assert.deepEqual(
      (await complete(uri, 5, 11)).map((i) => i.label),
      ['common', 'off', 'combined'],
    );
    const booleans = await complete(uri, 6, 9);
    assert.deepEqual(
      booleans.map((i) => i.label),
      ['on', 'off', 'true', 'false', 'yes', 'no'],
    );
    const text = await client.edit(uri, [booleans[1].textEdit as never]);
    assert.equal(text.split('\n')[6], 'METRICS=off');
  });

  test("APP completion lists the workspace's modules with a WSGI callable, nearest first", async () => {
    const uri = await open(GOOD.replace('APP=hello.wsgi', 'APP='));
    const items = await complete(uri, 3, 4);
    // Top level first; at each level the modules defining `application` (the default) first.
    assert.deepEqual(
      items.map((i) => [i.label, i.detail]),
      [
        ['api', 'application · defines application'],
        ['flaskapp', 'app · Flask app'],
        ['hello.wsgi', 'application · WSGI function'],
        ['api.main', 'application · defines application'],
      ],
    );
    assert.equal(items[0].additionalTextEdits, undefined, 'application is the default: no APP_CALLABLE line');
    // Picking the Flask app sets APP_CALLABLE=app under the APP line.
    const text = await client.edit(uri, [items[1].textEdit as never, ...items[1].additionalTextEdits!]);
    assert.equal(text, GOOD.replace('APP=hello.wsgi', 'APP=flaskapp\nAPP_CALLABLE=app'));
    // With APP_CALLABLE=app, the modules defining app come first at their level; picking hello.wsgi sets it back.
    const flask = await open(GOOD.replace('APP=hello.wsgi', 'APP=') + 'APP_CALLABLE=app\n');
    const again = await complete(flask, 3, 4);
    assert.deepEqual(
      again.map((i) => i.label),
      ['flaskapp', 'api', 'hello.wsgi', 'api.main'],
    );
    const hello = again.find((i) => i.label === 'hello.wsgi')!;
    assert.equal(
      await client.edit(flask, [hello.textEdit as never, ...hello.additionalTextEdits!]),
      GOOD + 'APP_CALLABLE=application\n',
    );
  });

  test("hover shows the schema's description, default and range", async () => {
    const uri = await open(GOOD);
    const hover = await client.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 1, character: 2 },
    });
    const value = (hover?.contents as MarkupContent).value;
    assert.match(value, /\*\*PORT\*\*/);
    assert.match(value, /TCP port to listen on/);
    assert.match(value, /Default: `8000`/);
    assert.deepEqual(hover?.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 4 } });
    const none = await client.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 9, character: 0 },
    });
    assert.equal(none, null);
  });

  test('hover on an unknown key says which key it probably meant', async () => {
    const uri = await open(GOOD + 'APP_THRAEDS=8\n');
    const hover = await client.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 5, character: 3 },
    });
    const value = (hover?.contents as MarkupContent).value;
    assert.match(value, /did you mean \*\*APP_THREADS\*\*/);
    assert.match(value, /Threads in stage 3/);
  });

  test('quick fix: add every missing required field with its default', async () => {
    const uri = await open('# my server\nHOST=127.0.0.1\nAPP=hello.wsgi');
    const fix = (await actions(uri, 0, 0)).find((a) => a.title.startsWith('Add the missing required fields'));
    assert.ok(fix, 'no "add missing" action');
    assert.equal(fix.isPreferred, true);
    const text = await apply(uri, fix);
    assert.equal(
      text,
      '# my server\nHOST=127.0.0.1\nAPP=hello.wsgi\nPORT=8000\nSOCKET_BACKLOG=1024\nDOMAIN=localhost\n',
    );
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('quick fix: a missing APP is filled in with the nearest module that defines application', async () => {
    const uri = await open('HOST=127.0.0.1\n');
    const fix = (await actions(uri, 0, 0)).find((a) => a.title.startsWith('Add the missing required fields'));
    assert.ok(fix);
    assert.equal(
      await apply(uri, fix),
      'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=1024\nAPP=api\nDOMAIN=localhost\n',
    );
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('quick fix: a misspelt key and a lower-case key are renamed', async () => {
    const uri = await open(GOOD.replace('HOST', 'HSOT').replace('PORT', 'port'));
    const rename = (await actions(uri, 0, 1)).find((a) => a.title === 'Change HSOT to HOST');
    assert.ok(rename);
    await apply(uri, rename);
    const lower = (await actions(uri, 1, 0)).find((a) => a.title === 'Change port to PORT');
    assert.ok(lower);
    assert.equal(await apply(uri, lower), GOOD);
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('quick fix: remove a duplicate (the line without effect)', async () => {
    const uri = await open(GOOD + 'PORT=9000\n');
    assert.deepEqual(brief(await client.diagnostics(uri)), ['1:0-4 warning duplicate-key']);
    const remove = (await actions(uri, 1, 0)).find((a) => a.title.startsWith('Remove this PORT line'));
    assert.ok(remove);
    assert.equal(
      await apply(uri, remove),
      'HOST=127.0.0.1\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\nPORT=9000\n',
    );
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('quick fix: a bad value gets the default, a network host gets 127.0.0.1', async () => {
    const uri = await open(GOOD.replace('PORT=8000', 'PORT = 99999').replace('127.0.0.1', '0.0.0.0'));
    const port = (await actions(uri, 1, 8)).find((a) => a.title === 'Set PORT to its default (8000)');
    assert.ok(port);
    await apply(uri, port);
    const host = (await actions(uri, 0, 6)).find((a) => a.title.startsWith('Listen on 127.0.0.1'));
    assert.ok(host);
    assert.equal(await apply(uri, host), GOOD.replace('PORT=8000', 'PORT =8000'));
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('formatting: canonical KEY=VALUE, comments kept, bad lines kept', async () => {
    const uri = await open(
      '  # header  \nHOST = 127.0.0.1   # loopback\n\tPORT\t=8000\nSOCKET_BACKLOG=400\n  what is this  \n' +
        'APP= hello.wsgi\nDOMAIN=localhost',
    );
    const edits = await client.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 4, insertSpaces: true },
    });
    assert.ok(edits && edits.length);
    assert.equal(
      await client.edit(uri, edits),
      '# header\nHOST=127.0.0.1 # loopback\nPORT=8000\nSOCKET_BACKLOG=400\n  what is this\n' +
        'APP=hello.wsgi\nDOMAIN=localhost\n',
    );
    const again = await client.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 4, insertSpaces: true },
    });
    assert.deepEqual(again, []);
  });

  test('document symbols: one per key, with its value', async () => {
    const uri = await open('# c\n' + GOOD);
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, {
      textDocument: { uri },
    })) as DocumentSymbol[];
    assert.deepEqual(
      symbols.map((s) => `${s.name}=${s.detail}@${s.selectionRange.start.line}`),
      ['HOST=127.0.0.1@1', 'PORT=8000@2', 'SOCKET_BACKLOG=400@3', 'APP=hello.wsgi@4', 'DOMAIN=localhost@5'],
    );
  });
});
