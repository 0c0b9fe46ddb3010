/**
 * Edges of the config language's features that the feature tests left unchecked (found by the mutation gate,
 * test/README.md): the last line of a file without a line end, the exact wording of messages, the order of
 * ties and of the module index's walk, which APP_CALLABLE line counts, the line end of added lines.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { CodeAction, TextEdit } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { type ActionContext, codeActions } from '../../server-runtime/src/config/actions';
import { type AppCandidate, appCandidates } from '../../server-runtime/src/config/appCandidates';
import { type CompletionContext, completeAt } from '../../server-runtime/src/config/complete';
import { appReferences } from '../../server-runtime/src/config/definitions';
import { cappedDiagnostics } from '../../server-runtime/src/config/diagnostics';
import { appTarget } from '../../server-runtime/src/config/fileChecks';
import { suggestValue } from '../../server-runtime/src/config/keys';
import {
  DEFAULT_LIMITS,
  mayHoldApp,
  ModuleIndex,
  ModuleIndexes,
} from '../../server-runtime/src/config/moduleIndex';
import { parseConfig } from '../../server-runtime/src/config/parse';
import type { Problem } from '../../server-runtime/src/config/problem';
import { validate } from '../../server-runtime/src/config/validate';
import { findDefinition, wsgiCallables } from '../../server-runtime/src/config/wsgiCallables';

const URI = 'file:///w/.config_server';
const HEAD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\n';

const temps: string[] = [];
after(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));
function tempDir(files: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-survivors-'));
  temps.push(root);
  for (const [rel, text] of Object.entries(files)) write(root, rel, text);
  return root;
}
function write(root: string, rel: string, text = 'application = object()\n'): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function candidate(module: string, name: string, kind: string, line = 0): AppCandidate {
  const file = `/w/${module.replace(/\./g, '/')}.py`;
  return { module, file, callable: { name, line, kind }, depth: module.split('.').length - 1 };
}

function applyEdits(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create(URI, 'server3-config', 1, text), edits);
}

/** The quick fixes over the whole document. */
function fixesOf(text: string, context: ActionContext = {}, configDir?: string): CodeAction[] {
  const { parsed, problems } = validate(text, configDir ? { configDir } : { fileSystem: false });
  const last = parsed.texts.length - 1;
  const range = {
    start: { line: 0, character: 0 },
    end: { line: last, character: parsed.texts[last].length },
  };
  return codeActions(URI, text, parsed, problems, range, context);
}
const editsOf = (action: CodeAction): TextEdit[] => action.edit!.changes![URI];

describe('quick fixes: the edges', () => {
  test('removing an overridden APP_CALLABLE on the last line, without a line end, takes the line end before it', () => {
    const text = 'APP=m:app\nAPP_CALLABLE=other';
    const remove = fixesOf(text).filter((a) => a.title.startsWith('Remove'));
    assert.equal(remove.length, 1);
    assert.deepEqual(editsOf(remove[0]), [
      { range: { start: { line: 0, character: 9 }, end: { line: 1, character: 18 } }, newText: '' },
    ]);
    assert.equal(applyEdits(text, editsOf(remove[0])), 'APP=m:app');
  });

  const flask = candidate('flaskapp', 'app', 'Flask app', 4);
  const api = candidate('api', 'application', 'defines application');
  const addFix = (text: string, candidates: AppCandidate[]) => {
    const all = fixesOf(text, { candidates }).filter((a) => a.title.startsWith('Add the missing'));
    assert.equal(all.length, 1);
    return all[0];
  };

  test('a missing APP: the module defining the APP_CALLABLE line, even when that line is not the last', () => {
    const text = `${HEAD}APP_CALLABLE=app\nDOMAIN=localhost\n`;
    const add = addFix(text, [api, flask]);
    // The callable already matches: the only edit is the appended APP line.
    assert.deepEqual(editsOf(add), [
      {
        range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } },
        newText: 'APP=flaskapp\n',
      },
    ]);
  });

  test('a missing APP among other missing fields still brings its callable', () => {
    const text = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\n';
    const add = addFix(text, [flask]);
    assert.equal(add.title, 'Add the missing required fields (APP, DOMAIN)');
    assert.equal(applyEdits(text, editsOf(add)), `${text}APP=flaskapp\nDOMAIN=localhost\nAPP_CALLABLE=app\n`);
  });

  test('a bad value whose suggestion is the default gets one fix, not two', () => {
    const text = `${HEAD}APP=m\nDOMAIN=localhost\nLOG_LEVEL=INFO\n`;
    const titles = fixesOf(text).map((a) => a.title);
    assert.deepEqual(titles, ['Change INFO to info']);
  });

  test('module-not-found, create it: an APP_CALLABLE that is not a Python name is not the callable', () => {
    const dir = tempDir();
    const text = `${HEAD}APP=missing\nAPP_CALLABLE=app-x\nDOMAIN=localhost\n`;
    const create = fixesOf(text, { createIn: dir }, dir).filter((a) => a.title.startsWith('Create'));
    assert.deepEqual(
      create.map((a) => a.title),
      ['Create missing.py with a WSGI app (application)'],
    );
  });
});

describe('completion: the edges', () => {
  const wanted: string[] = [];
  const ctx: CompletionContext = {
    appCandidates: async (w: string) => {
      wanted.push(w);
      return { candidates: [candidate('flaskapp', 'app', 'Flask app', 4)], complete: true };
    },
    callablesOfApp: () => [],
  };

  test("APP's item adds APP_CALLABLE with the file's own line end (LF here)", async () => {
    const text = `${HEAD}APP=\nDOMAIN=localhost\n`;
    const { items } = await completeAt(text, { line: 3, character: 4 }, ctx);
    assert.deepEqual(items[0].additionalTextEdits, [
      {
        range: { start: { line: 3, character: 4 }, end: { line: 3, character: 4 } },
        newText: '\nAPP_CALLABLE=app',
      },
    ]);
  });

  test('an APP_CALLABLE that is not a Python name: the modules are ranked for `application`', async () => {
    wanted.length = 0;
    await completeAt(`${HEAD}APP_CALLABLE=app-x\nAPP=\n`, { line: 4, character: 4 }, ctx);
    assert.deepEqual(wanted, ['application']);
  });
});

describe('messages and choices: the exact words', () => {
  test('overridden-callable names APP as written, module and callable', () => {
    const { problems } = validate(`${HEAD}APP=pkg.web:make\nAPP_CALLABLE=app\n`, { fileSystem: false });
    const p = problems.find((x) => x.code === 'overridden-callable')!;
    assert.equal(
      p.message,
      'APP_CALLABLE has no effect: APP=pkg.web:make names the callable after the colon; remove this line',
    );
  });

  test('a factory call after the colon', () => {
    const { problems } = validate(`${HEAD}APP=pkg.web:create_app()\n`, { fileSystem: false });
    const p = problems.find((x) => x.code === 'bad-module')!;
    assert.equal(
      p.message,
      "APP: 'pkg.web:create_app()' is not a dotted module path: a factory call is not supported; make the app " +
        'a module-level name (app = create_app() in pkg.web) and write APP=pkg.web:app',
    );
  });

  test('no-application after a colon: name another callable', () => {
    const dir = tempDir({ 'web.py': 'application = object()\n' });
    const { problems } = validate(`${HEAD}APP=web:nope\nDOMAIN=localhost\n`, { configDir: dir });
    const p = problems.find((x) => x.code === 'no-application')!;
    assert.match(p.message, /name another one after the colon/);
  });

  test('suggestValue: the same word in another case, even a short one; never one of two near choices', () => {
    assert.equal(suggestValue('AB', ['ab', 'abc']), 'ab');
    assert.equal(suggestValue('abcx', ['abcd', 'abce']), undefined);
    assert.equal(suggestValue('abcx', ['abcd', 'zzzz']), 'abcd');
  });

  test('capped diagnostics: the note sits at the first hidden problem, the leftmost of a line', () => {
    const p = (line: number, start: number, severity: 'error' | 'warning'): Problem => ({
      line,
      start,
      end: start + 1,
      severity,
      code: 'x',
      message: `${line}:${start}`,
    });
    const shown = cappedDiagnostics([p(0, 0, 'error'), p(3, 0, 'warning'), p(3, 5, 'warning')], URI, 1);
    assert.equal(shown.length, 2);
    assert.deepEqual(shown[1].range, { start: { line: 3, character: 0 }, end: { line: 3, character: 1 } });
    const later = cappedDiagnostics([p(0, 0, 'error'), p(4, 0, 'warning'), p(2, 3, 'warning')], URI, 1);
    assert.deepEqual(later[1].range, { start: { line: 2, character: 3 }, end: { line: 2, character: 4 } });
  });
});

describe('module sources: the edges', () => {
  test('appTarget: a colon at the very start gives an empty module and the callable after it', () => {
    assert.deepEqual(appTarget(':app'), { module: '', callable: 'app', colon: true });
    assert.deepEqual(appTarget(':app', 'other'), { module: '', callable: 'app', colon: true });
  });

  test('a blank first line counts', () => {
    assert.deepEqual(
      wsgiCallables('\napplication = object()\n').map((c) => c.line),
      [1],
    );
  });

  test('callables in source order, whatever kind was found first', () => {
    const source = 'app = Flask(__name__)\n\ndef wsgi(environ, start_response):\n    pass\n';
    assert.deepEqual(
      wsgiCallables(source).map((c) => `${c.name} ${c.line}`),
      ['app 0', 'wsgi 2'],
    );
  });

  test('findDefinition looks at the definition line only', () => {
    assert.deepEqual(findDefinition('from m import app\nprint(app)\n', 'app'), {
      line: 0,
      start: 14,
      end: 17,
    });
    // "import" in a comment does not make an assignment an import.
    assert.deepEqual(findDefinition('app = wrap(app)  # import side', 'app'), { line: 0, start: 0, end: 3 });
    // The name only as a dotted prefix on its line: the line start.
    assert.deepEqual(findDefinition('from m import app.x', 'app'), { line: 0, start: 0, end: 3 });
  });

  test('APP_CALLABLE is the APP_CALLABLE line, whatever line comes last', () => {
    const dir = tempDir({ 'mod.py': 'x = 1\napp = object()\n' });
    const refs = appReferences(parseConfig('APP=mod\nAPP_CALLABLE=app\nPORT=8000\n'), [dir]);
    assert.deepEqual(
      refs.map((r) => [r.origin.line, r.target?.line]),
      [
        [0, undefined],
        [1, 1],
      ],
    );
  });
});

describe('module index: the edges', () => {
  test('a folder named like a test file does not hide the modules in it', () => {
    assert.equal(mayHoldApp('pkg/test_x.py/wsgi.py'), true);
    assert.equal(mayHoldApp('pkg/setup.py/wsgi.py'), true);
    assert.equal(mayHoldApp('pkg/test_x.py'), false);
  });

  test("the walk's order is JavaScript's, not the file system's (UTF-16, not UTF-8 bytes)", async () => {
    // libuv lists a folder in byte order: U+FF41 (EF BD 81) before U+1F600 (F0 9F 98 80); in UTF-16 the
    // surrogate D83D comes first. With room for one file, the one read is the first in the walk's order.
    const root = tempDir({ '\uFF41.py': 'application = 1\n', '\u{1F600}.py': 'application = 1\n' });
    const one = new ModuleIndex(root, { ...DEFAULT_LIMITS, maxFiles: 1 });
    await one.ready;
    assert.deepEqual(
      one.entries().map((e) => path.basename(e.file)),
      ['\u{1F600}.py'],
    );
  });

  test('candidates of equal rank by name, whatever the index order; a package over its namesake module', async () => {
    const root = tempDir();
    const indexes = new ModuleIndexes();
    await indexes.get(root).ready;
    // File events, in this order: the index holds them in the order reported.
    for (const rel of ['zeta.py', 'alpha.py', 'pkg.py', path.join('pkg', '__init__.py')]) {
      indexes.changed(write(root, rel), false);
    }
    const { candidates } = await appCandidates(indexes, [root], 'application');
    assert.deepEqual(
      candidates.map((c) => `${c.module} ${path.relative(root, c.file)}`),
      ['alpha alpha.py', `pkg ${path.join('pkg', '__init__.py')}`, 'zeta zeta.py'],
    );
  });
});
