/**
 * Differential test of the two validators: a few hundred generated config texts (seeded, so a failure
 * reproduces) go through the TypeScript validator and, in one child process, through config.py; the problems
 * must be identical, messages included, so the editor and the runtime always say the same thing.
 * SERVER3_PARITY_SEED=<n> tries other texts. The hand-written shared vectors pin the expected answers; this test catches the cases nobody wrote down.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { FIELDS } from '../../server-runtime/src/config/schema';
import { validateConfigText } from '../../server-runtime/src/config/validate';

const repoRoot = resolve(__dirname, '..', '..', '..');
const venvPython = join(repoRoot, '.venv', 'bin', 'python');
const python = existsSync(venvPython) ? venvPython : 'python3';

/** Small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every key of the schema (a key added there is fuzzed at once), then near misses and junk. */
const KEYS = [
  ...FIELDS.map((f) => f.name),
  'port',
  'Host',
  'HSOT',
  'PROT',
  'DOMIAN',
  'BACKLOG',
  'THREADS',
  'TIMEOUT',
  'MAX',
  'FOO',
  'APP_THRAEDS',
  'X',
  '1KEY',
  'MY-KEY',
  '',
];
const VALUES = [
  '127.0.0.1',
  '0.0.0.0',
  '::1',
  '::',
  '1:2:3:4:5:6:7:8',
  '1::2::3',
  'fe80::1%eth0',
  '[::1]',
  '::ffff:1.2.3.4',
  '256.1.1.1',
  '127.0.0',
  '010.0.0.1',
  'localhost',
  'example.com',
  'example.com.',
  '-bad',
  'my_host',
  'a.b-c.d',
  '8000',
  '0',
  '65535',
  '65536',
  '-1',
  '+5',
  '08',
  '1e3',
  '2.5',
  '.5',
  '5.',
  'abc',
  '80a',
  '1_000',
  '',
  'hello.wsgi',
  'hello/wsgi.py',
  'hello.',
  '1mod',
  'app',
  'my-app',
  'common',
  'Combined',
  'comon',
  'com',
  'warn',
  'DEBUG',
  'hello.wsgi:app',
  'hello.wsgi:',
  'hello:create_app()',
  ':app',
  'json',
  'debug',
  'on',
  'OFF',
  'Yes',
  'maybe',
  '127.0.0.1:9100',
  '[::1]:9100',
  'localhost:0',
  ':9100',
  '9100',
  '0.0.0.0:80',
  'a#b',
  'two words',
  "it's",
  'é',
];
const SEPARATORS = ['=', ' = ', '\t=', '= ', '==', ' ', ': ', ':'];
const TAILS = ['', '', '', '  # comment', '\t# c', ' ', '#glued'];

function generate(next: () => number): string {
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)];
  const lines: string[] = [];
  const count = Math.floor(next() * 9);
  for (let i = 0; i < count; i++) {
    const kind = next();
    if (kind < 0.1) lines.push(pick(['', '# a comment', '   # indented', '\t']));
    else
      lines.push(
        `${pick(['', '', '', '  ', '\t'])}${pick(KEYS)}${pick(SEPARATORS)}${pick(VALUES)}${pick(TAILS)}`,
      );
  }
  return lines.join(next() < 0.2 ? '\r\n' : '\n') + (next() < 0.7 ? '\n' : '');
}

const PYTHON_SIDE = `
import json, sys
from Server_3_free_threads.config import parse_config_text
out = []
for text in json.load(sys.stdin):
    _, problems = parse_config_text(text)
    out.append([[p.line - 1, p.start, p.end, p.severity, p.code, p.message, p.suggestion] for p in problems])
json.dump(out, sys.stdout)
`;

test('the TypeScript and Python validators report identical problems for generated configs', () => {
  const next = random(Number(process.env.SERVER3_PARITY_SEED ?? 20261124));
  const texts = Array.from({ length: 400 }, () => generate(next));
  const r = spawnSync(python, ['-c', PYTHON_SIDE], {
    input: JSON.stringify(texts),
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(repoRoot, 'server-runtime', 'python') },
  });
  assert.equal(r.status, 0, r.stderr);
  const fromPython = JSON.parse(r.stdout) as unknown[][];
  let compared = 0;
  texts.forEach((text, i) => {
    const fromTs = validateConfigText(text, { fileSystem: false }).map((p) => [
      p.line,
      p.start,
      p.end,
      p.severity,
      p.code,
      p.message,
      p.suggestion ?? null,
    ]);
    assert.deepEqual(fromTs, fromPython[i], `text #${i}: ${JSON.stringify(text)}`);
    compared += fromTs.length;
  });
  assert.ok(compared > 500, `only ${compared} problems compared`);
});
