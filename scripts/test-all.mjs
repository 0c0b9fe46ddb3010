// `npm test`: builds once, then runs every suite the project has, in order, and exits non-zero if any fails.
// Each suite is also runnable alone (`npm run test:unit`, `npm run test:py`, ...). A suite whose folder holds no
// tests yet is reported as skipped, never as passed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const hasFiles = (dir, re) =>
  existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => re.test(String(f)));
const suites = [
  { name: 'build', cmd: ['npm', 'run', 'build'], present: () => true },
  { name: 'lint', cmd: ['npm', 'run', 'lint'], present: () => true },
  { name: 'unit', cmd: ['npm', 'run', 'test:unit'], present: () => hasFiles('out/test/unit', /\.test\.js$/) },
  {
    name: 'grammar',
    cmd: ['npm', 'run', 'test:grammar'],
    present: () => hasFiles('out/test/grammar', /\.test\.js$/),
  },
  { name: 'lsp', cmd: ['npm', 'run', 'test:lsp'], present: () => hasFiles('out/test/lsp', /\.test\.js$/) },
  {
    name: 'python',
    cmd: ['npm', 'run', 'test:py'],
    present: () => hasFiles('server-runtime/python/tests', /^test_.*\.py$|\/test_.*\.py$/),
  },
  // The same suite on the free-threaded CPython 3.13t (.venv-ft) with the GIL off: it fails if any server it
  // starts reports the GIL on. Missing .venv-ft is a failure, not a skip: scripts/setup.sh builds it.
  {
    name: 'python-ft',
    cmd: ['npm', 'run', 'test:py:ft'],
    present: () => hasFiles('server-runtime/python/tests', /^test_.*\.py$|\/test_.*\.py$/),
  },
  // Mutation testing of the Python runtime, the CI gate: a fixed sample per module + mutants on lines changed
  // since the recorded baseline, ~5 min on 2 cores (test/README.md, "Mutation testing of the Python runtime").
  {
    name: 'mutation-py',
    cmd: ['bash', 'scripts/mutation-python.sh', '--gate', '--budget', '300'],
    present: () => existsSync('server-runtime/python/mutation/config.toml'),
  },
  // Smoke run of the benchmark: correctness of every installed server under short loads, no timing judged.
  { name: 'bench', cmd: ['bash', 'bench/run.sh', '--quick'], present: () => existsSync('bench/run.sh') },
  { name: 'host', cmd: ['npm', 'run', 'test:host'], present: () => existsSync('out/test/host/run.js') },
  { name: 'ui', cmd: ['npm', 'run', 'test:ui'], present: () => existsSync('out/test/ui/run.js') },
];
const only = process.argv.slice(2);
const results = [];
for (const suite of suites) {
  if (only.length && !only.includes(suite.name)) continue;
  if (!suite.present()) {
    console.log(`\n=== ${suite.name}: skipped (no tests yet)`);
    results.push([suite.name, 'skipped']);
    continue;
  }
  console.log(`\n=== ${suite.name}: ${suite.cmd.join(' ')}`);
  const started = Date.now();
  const r = spawnSync(suite.cmd[0], suite.cmd.slice(1), { stdio: 'inherit' });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  results.push([suite.name, r.status === 0 ? 'passed' : 'failed', secs]);
  if (suite.name === 'build' && r.status !== 0) break; // nothing else can run without a build
}
console.log('\n=== summary');
for (const [name, status, secs] of results)
  console.log(`${name.padEnd(9)} ${status}${secs ? ` (${secs}s)` : ''}`);
const failed = results.filter((r) => r[1] === 'failed').length;
const passed = results.filter((r) => r[1] === 'passed').length;
console.log(`suites: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
