/**
 * When the runtime dies before it can speak on its control channel, the exit code and stderr still explain it
 * (exit codes 2, 3, 4 by contract). The "interpreter" here is a small real executable standing in for a runtime
 * that fails that early; the supervisor under test is the real one.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { findFreePort } from '../../server-runtime/src/supervisor/ports';
import { helloApp, makeApp, makeSupervisor, removeTempDirs, startParams } from './supervisorHarness';

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-bin-'));
after(() => {
  fs.rmSync(bin, { recursive: true, force: true });
  removeTempDirs();
});

/** An executable that prints `stderr` and exits with `code`, whatever its arguments. */
function failingInterpreter(name: string, code: number, stderr: string): string {
  const file = path.join(bin, name);
  fs.writeFileSync(file, `#!/bin/sh\ncat >&2 <<'EOF'\n${stderr}\nEOF\nexit ${code}\n`, { mode: 0o755 });
  return file;
}

async function startWith(python: string) {
  const rec = makeSupervisor();
  const app = makeApp(helloApp('x'), await findFreePort());
  return rec.supervisor.start({ ...startParams(app.config, app.dir), pythonPath: python });
}

describe('supervisor: early exits explained by exit code and stderr', { timeout: 30_000 }, () => {
  it('exit 3 = app import failed, with the traceback and its user frame', async () => {
    const info = await startWith(
      failingInterpreter(
        'py3',
        3,
        'Traceback (most recent call last):\n  File "/srv/app/wsgi.py", line 7, in <module>\nImportError: no module named flask',
      ),
    );
    assert.equal(info.state, 'stopped');
    assert.equal(info.error?.kind, 'app-import');
    assert.match(info.error!.message, /no module named flask/);
    assert.equal(info.error?.file, '/srv/app/wsgi.py');
    assert.equal(info.error?.line, 7);
  });

  it('exit 4 = address in use, with a free port to suggest', async () => {
    const info = await startWith(failingInterpreter('py4', 4, 'OSError: [Errno 98] Address already in use'));
    assert.equal(info.error?.kind, 'port-in-use');
    assert.ok((info.error?.suggestedPort ?? 0) > 0);
  });

  it('exit 2 = config invalid, with the runtime message', async () => {
    const info = await startWith(
      failingInterpreter('py2', 2, '.config_server:3: error: PORT must be a number'),
    );
    assert.equal(info.error?.kind, 'config-invalid');
    assert.match(info.error!.message, /PORT must be a number/);
  });

  it('another exit code = other, with the last stderr line', async () => {
    const info = await startWith(failingInterpreter('py1', 1, 'something odd happened'));
    assert.equal(info.error?.kind, 'other');
    assert.match(info.error!.message, /code 1: something odd happened/);
  });
});
