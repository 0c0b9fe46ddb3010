/**
 * The control channel's contract (control_schema.json) as the TypeScript side sees it: the generated types and
 * docs are up to date with the schema (so the Python runtime, which reads the schema itself, and the supervisor
 * cannot drift apart), and the generated constants say what the schema says.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import schemaJson from '../../server-runtime/python/Server_3_free_threads/control_schema.json';
import {
  EXIT_CODE_KINDS,
  ExitCode,
  RUNTIME_MESSAGE_TYPES,
  THREAD_COLUMNS,
} from '../../server-runtime/src/contract.generated';

const repoRoot = resolve(__dirname, '..', '..', '..');

test('contract.generated.ts and docs/metrics.md are generated from the current schema', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-contract.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});

test('the generated constants are the schema', () => {
  assert.deepEqual(
    Object.entries(ExitCode),
    schemaJson.exitCodes.map((e) => [e.name, e.code]),
  );
  assert.equal(EXIT_CODE_KINDS[ExitCode.stageDied], 'stage-died');
  assert.equal(EXIT_CODE_KINDS[ExitCode.clean], undefined);
  assert.deepEqual(
    [...RUNTIME_MESSAGE_TYPES],
    ['ready', 'error', 'metrics', 'requests', 'requestDetail', 'reloaded', 'stopping'],
  );
  const threadFields = new Set(schemaJson.objects.thread.map((f) => f.name));
  assert.ok(THREAD_COLUMNS.every((c) => threadFields.has(c.field)));
  assert.deepEqual(
    THREAD_COLUMNS.map((c) => c.field),
    schemaJson.views.thread.map((c) => c.field),
  );
});
