/**
 * Where an import error sends the user (server-runtime/src/supervisor/traceback.ts), on tracebacks printed by the
 * real Python of this machine: the user's innermost frame, never the standard library's; for a SyntaxError, the
 * broken line itself.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { locateInTraceback } from '../../server-runtime/src/supervisor/traceback';
import { python } from './supervisorHarness';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'server3-tb-')));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function tracebackOf(files: Record<string, string>, main: string): string {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const r = spawnSync(python, [main], { cwd: dir, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  return r.stderr;
}

describe('locateInTraceback', () => {
  it('points at the user frame that called into the standard library', () => {
    const deep = tracebackOf(
      {
        'helpers.py': 'import json\n\n\ndef load():\n    return json.loads("not json")\n',
        'main.py': 'import helpers\n\nhelpers.load()\n',
      },
      'main.py',
    );
    assert.match(deep, /json[\\/]decoder\.py/, 'the stack goes into the standard library');
    const where = locateInTraceback(deep, dir);
    assert.deepEqual(where, { file: path.join(dir, 'helpers.py'), line: 5 });
  });

  it('points at the broken line of a SyntaxError', () => {
    const tb = tracebackOf(
      { 'bad.py': 'x = 1\ndef broken(:\n    pass\n', 'run.py': 'import bad\n' },
      'run.py',
    );
    assert.deepEqual(locateInTraceback(tb, dir), { file: path.join(dir, 'bad.py'), line: 2 });
  });

  it('skips frames of the runtime package itself', () => {
    const runtime = path.join(dir, 'runtime');
    const tb = [
      'Traceback (most recent call last):',
      `  File "${path.join(dir, 'app.py')}", line 3, in <module>`,
      `  File "${path.join(runtime, 'loader.py')}", line 9, in load`,
      'RuntimeError: boom',
    ].join('\n');
    assert.deepEqual(locateInTraceback(tb, dir, runtime), { file: path.join(dir, 'app.py'), line: 3 });
  });
});
