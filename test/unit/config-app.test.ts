/**
 * APP's editor features in process, on real temp folders where a file must exist: the WSGI callables a
 * module's source offers (wsgiCallables.ts), where a name is defined, where APP and APP_CALLABLE point (go to
 * definition and links: definitions.ts), the edits that point APP at a module (appEdits.ts), the quick fixes
 * of module-not-found, no-application, overridden-callable and a missing APP (with and without a module to
 * offer, with and without creating one), and the capped diagnostics. test/lsp drives the same over LSP;
 * here every title, edit and list is checked whole.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { DiagnosticSeverity, DiagnosticTag } from 'vscode-languageserver/node';
import type { CodeAction, TextEdit } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { type ActionContext, codeActions } from '../../server-runtime/src/config/actions';
import type { AppCandidate } from '../../server-runtime/src/config/appCandidates';
import { callableEdits, pointAppAt, wsgiAppSource } from '../../server-runtime/src/config/appEdits';
import { appReferences } from '../../server-runtime/src/config/definitions';
import { cappedDiagnostics, toDiagnostic } from '../../server-runtime/src/config/diagnostics';
import { parseConfig } from '../../server-runtime/src/config/parse';
import type { Problem } from '../../server-runtime/src/config/problem';
import { validate } from '../../server-runtime/src/config/validate';
import {
  definitionIndex,
  findDefinition,
  wsgiCallables,
} from '../../server-runtime/src/config/wsgiCallables';

const URI = 'file:///w/.config_server';
const HEAD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\n';

const temps: string[] = [];
after(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));
function tempDir(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-app-'));
  temps.push(root);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

function candidate(module: string, name: string, kind: string, line = 0): AppCandidate {
  const file = `/w/${module.replace(/\./g, '/')}.py`;
  return { module, file, callable: { name, line, kind }, depth: module.split('.').length - 1 };
}

function applyEdits(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create(URI, 'server3-config', 1, text), edits);
}

/** The callables as `name line kind` strings. */
function callables(source: string): string[] {
  return wsgiCallables(source).map((c) => `${c.name} ${c.line} ${c.kind}`);
}

describe('WSGI callables of a module', () => {
  test('made by a framework factory, each named after it; the last part of a dotted callee counts', () => {
    const source = [
      'from flask import Flask', // 0
      'app = Flask(__name__)',
      'web = flask.Flask(__name__)',
      'dj = get_wsgi_application()',
      'handler = WSGIHandler()',
      'bottle_app = Bottle()', // 5
      'b2 = bottle.default_app()',
      'pyr = config.make_wsgi_app()',
      'made = create_app()',
      'other = make_app()',
      'falc = falcon.App()', // 10
      'falc2 = falcon.API()',
      'notfalcon = App()',
      'typed: Flask = Flask(__name__)',
      'spaced   =   Flask  (x)',
      'call = something()', // 15
      '    inner = Flask(__name__)',
      'x.y = Flask(__name__)',
    ].join('\n');
    assert.deepEqual(callables(source), [
      'app 1 Flask app',
      'web 2 Flask app',
      'dj 3 Django WSGI application',
      'handler 4 Django WSGI application',
      'bottle_app 5 Bottle app',
      'b2 6 Bottle app',
      'pyr 7 Pyramid app',
      'made 8 app from a factory',
      'other 9 app from a factory',
      'falc 10 Falcon app',
      'falc2 11 Falcon app',
      'typed 13 Flask app',
      'spaced 14 Flask app',
    ]);
  });

  test('(environ, start_response) functions, sync or async, over several lines', () => {
    const source = [
      'def application(environ, start_response):', // 0
      '    pass',
      'async def handler(environ,start_response): pass',
      'def multi(',
      '    environ,',
      '    start_response,', // 5
      '):',
      'def wrong(env, start_response): pass',
      'def half(environ): pass',
      'def reversed_(start_response, environ): pass',
      '    def nested(environ, start_response): pass', // 10
      'def  spaced ( environ, start_response=None ) : pass',
      'async \t def _two(environ, start_response): pass',
      'def n1(environment, start_response): pass',
      'def n2(environ, not_start_response): pass',
      'def n3(environ, start_responses): pass', // 15
    ].join('\n');
    assert.deepEqual(callables(source), [
      'application 0 WSGI function',
      'handler 2 WSGI function',
      'multi 3 WSGI function',
      'spaced 11 WSGI function',
      '_two 12 WSGI function',
    ]);
  });

  test('the conventional names defined any other way; never an ASGI app', () => {
    assert.deepEqual(callables('application = object()\n'), ['application 0 defines application']);
    assert.deepEqual(callables('x = 1\nfrom site.wsgi import app\n'), ['app 1 defines app']);
    assert.deepEqual(callables('import site.wsgi as application'), ['application 0 defines application']);
    assert.deepEqual(callables('class app:\n    pass\n'), ['app 0 defines app']);
    // On one line: application first, as the runtime looks for it first.
    assert.deepEqual(callables('app = application = make()\n'), [
      'application 0 defines application',
      'app 0 defines app',
    ]);
    // ASGI factories: not offered under a conventional name, nor under another one.
    for (const factory of ['get_asgi_application', 'FastAPI', 'Starlette', 'Quart', 'Sanic', 'Litestar'])
      assert.deepEqual(
        callables(`application = ${factory}()\napp = x.${factory}()\napi = ${factory}()\n`),
        [],
        factory,
      );
    // An ASGI app named application does not hide a WSGI app named app.
    assert.deepEqual(callables('application = FastAPI()\napp = object()\n'), ['app 1 defines app']);
    assert.deepEqual(callables('if x:\n    app = 1\napp_x = 1\nmy_app = 2\n'), []);
    assert.deepEqual(callables(''), []);
  });

  test('each name once, the most telling kind winning, in source order', () => {
    const source =
      'app = object()\napplication = 1\ndef application(environ, start_response): pass\napp = Flask(x)\n';
    assert.deepEqual(callables(source), ['application 2 WSGI function', 'app 3 Flask app']);
    assert.deepEqual(callables('z = Flask(a)\nb = Bottle()\n'), ['z 0 Flask app', 'b 1 Bottle app']);
    // An annotation ends at its line: a bare one is not the start of the next line's assignment.
    assert.deepEqual(callables('note: str\nweb = Flask(x)\n'), ['web 1 Flask app']);
    // Lines are counted by \n, whatever ends them.
    assert.deepEqual(callables('# a\r\n\r\napp = Flask(x)\r\n'), ['app 2 Flask app']);
  });
});

describe('where a name is defined', () => {
  test('def, class, assignments (chained, annotated), imports; not a comparison, not indented', () => {
    const at = (source: string, name = 'app') => definitionIndex(source, name);
    assert.equal(at('def app(): pass'), 0);
    assert.equal(at('def  app(): pass'), 0);
    assert.equal(at('app : int = 1'), 0);
    assert.equal(at('app: int\nx = 1'), -1, 'a bare annotation binds nothing');
    assert.equal(at('x\nasync  def app(): pass'), 2);
    assert.equal(at('class app(Base): pass'), 0);
    assert.equal(at('app = 1'), 0);
    assert.equal(at('app=1'), 0);
    assert.equal(at('a = b = app = 1'), 0);
    assert.equal(at('app: Flask = make()'), 0);
    assert.equal(at('from x import y, app'), 0);
    assert.equal(at('import x as app'), 0);
    for (const no of [
      'app == 1',
      '  app = 1',
      'apps = 1',
      'def apps(): pass',
      'class apps: pass',
      'import app',
      'x = app',
      'app.x = 1',
      'from x import apps',
      'import x as apps',
      'myapp = 1',
    ])
      assert.equal(at(no), -1, no);
    // The first definition of any form.
    assert.equal(at('import x as app\nclass app: pass'), 0);
    assert.equal(at('x = 1\nclass app: pass\napp = 2'), 6);
    // The name is matched literally, not as a pattern.
    assert.equal(definitionIndex('axb = 1', 'a.b'), -1);
    assert.equal(definitionIndex('a.b = 1', 'a.b'), 0);
  });

  test('the line and columns of the name itself', () => {
    assert.deepEqual(findDefinition('x = 1\n\napp = Flask(__name__)\n', 'app'), {
      line: 2,
      start: 0,
      end: 3,
    });
    assert.deepEqual(findDefinition('class  app:\n  pass', 'app'), { line: 0, start: 7, end: 10 });
    assert.deepEqual(findDefinition('a = app = 1', 'app'), { line: 0, start: 4, end: 7 });
    // In an import the name is the imported one, the last; a dotted use (app.x) is not the name.
    assert.deepEqual(findDefinition('from app.wsgi import app', 'app'), { line: 0, start: 21, end: 24 });
    assert.deepEqual(findDefinition('import app.x as app\n', 'app'), { line: 0, start: 16, end: 19 });
    assert.deepEqual(findDefinition('# x\nfrom app import x, app', 'app'), { line: 1, start: 19, end: 22 });
    // The last line, without a line end.
    assert.deepEqual(findDefinition('x = 1\ndef app(): pass', 'app'), { line: 1, start: 4, end: 7 });
    assert.equal(findDefinition('x = 1\n', 'app'), undefined);
    // A dotted mention after the imported name (in a comment) is not it.
    assert.deepEqual(findDefinition('import x as app  # app.py', 'app'), { line: 0, start: 12, end: 15 });
  });
});

describe('where APP and APP_CALLABLE point', () => {
  const ws = tempDir({
    'pkg/__init__.py': '',
    'pkg/wsgi.py': 'import os\n\napplication = get_wsgi_application()\napp = Flask(__name__)\n',
    'flaskapp.py': 'from flask import Flask\napp = Flask(__name__)\n',
    '1x.py': 'application = 1\n',
    'my-mod.py': 'application = 1\n',
    'site/local.py': 'def application(environ, start_response): pass\n',
  });
  const site = path.join(ws, 'site');
  const refs = (text: string, dirs = [ws]) =>
    appReferences(parseConfig(text), dirs).map((r) => [
      r.origin.line,
      r.origin.start,
      r.origin.end,
      path.relative(ws, r.file),
      r.target ? `${r.target.line}:${r.target.start}-${r.target.end}` : 'module',
    ]);

  test('APP to its module (a file or a package), APP_CALLABLE to its definition there', () => {
    assert.deepEqual(refs('APP=pkg.wsgi\n'), [[0, 4, 12, 'pkg/wsgi.py', 'module']]);
    assert.deepEqual(refs('APP = pkg\n'), [[0, 6, 9, 'pkg/__init__.py', 'module']]);
    assert.deepEqual(refs('APP=pkg.wsgi\nAPP_CALLABLE=app\n'), [
      [0, 4, 12, 'pkg/wsgi.py', 'module'],
      [1, 13, 16, 'pkg/wsgi.py', '3:0-3'],
    ]);
    // A callable the module does not define, a module not there, not a module path: nothing.
    assert.deepEqual(refs('APP=pkg.wsgi\nAPP_CALLABLE=nope\n'), [[0, 4, 12, 'pkg/wsgi.py', 'module']]);
    assert.deepEqual(refs('APP=missing\nAPP_CALLABLE=app\n'), []);
    assert.deepEqual(refs('APP=1x\n'), [], '1x.py exists, but 1x is no module name');
    assert.deepEqual(refs('APP=pkg..wsgi\n'), [], 'pkg/wsgi.py exists, but pkg..wsgi is no module name');
    assert.deepEqual(refs('APP=my-mod\n'), [], 'my-mod.py exists, but my-mod is no module name');
    assert.deepEqual(refs('PORT=1\n'), []);
  });

  test("gunicorn's module:callable: the module part and the callable part, APP_CALLABLE moot", () => {
    assert.deepEqual(refs('APP=pkg.wsgi:app\nAPP_CALLABLE=application\n'), [
      [0, 4, 12, 'pkg/wsgi.py', 'module'],
      [0, 13, 16, 'pkg/wsgi.py', '3:0-3'],
    ]);
    assert.deepEqual(refs('APP=flaskapp:nope\n'), [[0, 4, 12, 'flaskapp.py', 'module']]);
    // The last APP line decides where APP_CALLABLE points: without a colon it counts again.
    assert.deepEqual(refs('APP=flaskapp:app\nAPP=pkg.wsgi\nAPP_CALLABLE=application\n'), [
      [0, 4, 12, 'flaskapp.py', 'module'],
      [0, 13, 16, 'flaskapp.py', '1:0-3'],
      [1, 4, 12, 'pkg/wsgi.py', 'module'],
      [2, 13, 24, 'pkg/wsgi.py', '2:0-11'],
    ]);
    assert.deepEqual(refs('APP=pkg.wsgi\nAPP=flaskapp:app\nAPP_CALLABLE=application\n'), [
      [0, 4, 12, 'pkg/wsgi.py', 'module'],
      [1, 4, 12, 'flaskapp.py', 'module'],
      [1, 13, 16, 'flaskapp.py', '1:0-3'],
    ]);
    // The last APP line not found: APP_CALLABLE points nowhere, not into the earlier module.
    assert.deepEqual(refs('APP=pkg.wsgi\nAPP=missing\nAPP_CALLABLE=app\n'), [
      [0, 4, 12, 'pkg/wsgi.py', 'module'],
    ]);
    assert.deepEqual(refs('APP=pkg.wsgi\nAPP=1x\nAPP_CALLABLE=app\n'), [[0, 4, 12, 'pkg/wsgi.py', 'module']]);
  });

  test("the config's folder first, then the workspace", () => {
    assert.deepEqual(refs('APP=local\nAPP_CALLABLE=application\n', [site, ws]), [
      [0, 4, 9, 'site/local.py', 'module'],
      [1, 13, 24, 'site/local.py', '0:4-15'],
    ]);
    assert.deepEqual(refs('APP=flaskapp\n', [site, ws]), [[0, 4, 12, 'flaskapp.py', 'module']]);
    assert.deepEqual(refs('APP=local\n', [ws]), []);
  });
});

describe('the edits that point APP at a module', () => {
  const text = 'HOST=1\nAPP=old:x  # c\nPORT=1';
  const parsed = parseConfig(text);
  const app = parsed.entries.find((e) => e.key === 'APP')!;

  test('APP_CALLABLE: none for the default, added under APP, changed where it is, none when it says so', () => {
    assert.deepEqual(callableEdits(parsed, 1, 'application', '\n'), []);
    assert.deepEqual(callableEdits(parsed, 1, 'app', '\r\n'), [
      {
        range: { start: { line: 1, character: 14 }, end: { line: 1, character: 14 } },
        newText: '\r\nAPP_CALLABLE=app',
      },
    ]);
    const named = parseConfig('APP=a\nAPP_CALLABLE = first\nAPP_CALLABLE = app  # c\n');
    assert.deepEqual(callableEdits(named, 0, 'app', '\n'), []);
    assert.deepEqual(callableEdits(named, 0, 'application', '\n'), [
      {
        range: { start: { line: 2, character: 15 }, end: { line: 2, character: 18 } },
        newText: 'application',
      },
    ]);
  });

  test("APP's whole value replaced, its :callable included, and APP_CALLABLE with it", () => {
    const edits = pointAppAt(parsed, app, 'site.wsgi', 'app', '\n');
    assert.deepEqual(edits[0], {
      range: { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } },
      newText: 'site.wsgi',
    });
    assert.equal(applyEdits(text, edits), 'HOST=1\nAPP=site.wsgi  # c\nAPP_CALLABLE=app\nPORT=1');
    assert.equal(
      applyEdits(text, pointAppAt(parsed, app, 'w', 'application', '\n')),
      'HOST=1\nAPP=w  # c\nPORT=1',
    );
  });

  test('a new module with a minimal WSGI app, in the line ends of the config', () => {
    assert.equal(
      wsgiAppSource('site.wsgi', 'app', '\r\n'),
      [
        '"""A minimal WSGI app for Server 3 (APP=site.wsgi): replace it with yours."""',
        '',
        '',
        'def app(environ, start_response):',
        '    body = b"Hello from site.wsgi!\\n"',
        '    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]',
        '    start_response("200 OK", headers)',
        '    return [body]',
        '',
      ].join('\r\n'),
    );
    // It is what wsgiCallables offers back.
    assert.deepEqual(callables(wsgiAppSource('m', 'application', '\n')), ['application 3 WSGI function']);
  });
});

describe('quick fixes for APP', () => {
  const ws = tempDir({
    'flaskapp.py': 'from flask import Flask\n\napp = Flask(__name__)\n\ndef make(): pass\n',
    'hello/wsgi.py': 'application = get_wsgi_application()\n',
  });
  const uriIn = (rel: string) => pathToFileURL(path.join(ws, rel)).href;
  function fixes(text: string, line: number, character: number, context: ActionContext = {}) {
    const { parsed, problems } = validate(text, { configDir: ws, somaxconn: null });
    const range = { start: { line, character }, end: { line, character } };
    return { actions: codeActions(URI, text, parsed, problems, range, context), problems };
  }
  const applied = (text: string, action: CodeAction) => applyEdits(text, action.edit!.changes![URI]);
  const summary = (actions: CodeAction[]) => actions.map((a) => [a.title, a.isPreferred]);

  test('module-not-found: the near spellings first (preferred), three modules at most', () => {
    const text = `${HEAD}APP=abcd\nDOMAIN=localhost\n`;
    const context = {
      candidates: [
        candidate('axyz', 'application', 'defines application'), // 3 edits away: not near
        candidate('flaskapp', 'app', 'Flask app', 2),
        candidate('abxy', 'application', 'Django WSGI application'), // 2 edits: near
        candidate('zzzz', 'application', 'WSGI function'),
      ],
    };
    const { actions, problems } = fixes(text, 3, 5, context);
    assert.deepEqual(summary(actions), [
      ['Change APP to abxy (application, Django WSGI application)', true],
      ['Change APP to axyz (application, defines application)', false],
      ['Change APP to flaskapp (app, Flask app)', false],
    ]);
    const notFound = problems.find((p) => p.code === 'module-not-found')!;
    for (const a of actions) {
      assert.equal(a.kind, 'quickfix');
      assert.deepEqual(a.diagnostics, [toDiagnostic(notFound, URI)]);
    }
    assert.equal(applied(text, actions[0]).split('\n')[3], 'APP=abxy');
    assert.deepEqual(applied(text, actions[2]).split('\n').slice(3, 6), [
      'APP=flaskapp',
      'APP_CALLABLE=app',
      'DOMAIN=localhost',
    ]);
    assert.deepEqual(fixes(text, 3, 5).actions, [], 'no candidates, no folder to create in: no fix');
  });

  test('module-not-found: create the module, with the callable the config names', () => {
    const create = (text: string) => {
      const all = fixes(text, 3, 5, { createIn: ws }).actions;
      assert.equal(all.length, 1);
      return all[0];
    };
    const plain = create(`${HEAD}APP=site.wsgi\nDOMAIN=localhost\n`);
    assert.deepEqual(
      [plain.title, plain.isPreferred],
      ['Create site/wsgi.py with a WSGI app (application)', false],
    );
    const file = uriIn('site/wsgi.py');
    assert.deepEqual(plain.edit, {
      documentChanges: [
        { kind: 'create', uri: file, options: { ignoreIfExists: true } },
        {
          textDocument: { uri: file, version: null },
          edits: [
            {
              range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
              newText: wsgiAppSource('site.wsgi', 'application', '\n'),
            },
          ],
        },
      ],
    });
    const colon = create(`${HEAD}APP=mine:serve\r\nDOMAIN=localhost\r\n`);
    assert.equal(colon.title, 'Create mine.py with a WSGI app (serve)');
    const [, source] = colon.edit!.documentChanges as { edits?: TextEdit[] }[];
    assert.equal(source.edits![0].newText, wsgiAppSource('mine', 'serve', '\r\n'));
    assert.equal(
      create(`${HEAD}APP=m\nAPP_CALLABLE=web\nDOMAIN=x\n`).title,
      'Create m.py with a WSGI app (web)',
    );
    assert.equal(
      fixes(`${HEAD}APP=m\nAPP_CALLABLE=1x\nDOMAIN=x\n`, 3, 5, { createIn: ws }).actions.find((a) =>
        a.title.startsWith('Create'),
      )!.title,
      'Create m.py with a WSGI app (application)',
    );
  });

  test("no-application: the callables the module defines, as APP_CALLABLE or after APP's colon", () => {
    const defined = [
      { name: 'app', line: 2, kind: 'Flask app' },
      { name: 'make', line: 4, kind: 'app from a factory' },
    ];
    const text = `${HEAD}APP=flaskapp\nDOMAIN=localhost\n`;
    const { actions, problems } = fixes(text, 3, 5, { callablesOfApp: defined });
    assert.deepEqual(summary(actions), [
      ['Use APP_CALLABLE=app (Flask app, line 3)', false],
      ['Use APP_CALLABLE=make (app from a factory, line 5)', false],
    ]);
    assert.deepEqual(actions[0].diagnostics, [
      toDiagnostic(
        problems.find((p) => p.code === 'no-application')!,
        URI,
      ),
    ]);
    assert.deepEqual(applied(text, actions[1]).split('\n').slice(3, 5), [
      'APP=flaskapp',
      'APP_CALLABLE=make',
    ]);
    const named = `${HEAD}APP=flaskapp\nAPP_CALLABLE=nope\nDOMAIN=localhost\n`;
    assert.equal(
      applied(named, fixes(named, 3, 5, { callablesOfApp: defined }).actions[0]).split('\n')[4],
      'APP_CALLABLE=app',
    );
    const colon = `${HEAD}APP=flaskapp:nope  # c\nDOMAIN=localhost\n`;
    const byColon = fixes(colon, 3, 15, { callablesOfApp: defined }).actions;
    assert.deepEqual(summary(byColon), [
      ['Use APP=flaskapp:app (Flask app, line 3)', false],
      ['Use APP=flaskapp:make (app from a factory, line 5)', false],
    ]);
    assert.equal(applied(colon, byColon[1]).split('\n')[3], 'APP=flaskapp:make  # c');
    assert.deepEqual(fixes(text, 3, 5).actions, [], 'no callables known: no fix');
  });

  test('overridden-callable: remove the APP_CALLABLE line', () => {
    const text = `${HEAD}APP=flaskapp:app\nAPP_CALLABLE=make\nDOMAIN=localhost\n`;
    const { actions, problems } = fixes(text, 4, 2);
    assert.deepEqual(summary(actions), [['Remove this APP_CALLABLE line (it has no effect)', true]]);
    assert.equal(applied(text, actions[0]), `${HEAD}APP=flaskapp:app\nDOMAIN=localhost\n`);
    const diagnostic = toDiagnostic(
      problems.find((p) => p.code === 'overridden-callable')!,
      URI,
    );
    assert.deepEqual(actions[0].diagnostics, [diagnostic]);
    assert.deepEqual(diagnostic.tags, [DiagnosticTag.Unnecessary]);
  });

  test('a missing APP: the best module, with its callable; else wsgi.py created, or APP=wsgi alone', () => {
    const add = (text: string, context: ActionContext) => {
      const all = fixes(text, 0, 0, context).actions.filter((a) => a.title.startsWith('Add'));
      assert.equal(all.length, 1);
      assert.equal(all[0].isPreferred, true);
      return all[0];
    };
    const flask = candidate('flaskapp', 'app', 'Flask app', 2);
    const django = candidate('hello.wsgi', 'application', 'Django WSGI application');
    const base = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nDOMAIN=localhost';
    assert.equal(
      applied(base, add(base, { candidates: [flask, django] })),
      `${base}\nAPP=flaskapp\nAPP_CALLABLE=app\n`,
    );
    // A config naming its callable gets a module defining that one, APP_CALLABLE untouched.
    const named = `${base}\nAPP_CALLABLE=application\n`;
    assert.equal(applied(named, add(named, { candidates: [flask, django] })), `${named}APP=hello.wsgi\n`);
    // One naming a callable no module defines: the best module, and APP_CALLABLE changed to its callable.
    const other = `${base}\nAPP_CALLABLE = other\n`;
    assert.equal(
      applied(other, add(other, { candidates: [flask, django] })),
      `${base}\nAPP_CALLABLE =app\nAPP=flaskapp\n`, // the value from after the =, as every value fix
    );
    // APP present: the other fields only; APP_CALLABLE left as it is.
    const hasApp = 'APP=x\nAPP_CALLABLE=other\n';
    const noApp = add(hasApp, { candidates: [flask], createIn: ws });
    assert.equal(noApp.title, 'Add the missing required fields (HOST, PORT, SOCKET_BACKLOG, DOMAIN)');
    assert.equal(
      applied(hasApp, noApp),
      `${hasApp}HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=1024\nDOMAIN=localhost\n`,
    );
    // No module anywhere: wsgi.py is created with the config's new lines, or APP=wsgi alone when files cannot be.
    const created = add(base, { createIn: ws });
    assert.equal(created.title, 'Add the missing required fields (APP) and create wsgi.py with a WSGI app');
    const file = uriIn('wsgi.py');
    assert.deepEqual(created.edit, {
      documentChanges: [
        { kind: 'create', uri: file, options: { ignoreIfExists: true } },
        {
          textDocument: { uri: file, version: null },
          edits: [
            {
              range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
              newText: wsgiAppSource('wsgi', 'application', '\n'),
            },
          ],
        },
        {
          textDocument: { uri: URI, version: null },
          edits: [
            {
              range: { start: { line: 3, character: 16 }, end: { line: 3, character: 16 } },
              newText: '\nAPP=wsgi\n',
            },
          ],
        },
      ],
    });
    const plain = add(base, {});
    assert.equal(plain.title, 'Add the missing required fields (APP)');
    assert.equal(applied(base, plain), `${base}\nAPP=wsgi\n`);
  });
});

describe('diagnostics', () => {
  const problem = (line: number, severity: 'error' | 'warning', code = 'x'): Problem => ({
    line,
    start: 1,
    end: 2,
    severity,
    code,
    message: `${code} on ${line}`,
  });

  test('a duplicate links to the line that wins, in the document given, and is faded', () => {
    const { problems } = validate('PORT=1\nPORT=2\n', { fileSystem: false });
    const duplicate = problems.find((p) => p.code === 'duplicate-key')!;
    const withUri = toDiagnostic(duplicate, URI);
    assert.deepEqual(withUri.relatedInformation, [
      {
        location: { uri: URI, range: { start: { line: 1, character: 0 }, end: { line: 1, character: 6 } } },
        message: 'PORT=2 wins',
      },
    ]);
    assert.deepEqual(withUri.tags, [DiagnosticTag.Unnecessary]);
    assert.equal(toDiagnostic(duplicate).relatedInformation, undefined);
    assert.equal(toDiagnostic(problem(0, 'error')).tags, undefined);
  });

  test('capped: all of them up to the cap; past it, errors first and one more saying how many are left out', () => {
    const mixed = [problem(5, 'warning'), problem(4, 'error'), problem(3, 'warning'), problem(2, 'error')];
    assert.deepEqual(
      cappedDiagnostics(mixed, URI, 4),
      mixed.map((p) => toDiagnostic(p, URI)),
    );
    const capped = cappedDiagnostics(mixed, URI, 2);
    assert.deepEqual(capped.slice(0, 2), [toDiagnostic(mixed[1], URI), toDiagnostic(mixed[3], URI)]);
    assert.deepEqual(capped[2], {
      range: { start: { line: 3, character: 1 }, end: { line: 3, character: 2 } },
      severity: DiagnosticSeverity.Information,
      source: 'server3',
      code: 'more-problems',
      message: '2 more warnings not shown (only the first 2 are): fix these, the rest follow',
    });
    assert.equal(capped.length, 3);
    assert.equal(
      cappedDiagnostics(mixed, URI, 1)[1].message,
      '3 more problems not shown (only the first 1 are): fix these, the rest follow',
    );
    const errors = [problem(9, 'error'), problem(8, 'error'), problem(7, 'error')];
    const onlyErrors = cappedDiagnostics(errors, URI, 1);
    assert.equal(
      onlyErrors[1].message,
      '2 more errors not shown (only the first 1 are): fix these, the rest follow',
    );
    assert.equal(onlyErrors[1].range.start.line, 7, 'at the first line left out');
    assert.equal(onlyErrors[0].range.start.line, 9, 'errors keep their order');
  });
});
