/**
 * A new user's first command, `bash scripts/setup.sh`: its prerequisites (Node 20 with npm, Python 3.10+) are checked
 * first with a message that says what to install (scripts/check-prerequisites.sh), and `npm ci` is skipped when
 * node_modules already matches package-lock.json (scripts/npm-ci-if-needed.sh). Run with fake `node`, `npm` and
 * `python3` programs first on a PATH that holds nothing else of theirs, so no real install happens.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const TOOLS = ['bash', 'dirname', 'cat', 'cut', 'sha256sum', 'mkdir', 'env'];

describe('setup scripts', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-setup-'));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  let n = 0;

  /** A bin folder with the basic tools and the given fake programs (name -> shell script body). */
  function bin(fakes: Record<string, string>): string {
    const dir = path.join(scratch, `bin${++n}`);
    fs.mkdirSync(dir);
    for (const tool of TOOLS) {
      const real = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      fs.symlinkSync(real, path.join(dir, tool));
    }
    for (const [name, body] of Object.entries(fakes)) {
      fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    }
    return dir;
  }

  const run = (script: string, pathDir: string, cwd = repoRoot, env: Record<string, string> = {}) =>
    spawnSync('/bin/bash', [script], { cwd, encoding: 'utf8', env: { PATH: pathDir, ...env } });

  const node20 = { node: 'echo v20.19.1', npm: 'exit 0', python3: 'exit 0' };
  const check = path.join(repoRoot, 'scripts', 'check-prerequisites.sh');

  test('Node 20, npm and Python 3.10+ pass', () => {
    const r = run(check, bin(node20));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('no node: says to install Node 20', () => {
    const { node: _node, ...rest } = node20;
    const r = run(check, bin(rest));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^setup: Node\.js 20 is needed and no `node` is on PATH\. Install Node 20/);
  });

  test('another Node: names it and why 20', () => {
    const r = run(check, bin({ ...node20, node: 'echo v22.3.0' }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Node\.js 20 is needed; this is Node v22\.3\.0\. code-server 4\.100\.3/);
  });

  test('no npm: says it comes with Node 20 (not "npm: command not found")', () => {
    const { npm: _npm, ...rest } = node20;
    const r = run(check, bin(rest));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^setup: npm is missing/);
  });

  test('no Python, or one older than 3.10: says which and how to name another', () => {
    const { python3: _python, ...rest } = node20;
    const missing = run(check, bin(rest));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /Python 3\.10 or newer is needed and `python3` is not on PATH/);
    const old = run(
      check,
      bin({ ...node20, python3: '[ "$1" = --version ] && echo "Python 3.9.18"; exit 1' }),
    );
    assert.equal(old.status, 1);
    assert.match(old.stderr, /Python 3\.10 or newer is needed; `python3` is Python 3\.9\.18\..*PYTHON=/s);
  });

  test('npm ci runs once, is skipped while the lockfile and Node are the same, and runs again when either changes', () => {
    const project = path.join(scratch, 'project');
    fs.mkdirSync(path.join(project, 'scripts'), { recursive: true });
    fs.copyFileSync(
      path.join(repoRoot, 'scripts', 'npm-ci-if-needed.sh'),
      path.join(project, 'scripts', 'npm-ci-if-needed.sh'),
    );
    fs.writeFileSync(path.join(project, 'package-lock.json'), '{"lockfileVersion": 3}\n');
    const calls = path.join(scratch, 'npm-calls');
    const fakes = (nodeVersion: string) =>
      bin({ node: `echo ${nodeVersion}`, npm: `echo "$@" >> ${calls}; mkdir -p node_modules` });
    const script = path.join(project, 'scripts', 'npm-ci-if-needed.sh');
    const count = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n').length : 0);
    const onNode20 = fakes('v20.19.1');
    assert.equal(run(script, onNode20).status, 0);
    assert.equal(count(), 1);
    assert.match(fs.readFileSync(calls, 'utf8'), /^ci /);
    const again = run(script, onNode20);
    assert.match(again.stdout, /npm ci skipped/);
    assert.equal(count(), 1, 'npm ci ran although nothing changed');
    fs.writeFileSync(path.join(project, 'package-lock.json'), '{"lockfileVersion": 3, "x": 1}\n');
    run(script, onNode20);
    assert.equal(count(), 2, 'a new lockfile did not run npm ci');
    run(script, fakes('v20.20.0'));
    assert.equal(count(), 3, 'another Node did not run npm ci');
    const failing = bin({ node: 'echo v20.19.1', npm: 'exit 1' });
    fs.writeFileSync(path.join(project, 'package-lock.json'), '{"lockfileVersion": 3, "x": 2}\n');
    assert.notEqual(run(script, failing).status, 0);
    assert.doesNotMatch(run(script, onNode20).stdout, /skipped/, 'a failed npm ci was taken for a done one');
  });
});
