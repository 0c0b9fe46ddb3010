/**
 * Interpreter discovery (extension/src/interpreters.ts) against this machine's real interpreters: the
 * default python3 and the free-threaded CPython 3.13t that scripts/setup.sh builds into
 * ~/.cache/server3-free-threads (setup builds it on every machine that runs the tests).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { candidates, findInterpreters } from '../../extension/src/interpreters';
import { checkPython } from '../../extension/src/pythonCheck';

const cache = process.env.SERVER3_FT_CACHE || path.join(os.homedir(), '.cache', 'server3-free-threads');
const builtFreeThreaded = path.join(cache, 'cpython-3.13t', 'bin', 'python3.13t');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-interp-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('interpreter discovery', () => {
  it('the probe says whether a build is free-threaded and whether it is a venv', async () => {
    assert.ok(fs.existsSync(builtFreeThreaded), `no ${builtFreeThreaded}: run bash scripts/setup.sh`);
    const ft = await checkPython(builtFreeThreaded);
    assert.equal(ft.ok, true, ft.problem?.message);
    assert.equal(ft.freeThreaded, true);
    assert.equal(ft.venv, false);
    assert.match(ft.version!, /^3\.13\./);
    const plain = await checkPython('python3');
    assert.equal(plain.freeThreaded, false);
  });

  it('finds python3.13t on PATH, lists it before the usual ones, and drops duplicates', async () => {
    const bin = path.join(scratch, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(builtFreeThreaded, path.join(bin, 'python3.13t'));
    const python3 = (await checkPython('python3')).executable!;
    fs.symlinkSync(python3, path.join(bin, 'python3'));
    fs.symlinkSync(python3, path.join(bin, 'python3.11')); // the same binary twice
    const home = path.join(scratch, 'home'); // no pyenv, no cache here
    const found = await findInterpreters({ pathVariable: bin, home });
    assert.deepEqual(
      found.map((i) => [path.basename(i.command), i.freeThreaded]),
      [
        ['python3.13t', true],
        ['python3', false],
      ],
    );
  });

  it('puts the configured interpreter first and also looks where setup builds the free-threaded one', () => {
    const home = path.join(scratch, 'home2');
    const ftBin = path.join(home, '.cache', 'server3-free-threads', 'cpython-3.13t', 'bin');
    fs.mkdirSync(ftBin, { recursive: true });
    fs.symlinkSync(builtFreeThreaded, path.join(ftBin, 'python3.13t'));
    fs.writeFileSync(path.join(ftBin, 'python3.13t-config'), ''); // not an interpreter name
    const list = candidates({ setting: '/opt/py/bin/python3', pathVariable: '', home });
    assert.deepEqual(list, ['/opt/py/bin/python3', path.join(ftBin, 'python3.13t')]);
  });

  it('keeps a workspace virtualenv apart from its base interpreter', async () => {
    const folder = path.join(scratch, 'ws');
    fs.mkdirSync(folder);
    const { execFileSync } = await import('node:child_process');
    execFileSync('python3', ['-m', 'venv', '--without-pip', path.join(folder, '.venv')]);
    const found = await findInterpreters({
      pathVariable: path.join(scratch, 'bin'),
      home: path.join(scratch, 'home'),
      folders: [folder],
    });
    const venv = found.find((i) => i.command.startsWith(folder));
    assert.ok(venv?.venv, JSON.stringify(found));
    assert.ok(found.some((i) => path.basename(i.command) === 'python3' && !i.venv));
  });
});
