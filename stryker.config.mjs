// StrykerJS: mutation testing of the TypeScript modules whose bugs the other suites must catch.
// `npm run mutation` runs every group (scripts/mutation.mjs); the `mutation` suite of `npm test` runs them
// incrementally against the recorded baselines in test/mutation/baseline/. How to read it: test/README.md.
//
// Runner: @stryker-mutator/tap-runner. The unit tests are `node --test` files compiled to out/; the tap
// runner runs each file in its own node process (node:test's TAP reporter), so nothing is converted, a
// mutant that leaves a Python server or a timer behind cannot leak into the next run, and coverage is per
// test file: a mutant runs only the files that reached it, fastest-named first (the command runner has no
// coverage and would run every suite for every mutant; the mocha runner would mean converting every test
// and running the supervisor's real processes inside Stryker's worker). The active mutant also reaches child
// processes through the environment, but their coverage is not seen: each group's tests are in-process.
//
// Groups (MUTATION_GROUP, default: all three mutated at once) keep each module with its own tests, so a
// config mutant never waits for the supervisor's Python processes.
import { fileURLToPath } from 'node:url';

export const groups = {
  config: {
    // languageFeatures.ts is LSP wiring, exercised only inside the language-server child process (test/lsp,
    // host); every function it wires is mutated in its own module and tested in process.
    mutate: ['server-runtime/src/config/*.ts', '!server-runtime/src/config/languageFeatures.ts'],
    tests: ['out/test/unit/config*.test.js'],
  },
  supervisor: {
    // register.ts is LSP wiring (requests to Supervisor methods), covered by supervisorProtocol over IPC.
    mutate: ['server-runtime/src/supervisor/*.ts', '!server-runtime/src/supervisor/register.ts'],
    // Listed, fastest first: a mutant runs the files that reach it in this order and stops at the first that
    // fails, so the quick contract tests kill most before any real Python server starts. Add new files here.
    // Not supervisorProtocol.test.js: it drives the supervisor inside the language-server child process,
    // where Stryker sees no coverage; it would only make every mutant that touches module-level code slower.
    tests: [
      'out/test/unit/supervisor-parts.test.js',
      // validate-first's decoding (decodeConfig: BOM, bytes that are not UTF-8) is tested here.
      'out/test/unit/validateConfigFile.test.js',
      'out/test/unit/supervisor-contract.test.js',
      'out/test/unit/supervisor-process.test.js',
      'out/test/unit/supervisor-runtime.test.js',
      'out/test/unit/supervisor-managed.test.js',
      'out/test/unit/supervisor-messages.test.js',
      'out/test/unit/traceback.test.js',
      'out/test/unit/logRelay.test.js',
      'out/test/unit/supervisorExitCodes.test.js',
      'out/test/unit/supervisor-signals.test.js',
      'out/test/unit/supervisorStageDeath.test.js',
      'out/test/unit/supervisor.test.js',
      'out/test/unit/supervisorLifetime.test.js',
      'out/test/unit/supervisorRequests.test.js',
    ],
  },
  metrics: {
    mutate: ['extension/src/metricsMath.ts'],
    tests: ['out/test/unit/metrics*.test.js'],
  },
};

const name = process.env.MUTATION_GROUP;
const chosen = name ? [groups[name]] : Object.values(groups);
if (chosen.includes(undefined)) throw new Error(`MUTATION_GROUP=${name}: not one of ${Object.keys(groups)}`);

// The sandbox (.stryker-tmp/sandbox-*) lies inside the repository, so modules resolve from its node_modules.
const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', import.meta.url));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles: chosen.flatMap((g) => g.tests),
    nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  // The sandbox is a copy of the repository: compile the instrumented TypeScript there.
  buildCommand: `node ${tsc} -p .`,
  mutate: chosen.flatMap((g) => g.mutate),
  coverageAnalysis: 'perTest',
  // 2 cores shared with others.
  concurrency: 2,
  // A mutant that makes a test wait (a stop that never escalates) is a timeout, which counts as killed. The
  // supervisor suites also have their own node:test timeouts, which fail such a mutant sooner.
  timeoutMS: 8000,
  timeoutFactor: 1.5,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name ?? 'all'}.json` },
  htmlReporter: { fileName: `reports/mutation/${name ?? 'all'}.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
  incrementalFile: `test/mutation/baseline/${name ?? 'all'}.json`,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // out/test stays in: the incremental mode compares the compiled test files to notice a changed test.
  ignorePatterns: [
    '/out/*',
    '!/out/test',
    '/dist',
    '/.venv',
    '/.venv-*',
    '/.cache',
    '/.test-artifacts',
    '/reports',
    '/bench',
    '**/__pycache__',
    '/.ruff_cache',
    '/.pytest_cache',
    '/test/ui',
    '/test/host',
    '/test/mutation',
  ],
};
