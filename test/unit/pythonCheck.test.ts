/** Interpreter checks (extension/src/pythonCheck.ts) against real executables of this machine. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkPython, isRecentEnough } from '../../extension/src/pythonCheck';

describe('pythonCheck', () => {
  it('compares versions against 3.10', () => {
    assert.equal(isRecentEnough('3.10.0'), true);
    assert.equal(isRecentEnough('3.13.1'), true);
    assert.equal(isRecentEnough('4.0.0'), true);
    assert.equal(isRecentEnough('3.9.18'), false);
    assert.equal(isRecentEnough('2.7.18'), false);
  });

  it('accepts the python3 of this machine and reports its version and path', async () => {
    const result = await checkPython(process.env.SERVER3_TEST_PYTHON || 'python3');
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.match(result.version!, /^3\.\d+\.\d+$/);
    assert.ok(path.isAbsolute(result.executable!));
  });

  it('says clearly when the interpreter is missing', async () => {
    const result = await checkPython('/nonexistent/python3.99');
    assert.equal(result.ok, false);
    assert.equal(result.problem?.kind, 'interpreter-missing');
    assert.match(result.problem!.message, /was not found.*server3\.pythonPath/);
  });

  it('says clearly when the interpreter is too old', async () => {
    // A stand-in "python" that answers like Python 3.8 would: a real executable, no mock of checkPython.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-py-'));
    const fake = path.join(dir, 'python3.8');
    fs.writeFileSync(fake, '#!/bin/sh\necho 3.8.18\necho /usr/bin/python3.8\n', { mode: 0o755 });
    const result = await checkPython(fake);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(result.ok, false);
    assert.equal(result.problem?.kind, 'interpreter-too-old');
    assert.match(result.problem!.message, /3\.8\.18.*3\.10 or newer/);
  });
});
