/** scripts/build.mjs refuses to bundle with an entry point missing, instead of shipping a .vsix without it. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const repoRoot = resolve(__dirname, '..', '..', '..');

test('the build fails and names what is missing when an entry point is gone', () => {
  const empty = mkdtempSync(join(tmpdir(), 'server3-build-'));
  try {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
      cwd: empty,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /missing extension\/src\/extension\.ts, server-runtime\/src\/languageServer\.ts/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
