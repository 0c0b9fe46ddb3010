/**
 * A large Python project on disk, for the APP tests and the benchmark (scripts/bench-config-lsp.mjs): the shapes
 * that broke the old depth-first scan capped at 2,000 files. `files` Python files in all, of which:
 *  - `aaa_generated/`: 3,000 modules in one folder, sorted first (a vendored or generated package);
 *  - `mysite/wsgi.py` (Django's application) and `mysite/asgi.py` (ASGI: not offered), `flaskapp.py` (Flask);
 *  - `examples/otherproject/otherproject/wsgi.py`: a nested sibling project (must not beat mysite.wsgi);
 *  - `conftest.py` with a `def app()` fixture (not an app), `my-tools/app.py` (no dotted path reaches it),
 *    `.venv/.../site-packages/flask/app.py` (a virtualenv: never entered);
 *  - the rest: `src/pkgNN/subNN/modNN.py` three levels deep, plain code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const APP_MODULES = ['mysite.wsgi', 'flaskapp', 'examples.otherproject.otherproject.wsgi'];

const PLAIN = (i: number) =>
  `"""Module ${i}."""\n\nimport os\n\n\ndef helper_${i}(value):\n    return os.path.join("x", str(value))\n\n\nCONSTANT_${i} = ${i}\n`;

/** Writes the project under `root` (created if needed); returns how many .py files it wrote. */
export function writeBigWorkspace(root: string, files = 10_000): number {
  let written = 0;
  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    if (rel.endsWith('.py')) written++;
  };
  write('mysite/__init__.py', '');
  write(
    'mysite/wsgi.py',
    'import os\n\nfrom django.core.wsgi import get_wsgi_application\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n\napplication = get_wsgi_application()\n',
  );
  write(
    'mysite/asgi.py',
    'from django.core.asgi import get_asgi_application\n\napplication = get_asgi_application()\n',
  );
  write('mysite/settings.py', 'DEBUG = True\n');
  write(
    'flaskapp.py',
    'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route("/")\ndef index():\n    return "hi"\n',
  );
  write(
    'examples/otherproject/otherproject/wsgi.py',
    'def application(environ, start_response):\n    return []\n',
  );
  write('conftest.py', 'import pytest\n\n\n@pytest.fixture\ndef app():\n    return None\n');
  write('my-tools/app.py', 'app = Flask(__name__)\n');
  for (let i = 0; i < 50; i++)
    write(`.venv/lib/python3.11/site-packages/flask/m${i}.py`, 'app = Flask(__name__)\n');
  written -= 50; // not part of the project
  for (let i = 0; i < 3000; i++) write(`aaa_generated/gen_${String(i).padStart(4, '0')}.py`, PLAIN(i));
  for (let i = 0; written < files; i++) {
    const pkg = `src/pkg${String(Math.floor(i / 400)).padStart(2, '0')}`;
    const sub = `sub${String(Math.floor(i / 20) % 20).padStart(2, '0')}`;
    write(`${pkg}/${sub}/mod${String(i % 20).padStart(2, '0')}.py`, PLAIN(i));
  }
  return written;
}
