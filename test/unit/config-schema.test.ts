/**
 * The schema as a contract: the generated docs are up to date, and every problem code the validator reports
 * for the shared vectors is listed in the schema's `problems` with the same severity.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import schemaJson from '../../server-runtime/python/Server_3_free_threads/config_schema.json';
import { FIELDS } from '../../server-runtime/src/config/schema';
import { validateConfigText } from '../../server-runtime/src/config/validate';

const repoRoot = resolve(__dirname, '..', '..', '..');

test('docs/config.md is generated from the current schema', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-config-docs.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});

test('every reported code is listed in the schema with its severity', () => {
  const listed = new Map(schemaJson.problems.map((p) => [p.code, p.severity]));
  const dir = join(repoRoot, 'test', 'vectors', 'config');
  let seen = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const vector of JSON.parse(readFileSync(join(dir, file), 'utf8')) as { text: string }[]) {
      for (const p of validateConfigText(vector.text, { fileSystem: false })) {
        assert.equal(listed.get(p.code), p.severity, `${p.code} (${p.severity}) in ${file}`);
        seen++;
      }
    }
  }
  assert.ok(seen > 50);
});

test('every field has what the editor features need', () => {
  for (const f of FIELDS) {
    assert.match(f.name, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(f.description.length > 20, `${f.name}: description`);
    assert.ok(f.example !== undefined && f.default !== undefined, `${f.name}: example and default`);
    if (f.type === 'enum')
      assert.ok(f.values?.includes(String(f.default)), `${f.name}: default among values`);
  }
});
