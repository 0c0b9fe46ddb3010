/**
 * Where a config document lives (its folder, its workspace folder) and the workspace modules offered for APP:
 * the module index on real temp folders (its breadth-first walk, the limits at their edges with small
 * IndexLimits, skipped folders, file events), and the candidates ranked from it (appCandidates).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { documentPlace, filePath, isConfigDocument } from '../../server-runtime/src/config/documentPlace';
import { appCandidates, moduleName } from '../../server-runtime/src/config/appCandidates';
import {
  DEFAULT_LIMITS,
  type IndexLimits,
  mayHoldApp,
  ModuleIndex,
  ModuleIndexes,
} from '../../server-runtime/src/config/moduleIndex';

describe('document place', () => {
  test('file: URIs have a path; other schemes and bad file URIs do not', () => {
    assert.equal(filePath('file:///w/site/.config_server'), '/w/site/.config_server');
    assert.equal(filePath('untitled:Untitled-1'), undefined);
    assert.equal(filePath('vscode-vfs://github/x/.config_server'), undefined);
    assert.equal(filePath('file://remote-host/w/x'), undefined);
  });

  test('the config folder, and the innermost workspace folder that holds it', () => {
    const folders = ['/w', '/w/site', '/w/si', '/other'];
    assert.deepEqual(documentPlace('file:///w/site/app/.config_server', folders), {
      configDir: '/w/site/app',
      workspaceDir: '/w/site',
    });
    assert.deepEqual(documentPlace('file:///w/sit/.config_server', folders), {
      configDir: '/w/sit',
      workspaceDir: '/w',
    });
    assert.deepEqual(documentPlace('file:///w/.config_server', ['/w/']), {
      configDir: '/w',
      workspaceDir: '/w/',
    });
    assert.deepEqual(documentPlace('file:///elsewhere/.config_server', folders), {
      configDir: '/elsewhere',
      workspaceDir: undefined,
    });
    // A folder named like the start of another is not its parent.
    assert.deepEqual(documentPlace('file:///wx/.config_server', ['/w']), {
      configDir: '/wx',
      workspaceDir: undefined,
    });
    assert.deepEqual(documentPlace('untitled:1', folders), {});
  });

  test('config documents: by language id, else by file name', () => {
    assert.equal(isConfigDocument('server3-config', 'untitled:1'), true);
    assert.equal(isConfigDocument('plaintext', 'file:///a/.config_server'), true);
    assert.equal(isConfigDocument('plaintext', '.config_server'), true);
    assert.equal(isConfigDocument('plaintext', 'file:///a/site.server3'), true);
    assert.equal(isConfigDocument('plaintext', 'file:///a/my.config_server'), false);
    assert.equal(isConfigDocument('plaintext', 'file:///a/site.server3.bak'), false);
    assert.equal(isConfigDocument('plaintext', 'file:///a/.config_server.bak'), false);
    assert.equal(isConfigDocument('plaintext', 'file:///a/x.txt'), false);
  });
});

/** A fresh temp folder per test, removed at the end of the file. */
const temps: string[] = [];
after(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));
function tempRoot(): { root: string; write: (rel: string, text?: string) => string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-modules-'));
  temps.push(root);
  const write = (rel: string, text = 'application = object()\n') => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  return { root, write };
}

/** The index's files relative to its root, sorted, each with its callables' names. */
function indexed(index: ModuleIndex): string[] {
  return index
    .entries()
    .map((e) => `${path.relative(index.root, e.file)} ${e.callables.map((c) => c.name).join(',')}`)
    .sort();
}

const limits = (l: Partial<IndexLimits>): IndexLimits => ({ ...DEFAULT_LIMITS, ...l });

describe('module names', () => {
  test('dotted paths from file paths; undefined when a part is not a Python name or the file is elsewhere', () => {
    const root = '/w/site';
    assert.equal(moduleName(root, path.join(root, 'pkg', 'wsgi.py')), 'pkg.wsgi');
    assert.equal(moduleName(root, path.join(root, 'pkg', '__init__.py')), 'pkg');
    assert.equal(moduleName(root, path.join(root, 'a', 'b', '__init__.py')), 'a.b');
    assert.equal(moduleName(root, path.join(root, 'app.py')), 'app');
    assert.equal(moduleName(root, path.join(root, '_private9.py')), '_private9');
    assert.equal(moduleName(root, path.join(root, '__init__.py')), undefined);
    assert.equal(moduleName(root, path.join(root, 'my-pkg', 'wsgi.py')), undefined);
    assert.equal(moduleName(root, path.join(root, '1pkg', 'wsgi.py')), undefined);
    assert.equal(moduleName(root, path.join(root, 'my-mod.py')), undefined);
    assert.equal(moduleName(root, path.join(root, 'pkg', 'wsgi.pyc')), undefined, 'not a .py file');
    assert.equal(moduleName(root, path.join(root, 'README')), undefined);
    assert.equal(moduleName(root, '/w/other/app.py'), undefined, 'outside the root');
    assert.equal(moduleName(root, '/w/site2/app.py'), undefined, 'a sibling named like the root');
  });

  test('files that may hold the app: Python files, not tests, fixtures or setup scripts', () => {
    for (const yes of ['app.py', '/w/pkg/wsgi.py', 'testing.py', 'contest.py', 'setup_app.py', 'my_tests.py'])
      assert.equal(mayHoldApp(yes), true, yes);
    for (const no of [
      'app.pyc',
      'app.txt',
      'conftest.py',
      '/w/pkg/conftest.py',
      'setup.py',
      '/w/setup.py',
      'test_app.py',
      '/w/tests/test_views.py',
      'app_test.py',
      '/w/x/views_test.py',
    ])
      assert.equal(mayHoldApp(no), false, no);
  });
});

describe('the module index', () => {
  test('the default limits', () => {
    assert.deepEqual(DEFAULT_LIMITS, { maxDepth: 8, maxFiles: 50_000, maxFileBytes: 512 * 1024 });
  });

  test('every file that defines a WSGI callable; skipped folders, tests and non-Python files left out', async () => {
    const { root, write } = tempRoot();
    write('app.py');
    write('api/__init__.py', 'from .main import application\n');
    write('api/main.py');
    write('flaskapp.py', 'from flask import Flask\n\napp = Flask(__name__)\n');
    write('helpers.py', 'x = 1\n'); // read, but no callable
    write('notes.txt');
    write('ab_xyz'); // not a .py file
    write('conftest.py', 'def app():\n    pass\n');
    write('setup.py');
    write('test_app.py');
    write('app_test.py');
    write('my-mod.py'); // indexed (its folder may be a root of its own); appCandidates gives it no name
    for (const skipped of [
      'node_modules',
      '__pycache__',
      'site-packages',
      'venv',
      'env',
      '.hidden',
      'my-pkg',
      '1pkg',
    ])
      write(`${skipped}/m.py`);
    write('myenv/pyvenv.cfg', 'home = /usr/bin\n'); // a virtualenv under any name
    write('myenv/lib/m.py');
    write('dist/m.py'); // dist/ and out/ are ordinary folders now: a package may be called that
    write('out/m.py');
    fs.mkdirSync(path.join(root, 'folder.py')); // a folder named like a module: neither read nor entered
    write('folder.py/inner.py');
    write('a/b/c/d/e/f/g/h/eight.py'); // 8 folders deep: the deepest level walked by default
    write('a/b/c/d/e/f/g/h/i/nine.py'); // 9: not walked
    const index = new ModuleIndex(root);
    await index.ready;
    assert.deepEqual(indexed(index), [
      'a/b/c/d/e/f/g/h/eight.py application',
      'api/__init__.py application',
      'api/main.py application',
      'app.py application',
      'dist/m.py application',
      'flaskapp.py app',
      'my-mod.py application',
      'out/m.py application',
    ]);
    // What was read: every .py file that may hold the app in a walked folder (helpers.py too).
    assert.equal(index.filesRead, 9);
    assert.equal(index.truncated, true, 'a folder below the deepest level was left out');
    const flask = index.entries().find((e) => e.file.endsWith('flaskapp.py'))!;
    assert.deepEqual(flask.callables, [{ name: 'app', line: 2, kind: 'Flask app' }]);
    assert.equal(index.contains(path.join(root, 'x.py')), true);
    assert.equal(index.contains(root + 'x/y.py'), false, 'a sibling folder named like the root');
    assert.equal(index.contains(path.dirname(root)), false);
    const slash = new ModuleIndex(root + path.sep);
    assert.equal(slash.contains(path.join(root, 'x.py')), true, 'a root given with its trailing separator');
    await slash.ready;
    const missing = new ModuleIndex(path.join(root, 'missing'));
    await missing.ready;
    assert.deepEqual([missing.entries(), missing.filesRead, missing.truncated], [[], 0, false]);
  });

  test("a root that is itself a virtualenv's folder is walked", async () => {
    const { root, write } = tempRoot();
    write('pyvenv.cfg', 'home = /usr/bin\n');
    write('app.py');
    const index = new ModuleIndex(root);
    await index.ready;
    assert.deepEqual(indexed(index), ['app.py application']);
  });

  test('maxDepth at its edge: the level maxDepth is walked, the one below is not', async () => {
    const { root, write } = tempRoot();
    write('top.py');
    write('a/one.py');
    write('a/b/two.py');
    write('a/b/README', 'a file named like a package'); // not a folder: nothing below level 2
    const exact = new ModuleIndex(root, limits({ maxDepth: 2 }));
    await exact.ready;
    assert.deepEqual(indexed(exact), [
      'a/b/two.py application',
      'a/one.py application',
      'top.py application',
    ]);
    assert.equal(exact.truncated, false, 'nothing below level 2');
    write('a/b/c/three.py');
    const cut = new ModuleIndex(root, limits({ maxDepth: 2 }));
    await cut.ready;
    assert.deepEqual(indexed(cut), indexed(exact));
    assert.equal(cut.truncated, true);
    assert.equal(cut.filesRead, 3);
    const zero = new ModuleIndex(root, limits({ maxDepth: 0 }));
    await zero.ready;
    assert.deepEqual([indexed(zero), zero.truncated], [['top.py application'], true]);
  });

  test('maxFileBytes at its edge: a file of exactly the limit is read, one byte more is not', async () => {
    const { root, write } = tempRoot();
    const text = 'application = 1\n';
    write('small.py', text + '#'.repeat(100 - text.length));
    write('big.py', text + '#'.repeat(101 - text.length));
    assert.equal(fs.statSync(path.join(root, 'small.py')).size, 100);
    const index = new ModuleIndex(root, limits({ maxFileBytes: 100 }));
    await index.ready;
    assert.deepEqual(indexed(index), ['small.py application']);
    assert.equal(index.filesRead, 2, 'the big file counts as read');
    assert.equal(index.truncated, false, 'a big file is skipped, the walk is not cut');
    // A file that grows past the limit leaves the index.
    const small = write('small.py', text + '#'.repeat(200));
    await index.changed(small, false);
    assert.deepEqual(indexed(index), []);
  });

  test('maxFiles at its edge, nearest first, small folders before big ones within a level', async () => {
    const { root, write } = tempRoot();
    write('r1.py');
    write('r2.py');
    for (const name of ['b1', 'b2', 'b3', 'b4']) write(`big/${name}.py`);
    write('small/s1.py');
    write('aaa/deep/d1.py'); // named first, but a level deeper: read last
    const all = new ModuleIndex(root, limits({ maxFiles: 8 }));
    await all.ready;
    assert.equal(all.filesRead, 8);
    assert.equal(all.truncated, false, 'exactly maxFiles files: nothing left out');
    assert.equal(all.entries().length, 8);
    const seven = new ModuleIndex(root, limits({ maxFiles: 7 }));
    await seven.ready;
    assert.deepEqual([seven.filesRead, seven.truncated], [7, true]);
    assert.ok(!indexed(seven).includes('aaa/deep/d1.py application'), 'the deepest file is the one left out');
    // Level 1 holds 5 files; with room for 3 of them, small/ (1 file) goes before big/ (4), each by name.
    const five = new ModuleIndex(root, limits({ maxFiles: 5 }));
    await five.ready;
    assert.deepEqual(indexed(five), [
      'big/b1.py application',
      'big/b2.py application',
      'r1.py application',
      'r2.py application',
      'small/s1.py application',
    ]);
    assert.deepEqual([five.filesRead, five.truncated], [5, true]);
    // The limit hit within the root level: the first files by name.
    const one = new ModuleIndex(root, limits({ maxFiles: 1 }));
    await one.ready;
    assert.deepEqual([indexed(one), one.filesRead, one.truncated], [['r1.py application'], 1, true]);
    const none = new ModuleIndex(root, limits({ maxFiles: 0 }));
    await none.ready;
    assert.deepEqual([indexed(none), none.filesRead, none.truncated], [[], 0, true]);
  });

  test('file events: created, changed, deleted files and folders, applied in order after the first walk', async () => {
    const { root, write } = tempRoot();
    const app = write('app.py');
    write('pkg/wsgi.py');
    write('pkg2/wsgi.py');
    const index = new ModuleIndex(root);
    // Reported before the walk is done: applied after it, so the walk cannot bring the deleted file back.
    const gone = index.changed(app, true);
    await gone;
    assert.deepEqual(indexed(index), ['pkg/wsgi.py application', 'pkg2/wsgi.py application']);
    const created = write('flaskapp.py', 'app = Flask(__name__)\n');
    void index.changed(created, false);
    await index.settled();
    assert.deepEqual(indexed(index), [
      'flaskapp.py app',
      'pkg/wsgi.py application',
      'pkg2/wsgi.py application',
    ]);
    // Changed so that it defines nothing: it leaves the index; a test file is never read.
    write('flaskapp.py', 'x = 1\n');
    void index.changed(created, false);
    void index.changed(write('test_x.py'), false);
    await index.settled();
    assert.deepEqual(indexed(index), ['pkg/wsgi.py application', 'pkg2/wsgi.py application']);
    // A folder deleted: every file under it goes, not those of a folder named like its start.
    fs.rmSync(path.join(root, 'pkg'), { recursive: true });
    await index.changed(path.join(root, 'pkg'), true);
    assert.deepEqual(indexed(index), ['pkg2/wsgi.py application']);
    // A folder's path may come with its trailing separator.
    write('pkg3/a/wsgi.py');
    await index.changed(write('pkg3/wsgi.py'), false);
    await index.changed(path.join(root, 'pkg3', 'a', 'wsgi.py'), false);
    assert.equal(index.entries().length, 3);
    await index.changed(path.join(root, 'pkg3') + path.sep, true);
    assert.deepEqual(indexed(index), ['pkg2/wsgi.py application']);
    // A change event for a file that is gone (deleted between event and read): it leaves the index.
    const pkg2 = path.join(root, 'pkg2', 'wsgi.py');
    fs.rmSync(pkg2);
    await index.changed(pkg2, false);
    assert.deepEqual(indexed(index), []);
  });

  test('the indexes: one per root, file events reach only the roots that hold the file', async () => {
    const { root, write } = tempRoot();
    write('site/app.py');
    write('site2/app.py');
    const indexes = new ModuleIndexes(limits({ maxDepth: 1 }));
    const site = indexes.get(path.join(root, 'site'));
    assert.equal(indexes.get(path.join(root, 'site')), site, 'the same index for the same root');
    const site2 = indexes.get(path.join(root, 'site2'));
    const whole = indexes.get(root);
    await indexes.settled();
    assert.deepEqual(indexed(whole), ['site/app.py application', 'site2/app.py application']);
    const wsgi = write('site/wsgi.py');
    indexes.changed(wsgi, false);
    await indexes.settled();
    assert.deepEqual(indexed(site), ['app.py application', 'wsgi.py application']);
    assert.deepEqual(indexed(site2), ['app.py application']);
    assert.deepEqual(indexed(whole), [
      'site/app.py application',
      'site/wsgi.py application',
      'site2/app.py application',
    ]);
    // The index's limits apply to file events too: maxDepth does not, the size does.
    const deep = new ModuleIndexes(limits({ maxFileBytes: 10 }));
    const small = deep.get(root);
    await deep.settled();
    assert.deepEqual(indexed(small), []);
  });
});

describe('APP candidates', () => {
  test('apps before a mere `app`, nearest first, then the callable asked for, then wsgi, then by name', async () => {
    const { root, write } = tempRoot();
    write('zeta.py'); // application
    write('alpha.py', 'app = object()\n'); // a mere top-level app: after every real app
    write('flaskapp.py', 'import flask\napp = flask.Flask(__name__)\n');
    write('both.py', 'app = Flask(__name__)\napplication = get_wsgi_application()\n');
    write('mysite/wsgi.py', 'application = get_wsgi_application()\n');
    write('mysite/aaa.py');
    write('mysite/deep/wsgi.py');
    write('mysite/notwsgi.py'); // not named wsgi: only ends so
    write('mysite/wsgix.py');
    write('factory.py', 'app = object()\nserve = create_app()\n'); // a factory's app is telling, a mere app is not
    write('my-mod.py'); // no module name: not offered
    write('notapp.py', 'x = 1\n');
    const indexes = new ModuleIndexes();
    const ranked = async (wanted: string, dirs = [root]) =>
      (await appCandidates(indexes, dirs, wanted)).candidates.map(
        (c) => `${c.module} ${c.callable.name} ${c.depth}`,
      );
    assert.deepEqual(await ranked('application'), [
      'both application 0',
      'zeta application 0',
      'factory serve 0',
      'flaskapp app 0',
      'mysite.wsgi application 1',
      'mysite.aaa application 1',
      'mysite.notwsgi application 1',
      'mysite.wsgix application 1',
      'mysite.deep.wsgi application 2',
      'alpha app 0',
    ]);
    assert.deepEqual(await ranked('app'), [
      'both app 0',
      'flaskapp app 0',
      'zeta application 0',
      'mysite.wsgi application 1',
      'mysite.aaa application 1',
      'mysite.notwsgi application 1',
      'mysite.wsgix application 1',
      'mysite.deep.wsgi application 2',
      // Asked for by name, factory's mere `app` is its callable now, and as weak as alpha's.
      'alpha app 0',
      'factory app 0',
    ]);
    const [first] = (await appCandidates(indexes, [root], 'application')).candidates;
    assert.deepEqual(first, {
      module: 'both',
      file: path.join(root, 'both.py'),
      callable: { name: 'application', line: 1, kind: 'Django WSGI application' },
      depth: 0,
    });
    // The config's folder first, its files named from there; the workspace's others after, each file once.
    const site = path.join(root, 'mysite');
    assert.deepEqual(await ranked('application', [site, root, site]), [
      'wsgi application 0',
      'aaa application 0',
      'notwsgi application 0',
      'wsgix application 0',
      'deep.wsgi application 1',
      'both application 0',
      'zeta application 0',
      'factory serve 0',
      'flaskapp app 0',
      'alpha app 0',
    ]);
    assert.deepEqual(await appCandidates(indexes, [], 'application'), { candidates: [], complete: true });
  });

  test('each module name once: the one Python imports (the earlier folder; a package before its namesake)', async () => {
    const { root, write } = tempRoot();
    write('site/wsgi.py', 'application = get_wsgi_application()\n');
    write('wsgi.py'); // shadowed: the config's folder comes first on the import path
    write('site/pkg/__init__.py', 'app = Flask(__name__)\n');
    write('site/pkg.py'); // walked before pkg/ (nearer), yet the package is what `import pkg` gives
    write('other.py');
    const site = path.join(root, 'site');
    const indexes = new ModuleIndexes();
    const offered = async () =>
      (await appCandidates(indexes, [site, root], 'application')).candidates.map(
        (c) => `${c.module} ${path.relative(root, c.file)}`,
      );
    assert.deepEqual(await offered(), ['wsgi site/wsgi.py', 'pkg site/pkg/__init__.py', 'other other.py']);
    // The index holding the package first and its namesake module after (created later): the same choice.
    await indexes.get(site).changed(write('site/late/__init__.py'), false);
    await indexes.get(site).changed(write('site/late.py'), false);
    assert.deepEqual(await offered(), [
      'wsgi site/wsgi.py',
      'late site/late/__init__.py',
      'pkg site/pkg/__init__.py',
      'other other.py',
    ]);
  });

  test('a new file is offered once its event is in; waitMs bounds the wait for the first walk', async () => {
    const { root, write } = tempRoot();
    write('app.py');
    const indexes = new ModuleIndexes();
    assert.deepEqual(
      (await appCandidates(indexes, [root], 'application', 60_000)).candidates.map((c) => c.module),
      ['app'],
    );
    indexes.changed(write('wsgi.py'), false);
    // A bound that is not reached leaves no timer behind (the test file would wait a minute for it).
    const after = await appCandidates(indexes, [root], 'application', 60_000);
    // wsgi before app: at the same depth, a module named wsgi comes first.
    assert.deepEqual([after.candidates.map((c) => c.module), after.complete], [['wsgi', 'app'], true]);
    // An index whose walk never ends: the answer comes after waitMs, with what is there, marked incomplete.
    const stuck = {
      get: () => ({
        settled: () => new Promise<void>(() => {}),
        entries: () => [
          {
            file: path.join(root, 'app.py'),
            callables: [{ name: 'application', line: 0, kind: 'defines application' }],
          },
        ],
      }),
    } as unknown as ModuleIndexes;
    const partial = await appCandidates(stuck, [root], 'application', 20);
    assert.deepEqual([partial.candidates.map((c) => c.module), partial.complete], [['app'], false]);
  });
});
