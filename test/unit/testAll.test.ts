/**
 * `npm test` (scripts/test-all.mjs) cannot pass by not testing: each suite's count is read from its runner's
 * own closing lines, and a suite that fails, reports no count, or reports fewer passed tests than its floor
 * fails. Also the run itself: an unknown suite name is an error, not an empty run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';

interface Suite {
  name: string;
  cmd: string;
  count?: (output: string) => { passed: number; failed: number } | undefined;
  floor?: number;
}
interface TestAll {
  suites: Suite[];
  counters: Record<'node' | 'pytest' | 'plain', NonNullable<Suite['count']>>;
  judge(suite: Suite, status: number, output: string): { ok: boolean; note: string };
}

const script = path.resolve(__dirname, '..', '..', '..', 'scripts', 'test-all.mjs');
// tsc compiles import() to require() for CommonJS; an ES module needs the real thing.
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<TestAll>;

describe('test-all', () => {
  let t: TestAll;
  before(async () => {
    t = await importEsm(pathToFileURL(script).href);
  });

  test('reads the counts of node --test (spec and TAP), pytest and our own runners', () => {
    const spec = 'ℹ tests 12\nℹ suites 2\nℹ pass 11\nℹ fail 1\nℹ cancelled 0\n';
    assert.deepEqual(t.counters.node(spec), { passed: 11, failed: 1 });
    assert.deepEqual(t.counters.node('# tests 3\n# pass 3\n# fail 0\n'), { passed: 3, failed: 0 });
    assert.equal(t.counters.node('nothing ran\n'), undefined);
    // Only the last summary counts (a nested run's output may come first).
    assert.deepEqual(t.counters.node('# pass 1\n# fail 0\nℹ pass 40\nℹ fail 0\n'), { passed: 40, failed: 0 });
    assert.deepEqual(t.counters.pytest('...\n========== 250 passed, 3 skipped in 30.12s ==========\n'), {
      passed: 250,
      failed: 0,
    });
    assert.deepEqual(t.counters.pytest('===== 2 failed, 248 passed, 1 error in 9.00s =====\n'), {
      passed: 248,
      failed: 3,
    });
    assert.equal(t.counters.pytest('===== no tests ran in 0.01s =====\n'), undefined);
    assert.deepEqual(t.counters.plain('host: 12 passed, 0 failed (31.2s)\n'), { passed: 12, failed: 0 });
    assert.deepEqual(t.counters.plain('20 passed, 1 failed\n'), { passed: 20, failed: 1 });
    assert.equal(t.counters.plain('it passed, we think\n'), undefined);
  });

  test('a suite fails on a non-zero exit, a missing count, a failed test, or a count below its floor', () => {
    const unit = t.suites.find((s) => s.name === 'unit')!;
    const out = (n: number, failed = 0) => `ℹ pass ${n}\nℹ fail ${failed}\n`;
    assert.equal(t.judge(unit, 0, out(unit.floor!)).ok, true);
    assert.equal(t.judge(unit, 0, out(unit.floor! + 5)).ok, true);
    assert.deepEqual(t.judge(unit, 0, out(unit.floor! - 1)), {
      ok: false,
      note: `${unit.floor! - 1} passed: ${unit.floor! - 1} passed is below the floor of ${unit.floor}`,
    });
    assert.deepEqual(t.judge(unit, 0, 'no tests found\n'), {
      ok: false,
      note: 'no count: reported no test count',
    });
    assert.equal(t.judge(unit, 1, out(unit.floor!)).ok, false);
    assert.equal(t.judge(unit, 0, out(unit.floor!, 1)).ok, false);
    assert.equal(
      t.judge(unit, 0, `\x1b[32mℹ pass ${unit.floor}\x1b[39m\nℹ fail 0\n`).ok,
      true,
      'colours stripped',
    );
    const build = t.suites.find((s) => s.name === 'build')!;
    assert.deepEqual(t.judge(build, 0, ''), { ok: true, note: '' });
    assert.equal(t.judge(build, 2, '').ok, false);
  });

  test('every test suite has a way to count and a floor above zero; names are unique', () => {
    const steps = ['build', 'lint'];
    for (const s of t.suites.filter((x) => !steps.includes(x.name))) {
      assert.ok(s.count, `${s.name} has no counter`);
      assert.ok((s.floor ?? 0) > 0, `${s.name} has no floor`);
    }
    assert.equal(new Set(t.suites.map((s) => s.name)).size, t.suites.length);
  });

  test('an unknown suite name fails at once instead of running nothing', () => {
    const r = spawnSync(process.execPath, [script, 'unit', 'unti'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown suite unti: the suites are build, lint, unit/);
    assert.doesNotMatch(r.stdout, /=== unit/);
  });
});
