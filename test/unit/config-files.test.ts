/**
 * The TypeScript side of the file-system checks (the Python side is server-runtime/python/tests/
 * test_config_files.py): APP's module in the config's folder or the workspace, its callable, somaxconn.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { definesName, readSomaxconn } from '../../server-runtime/src/config/fileChecks';
import { validateConfigText } from '../../server-runtime/src/config/validate';

const OLD_EXAMPLE = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=messager.wsgi\nDOMAIN=localhost\n';

function codes(text: string, options: Parameters<typeof validateConfigText>[1]): string[] {
  return validateConfigText(text, options).map(
    (p) => `${p.line + 1}:${p.start}-${p.end} ${p.severity} ${p.code}`,
  );
}

describe('config file-system checks (TypeScript)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-config-'));
  const configDir = path.join(root, 'site');
  const write = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  fs.mkdirSync(configDir);
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('module not found: a warning on the value, naming the file it looked for', () => {
    const problems = validateConfigText(OLD_EXAMPLE, { configDir, somaxconn: null });
    assert.deepEqual(codes(OLD_EXAMPLE, { configDir, somaxconn: null }), ['4:4-17 warning module-not-found']);
    assert.match(problems[0].message, /messager\/wsgi\.py/);
  });

  test('the module is also looked for in the workspace folder', () => {
    write('messager/wsgi.py', 'application = object()\n');
    assert.deepEqual(codes(OLD_EXAMPLE, { configDir, workspaceDir: root, somaxconn: null }), []);
  });

  test('no application (or APP_CALLABLE) in the module', () => {
    write('site/messager/wsgi/__init__.py', 'app = Flask(__name__)\n');
    assert.deepEqual(codes(OLD_EXAMPLE, { configDir, somaxconn: null }), ['4:4-17 warning no-application']);
    assert.deepEqual(codes(OLD_EXAMPLE + 'APP_CALLABLE=app\n', { configDir, somaxconn: null }), []);
  });

  test('SOCKET_BACKLOG above somaxconn', () => {
    write('site/messager/wsgi/__init__.py', 'application = 1\n');
    const text = OLD_EXAMPLE.replace('400', '5000');
    assert.deepEqual(codes(text, { configDir, somaxconn: 4096 }), ['3:15-19 warning above-somaxconn']);
    assert.deepEqual(codes(text, { configDir, somaxconn: 8192 }), []);
    const real = readSomaxconn();
    assert.ok(real === null || real > 0);
  });

  test('without configDir (or with fileSystem: false) nothing touches the disk', () => {
    assert.deepEqual(codes(OLD_EXAMPLE, {}), []);
    assert.deepEqual(codes(OLD_EXAMPLE, { configDir, fileSystem: false }), []);
  });

  test('ways a module defines application, as config.py reads them', () => {
    const yes = [
      'def application(environ, start_response):\n    pass\n',
      'async def application(scope):\n    pass\n',
      'class application:\n    pass\n',
      'from .app import application\n',
      'import something as application\n',
      'app = application = Flask(__name__)\n',
      'application: Callable = app\n',
    ];
    const no = ['app = Flask(__name__)\n', '    application = 1\n', 'if application == 1:\n    pass\n', ''];
    for (const source of yes) assert.equal(definesName(source, 'application'), true, source);
    for (const source of no) assert.equal(definesName(source, 'application'), false, source);
  });
});
