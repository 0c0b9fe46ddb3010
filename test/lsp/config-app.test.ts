/**
 * APP in real projects, over LSP with a real client: the module index (breadth-first, nearest first, kept up to
 * date by watched-file events), completion that sets APP_CALLABLE, gunicorn's `module:callable`, go to
 * definition and document links from APP and APP_CALLABLE, and the fixes of module-not-found, no-application
 * and a missing APP (never a module that does not exist).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type CodeAction,
  CodeActionRequest,
  type CompletionItem,
  CompletionRequest,
  type CreateFile,
  DefinitionRequest,
  type Diagnostic,
  DocumentLinkRequest,
  FileChangeType,
  type LocationLink,
  type TextDocumentEdit,
} from 'vscode-languageserver-protocol/node';
import { APP_MODULES, writeBigWorkspace } from './bigWorkspace';
import { brief, fileUri, LspClient, makeWorkspace } from './lspClient';

const HEAD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\n';
const config = (app: string, extra = '') => `${HEAD}APP=${app}\nDOMAIN=localhost\n${extra}`;

/**
 * The completion list at a position. While the server says it is incomplete (a big workspace still being
 * indexed), asks again, as VS Code does on the next keystroke.
 */
async function complete(client: LspClient, uri: string, line: number, character: number) {
  for (let asked = 1; ; asked++) {
    const result = await client.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position: { line, character },
    });
    const items: CompletionItem[] = Array.isArray(result) ? result : (result?.items ?? []);
    if (Array.isArray(result) || !result?.isIncomplete || asked === 100)
      return [...items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label));
  }
}

async function actionsAt(client: LspClient, uri: string, line: number, character: number) {
  const diagnostics: Diagnostic[] = await client.diagnostics(uri);
  const range = { start: { line, character }, end: { line, character } };
  return ((await client.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range,
    context: { diagnostics },
  })) ?? []) as CodeAction[];
}

describe('APP in a large project (3,000 files in one folder, a nested sibling project, a virtualenv)', () => {
  let client: LspClient;
  let ws: string;
  let n = 0;
  const open = async (text: string) => {
    const uri = fileUri(ws, `big${++n}.server3`);
    await client.open(uri, text);
    await client.diagnostics(uri);
    return uri;
  };

  before(async () => {
    ws = makeWorkspace({});
    writeBigWorkspace(ws, 4000);
    client = await LspClient.start(ws);
  });
  after(async () => {
    await client.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  test('completion offers the shallow apps first, and no ASGI app, test fixture, unreachable or venv module', async () => {
    const uri = await open(config(''));
    const labels = (await complete(client, uri, 3, 4)).map((i) => i.label);
    assert.deepEqual(labels, ['flaskapp', 'mysite.wsgi', 'examples.otherproject.otherproject.wsgi']);
    assert.deepEqual([...labels].sort(), [...APP_MODULES].sort());
  });

  test('the missing-APP fix picks the top-level project over the nested sibling, with its callable', async () => {
    const uri = await open('HOST=127.0.0.1\nAPP_CALLABLE=application\n');
    const fix = (await actionsAt(client, uri, 0, 0)).find((a) => a.title.startsWith('Add the missing'))!;
    assert.ok(fix, 'no fix for the missing fields');
    const text = await client.edit(uri, fix.edit!.changes![uri]);
    assert.match(text, /^APP=mysite\.wsgi$/m, text);
    assert.deepEqual(brief(await client.diagnostics(uri)), []); // the module exists: no module-not-found
  });

  test('without APP_CALLABLE the fix picks the nearest app and writes its callable', async () => {
    const uri = await open('HOST=127.0.0.1\n');
    const fix = (await actionsAt(client, uri, 0, 0)).find((a) => a.title.startsWith('Add the missing'))!;
    const text = await client.edit(uri, fix.edit!.changes![uri]);
    assert.match(text, /^APP=flaskapp\nDOMAIN=localhost\nAPP_CALLABLE=app\n$/m, text);
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('the index follows file events: a new app is offered, a deleted one is not', async () => {
    const uri = await open(config(''));
    fs.writeFileSync(path.join(ws, 'aaa_app.py'), 'import bottle\n\napp = bottle.Bottle()\n');
    await client.filesChanged([{ uri: fileUri(ws, 'aaa_app.py'), type: FileChangeType.Created }]);
    let items = await complete(client, uri, 3, 4);
    assert.deepEqual(items.map((i) => [i.label, i.detail]).slice(0, 2), [
      ['aaa_app', 'app · Bottle app'],
      ['flaskapp', 'app · Flask app'],
    ]);
    fs.rmSync(path.join(ws, 'aaa_app.py'));
    await client.filesChanged([{ uri: fileUri(ws, 'aaa_app.py'), type: FileChangeType.Deleted }]);
    items = await complete(client, uri, 3, 4);
    assert.ok(!items.some((i) => i.label === 'aaa_app'), 'a deleted module is still offered');
  });

  test('a folder deleted without events for its files drops out of the completion too', async () => {
    fs.mkdirSync(path.join(ws, 'gone'));
    fs.writeFileSync(path.join(ws, 'gone', 'wsgi.py'), 'application = get_wsgi_application()\n');
    await client.filesChanged([{ uri: fileUri(ws, 'gone/wsgi.py'), type: FileChangeType.Created }]);
    const uri = await open(config(''));
    assert.ok((await complete(client, uri, 3, 4)).some((i) => i.label === 'gone.wsgi'));
    fs.rmSync(path.join(ws, 'gone'), { recursive: true });
    assert.ok(!(await complete(client, uri, 3, 4)).some((i) => i.label === 'gone.wsgi'));
  });
});

describe('APP and APP_CALLABLE: gunicorn form, definitions, links, fixes', () => {
  let client: LspClient;
  let ws: string;
  let n = 0;
  const open = async (text: string) => {
    const uri = fileUri(ws, `doc${++n}.server3`);
    await client.open(uri, text);
    await client.diagnostics(uri);
    return uri;
  };
  const FLASK =
    'from flask import Flask\n\napp = Flask(__name__)\n\n\ndef other(environ, start_response):\n    return []\n';

  before(async () => {
    ws = makeWorkspace({
      'hello/__init__.py': '',
      'hello/wsgi.py': '"""Hello."""\n\n\ndef application(environ, start_response):\n    return []\n',
      'web/flaskapp.py': FLASK,
    });
    client = await LspClient.start(ws);
  });
  after(async () => {
    await client.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  test("gunicorn's APP=module:callable is valid, and a wrong callable is underlined after the colon", async () => {
    assert.deepEqual(brief(await client.diagnostics(await open(config('web.flaskapp:app')))), []);
    const wrong = await open(config('web.flaskapp:nope'));
    assert.deepEqual(brief(await client.diagnostics(wrong)), ['3:17-21 warning no-application']);
    const fixes = (await actionsAt(client, wrong, 3, 18)).map((a) => a.title);
    assert.deepEqual(fixes, [
      'Use APP=web.flaskapp:app (Flask app, line 3)',
      'Use APP=web.flaskapp:other (WSGI function, line 6)',
    ]);
    const overridden = await open(config('web.flaskapp:app', 'APP_CALLABLE=application\n'));
    const [d] = await client.diagnostics(overridden);
    assert.equal(d.code, 'overridden-callable');
    assert.deepEqual(d.tags, [1], 'a line without effect is faded (DiagnosticTag.Unnecessary)');
    const remove = (await actionsAt(client, overridden, 5, 3)).find((a) => a.title.startsWith('Remove'))!;
    assert.equal(remove.isPreferred, true);
    assert.equal(
      await client.edit(overridden, remove.edit!.changes![overridden]),
      config('web.flaskapp:app'),
    );
  });

  test('no-application offers the callables the module defines, as APP_CALLABLE', async () => {
    const uri = await open(config('web.flaskapp'));
    assert.deepEqual(brief(await client.diagnostics(uri)), ['3:4-16 warning no-application']);
    const fix = (await actionsAt(client, uri, 3, 5)).find(
      (a) => a.title === 'Use APP_CALLABLE=app (Flask app, line 3)',
    );
    assert.ok(fix);
    assert.equal(await client.edit(uri, fix.edit!.changes![uri]), config('web.flaskapp\nAPP_CALLABLE=app'));
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test("APP_CALLABLE's completion lists the callables of APP's module first", async () => {
    const uri = await open(config('web.flaskapp', 'APP_CALLABLE=\n'));
    const items = await complete(client, uri, 5, 13);
    assert.deepEqual(
      items.map((i) => [i.label, i.detail]),
      [
        ['app', 'Flask app, line 3'],
        ['other', 'WSGI function, line 6'],
        ['application', 'default'],
      ],
    );
  });

  test('go to definition: APP to the module file, APP_CALLABLE and the part after the colon to the definition', async () => {
    const definition = async (uri: string, line: number, character: number) =>
      (await client.connection.sendRequest(DefinitionRequest.type, {
        textDocument: { uri },
        position: { line, character },
      })) as LocationLink[] | null;
    const plain = await open(config('web.flaskapp', 'APP_CALLABLE=app\n'));
    const [module] = (await definition(plain, 3, 6))!;
    assert.equal(module.targetUri, fileUri(ws, 'web/flaskapp.py'));
    assert.deepEqual(module.originSelectionRange, {
      start: { line: 3, character: 4 },
      end: { line: 3, character: 16 },
    });
    const [named] = (await definition(plain, 5, 14))!;
    assert.equal(named.targetUri, fileUri(ws, 'web/flaskapp.py'));
    assert.deepEqual(named.targetSelectionRange, {
      start: { line: 2, character: 0 },
      end: { line: 2, character: 3 },
    });
    const colon = await open(config('web.flaskapp:other'));
    const [callable] = (await definition(colon, 3, 18))!;
    assert.deepEqual(callable.targetSelectionRange, {
      start: { line: 5, character: 4 },
      end: { line: 5, character: 9 },
    });
    assert.equal(await definition(colon, 1, 2), null, 'PORT points nowhere');
    const missing = await open(config('nothere.wsgi'));
    assert.equal(await definition(missing, 3, 6), null);
  });

  test('document links: APP opens the module, APP_CALLABLE its line', async () => {
    const uri = await open(config('hello.wsgi', 'APP_CALLABLE=application\n'));
    const links = await client.connection.sendRequest(DocumentLinkRequest.type, { textDocument: { uri } });
    assert.deepEqual(
      links?.map((l) => [
        l.range.start.line,
        l.range.start.character,
        l.range.end.character,
        l.target,
        l.tooltip,
      ]),
      [
        [3, 4, 14, fileUri(ws, 'hello/wsgi.py'), 'Open hello/wsgi.py'],
        [5, 13, 24, fileUri(ws, 'hello/wsgi.py') + '#L4,5', 'Go to hello/wsgi.py, line 4'],
      ],
    );
  });

  test('module-not-found: the modules found (a near spelling preferred) and "create the module"', async () => {
    const uri = await open(config('hello.wsgj'));
    assert.deepEqual(brief(await client.diagnostics(uri)), ['3:4-14 warning module-not-found']);
    const actions = await actionsAt(client, uri, 3, 6);
    assert.deepEqual(
      actions.map((a) => [a.title, a.isPreferred]),
      [
        ['Change APP to hello.wsgi (application, WSGI function)', true],
        ['Change APP to web.flaskapp (app, Flask app)', false],
        ['Create hello/wsgj.py with a WSGI app (application)', false],
      ],
    );
    const flask = actions[1];
    assert.equal(await client.edit(uri, flask.edit!.changes![uri]), config('web.flaskapp\nAPP_CALLABLE=app'));
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('"create the module" writes a WSGI app the runtime can import, and the warning goes', async () => {
    const uri = await open(config('shop.wsgi:app'));
    const create = (await actionsAt(client, uri, 3, 6)).find((a) => a.title.startsWith('Create'))!;
    assert.equal(create.title, 'Create shop/wsgi.py with a WSGI app (app)');
    const [made, content] = create.edit!.documentChanges! as [CreateFile, TextDocumentEdit];
    assert.equal(made.kind, 'create');
    assert.equal(made.uri, fileUri(ws, 'shop/wsgi.py'));
    assert.equal(content.textDocument.uri, made.uri);
    // Apply it as the editor would: create the file with its text, then the watcher reports it.
    fs.mkdirSync(path.join(ws, 'shop'));
    fs.writeFileSync(path.join(ws, 'shop', 'wsgi.py'), content.edits[0].newText);
    assert.match(content.edits[0].newText, /^def app\(environ, start_response\):$/m);
    const count = client.publishCount.get(uri) ?? 0;
    await client.filesChanged([{ uri: made.uri, type: FileChangeType.Created }]);
    assert.deepEqual(brief(await client.nextPublish(uri, count)), []);
  });
});

describe('a project with no WSGI app yet', () => {
  test('the missing-APP fix names no module that does not exist: it creates wsgi.py with the config', async () => {
    const ws = makeWorkspace({ 'tools/build.py': 'print("hi")\n' });
    const client = await LspClient.start(ws);
    try {
      const uri = fileUri(ws, '.config_server');
      await client.open(uri, 'HOST=127.0.0.1\n');
      await client.diagnostics(uri);
      const [fix] = await actionsAt(client, uri, 0, 0);
      assert.equal(
        fix.title,
        'Add the missing required fields (PORT, SOCKET_BACKLOG, APP, DOMAIN) and create wsgi.py with a WSGI app',
      );
      const [made, content, configEdit] = fix.edit!.documentChanges! as [
        CreateFile,
        TextDocumentEdit,
        TextDocumentEdit,
      ];
      assert.equal(made.uri, fileUri(ws, 'wsgi.py'));
      assert.match(content.edits[0].newText, /^def application\(environ, start_response\):$/m);
      assert.equal(configEdit.textDocument.uri, uri);
      assert.equal(
        await client.edit(uri, configEdit.edits),
        'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=1024\nAPP=wsgi\nDOMAIN=localhost\n',
      );
    } finally {
      await client.stop();
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});
