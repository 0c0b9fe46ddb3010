/**
 * Runs the shared config test vectors (test/vectors/config/*.json) against the TypeScript validator.
 * The Python validator runs the same files (server-runtime/python/tests/test_config_vectors.py).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Problem } from '../../server-runtime/src/config/problem';
import { validateConfigText } from '../../server-runtime/src/config/validate';

interface ExpectedProblem {
  line: number; // 1-based
  start: number;
  end: number;
  severity: string;
  code: string;
  mentions?: string;
  suggestion?: string | null;
}

interface Vector {
  name: string;
  text: string;
  problems: ExpectedProblem[];
}

const VECTOR_DIR = resolve(__dirname, '../../../test/vectors/config');

function loadVectors(): [string, Vector][] {
  const all: [string, Vector][] = [];
  for (const file of readdirSync(VECTOR_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const data = JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8')) as Vector | Vector[];
    for (const v of Array.isArray(data) ? data : [data]) all.push([file.replace(/\.json$/, ''), v]);
  }
  return all;
}

function matches(p: Problem, e: ExpectedProblem): boolean {
  if (p.line + 1 !== e.line || p.start !== e.start || p.end !== e.end) return false;
  if (p.severity !== e.severity || p.code !== e.code) return false;
  if (e.mentions !== undefined && !p.message.includes(e.mentions)) return false;
  if (e.suggestion !== undefined && (p.suggestion ?? null) !== e.suggestion) return false;
  return true;
}

const vectors = loadVectors();

test('the shared vectors are found', () => {
  assert.ok(vectors.length > 50, `only ${vectors.length} vectors in ${VECTOR_DIR}`);
});

for (const [file, vector] of vectors) {
  describe(file, () => {
    test(vector.name, () => {
      const unmatched = validateConfigText(vector.text, { fileSystem: false });
      const missing: ExpectedProblem[] = [];
      for (const expected of vector.problems) {
        const i = unmatched.findIndex((p) => matches(p, expected));
        if (i < 0) missing.push(expected);
        else unmatched.splice(i, 1);
      }
      assert.deepEqual(
        { missing, unexpected: unmatched },
        { missing: [], unexpected: [] },
        'expected but not reported (missing) / reported but not expected (unexpected)',
      );
    });
  });
}
