/**
 * Where a config document lives (its folder, its workspace folder) and the workspace modules offered for APP:
 * real temp folders, the walk's limits (depth, skipped folders, file size, file count) checked at their edges.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { documentPlace, filePath, isConfigDocument } from '../../server-runtime/src/config/documentPlace';
import { moduleName, modulesDefining } from '../../server-runtime/src/config/pythonModules';

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

describe('workspace modules for APP', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-modules-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (rel: string, text = 'application = object()\n') => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };

  test('module names from paths', () => {
    assert.equal(moduleName(root, path.join(root, 'pkg', 'wsgi.py')), 'pkg.wsgi');
    assert.equal(moduleName(root, path.join(root, 'pkg', '__init__.py')), 'pkg');
    assert.equal(moduleName(root, path.join(root, 'app.py')), 'app');
    assert.equal(moduleName(root, path.join(root, '__init__.py')), undefined);
    assert.equal(moduleName(root, path.join(root, 'my-pkg', 'wsgi.py')), undefined);
    assert.equal(moduleName(root, path.join(root, '1pkg', 'wsgi.py')), undefined);
  });

  test('every module that defines the callable, sorted; skipped folders, depth and size limits respected', async () => {
    write('app.py');
    write('api/__init__.py', 'from .main import application\n');
    write('api/main.py');
    write('flaskapp.py', 'app = Flask(__name__)\n');
    write('notes.txt');
    write('ab_xyz'); // not a .py file, although its name minus three letters is a module name
    for (const name of ['zz', 'aa', 'mm']) write(`${name}.py`); // created out of order: the result is sorted
    write('a/b/c/d/four.py'); // 4 folders deep: found
    write('a/b/c/d/e/five.py'); // 5: not walked
    for (const skipped of [
      'node_modules',
      '__pycache__',
      'site-packages',
      'venv',
      'env',
      'dist',
      'out',
      '.hidden',
    ])
      write(`${skipped}/m.py`);
    write('my-pkg/m.py');
    write('big.py', 'application = 1\n' + '#'.repeat(512 * 1024));
    write('small.py', 'application = 1\n' + '#'.repeat(512 * 1024 - 16)); // exactly 512 KiB: still read
    assert.equal(fs.statSync(path.join(root, 'small.py')).size, 512 * 1024);
    assert.deepEqual(await modulesDefining(root, 'application'), [
      'a.b.c.d.four',
      'aa',
      'api',
      'api.main',
      'app',
      'mm',
      'small',
      'zz',
    ]);
    assert.deepEqual(await modulesDefining(root, 'app'), ['flaskapp']);
    assert.deepEqual(await modulesDefining(path.join(root, 'missing'), 'application'), []);
  });

  test('stops after 2000 Python files, so a huge workspace cannot stall the server', async () => {
    const many = path.join(root, 'many');
    fs.mkdirSync(many);
    for (let i = 0; i < 2005; i++) fs.writeFileSync(path.join(many, `m${i}.py`), 'application = 1\n');
    assert.equal((await modulesDefining(many, 'application')).length, 2000);
  });
});
