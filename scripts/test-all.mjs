// `npm test`: builds once, then runs every suite the project has, in order, and exits non-zero if any fails.
// Each suite is also runnable alone (`npm run test:unit`, `npm run test:py`, ...); `node scripts/test-all.mjs
// unit lsp` runs only those (an unknown name fails). A suite passes only when its command exits 0 AND its
// output reports at least `floor` passed tests: a suite that is missing, runs nothing, or lost tests fails,
// it is never "skipped". Raise a floor when a suite grows; lower one only with the commit that removes tests.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

// How each runner reports its count, read from the last matching line of its output.
const last = (output, re) => [...output.matchAll(re)].at(-1);
export const counters = {
  // node --test: spec reporter "ℹ pass 12" / "ℹ fail 0", TAP reporter "# pass 12" / "# fail 0".
  node: (out) => {
    const pass = last(out, /^(?:ℹ|#) pass (\d+)$/gm);
    const fail = last(out, /^(?:ℹ|#) fail (\d+)$/gm);
    return pass && { passed: Number(pass[1]), failed: Number(fail?.[1] ?? 0) };
  },
  // pytest: "==== 250 passed, 3 skipped in 30.1s ====" (also "1 failed, 249 passed").
  pytest: (out) => {
    const line = last(out, /^=+ (.*\d+ passed.*) in [\d.]+s.*=+$/gm);
    const n = (word) => Number(line?.[1].match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
    return line && { passed: n('passed'), failed: n('failed') + n('error') };
  },
  // Our own runners (host, ui, bench, mutation): "N passed, N failed" alone on a line, an optional "word:" first.
  plain: (out) => {
    const m = last(out, /^(?:[\w-]+: )?(\d+) passed, (\d+) failed\b/gm);
    return m && { passed: Number(m[1]), failed: Number(m[2]) };
  },
};

// One line per suite: name, command, how its count is read, the least number of passed tests it must report.
// build and lint are steps, not test suites: no count, only their exit code.
export const suites = [
  { name: 'build', cmd: 'npm run build' },
  { name: 'lint', cmd: 'npm run lint' },
  { name: 'unit', cmd: 'npm run test:unit', count: counters.node, floor: 414 },
  { name: 'grammar', cmd: 'npm run test:grammar', count: counters.node, floor: 28 },
  { name: 'lsp', cmd: 'npm run test:lsp', count: counters.node, floor: 46 },
  { name: 'mutation', cmd: 'node scripts/mutation.mjs --gate', count: counters.plain, floor: 32 },
  { name: 'python', cmd: 'npm run test:py', count: counters.pytest, floor: 678 },
  // The same suite on the free-threaded CPython 3.13t (.venv-ft, GIL off): fails if a server reports the GIL on.
  { name: 'python-ft', cmd: 'npm run test:py:ft', count: counters.pytest, floor: 678 },
  // Mutation gate of the Python runtime: a sample of cosmic-ray mutants per module (test/README.md).
  {
    name: 'mutation-py',
    cmd: 'bash scripts/mutation-python.sh --gate --budget 240',
    count: counters.plain,
    floor: 16,
  },
  // deploy/: its files checked by the programs that read them (kubernetes-validate, systemd-analyze, nginx -t,
  // haproxy -c, promtool), then three instances behind HAProxy under load, reloaded, restarted and killed,
  // scraped by Prometheus; then behind nginx (~30 s; prints the requests and failures of each phase).
  { name: 'deploy', cmd: 'bash deploy/tests/run.sh', count: counters.pytest, floor: 21 },
  // Smoke run of the benchmark: every installed server answers correctly under short loads, ours included.
  { name: 'bench', cmd: 'bash bench/run.sh --quick', count: counters.plain, floor: 10 },
  { name: 'host', cmd: 'npm run test:host', count: counters.plain, floor: 17 },
  { name: 'ui', cmd: 'npm run test:ui', count: counters.plain, floor: 10 },
];

/** Runs a command, echoing its output as it comes, and resolves with its exit status and the output's tail. */
function run(command) {
  const [cmd, ...args] = command.split(' ');
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['inherit', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (out) => (chunk) => {
      out.write(chunk);
      tail = (tail + chunk.toString()).slice(-256 * 1024);
    };
    child.stdout.on('data', keep(process.stdout));
    child.stderr.on('data', keep(process.stderr));
    child.on('error', (e) => resolve({ status: 127, output: `${tail}\n${e.message}` }));
    child.on('close', (status, signal) => resolve({ status: status ?? 128, signal, output: tail }));
  });
}

/** The verdict of one suite from its exit status and its reported count. */
export function judge(suite, status, output) {
  if (!suite.count) return status === 0 ? { ok: true, note: '' } : { ok: false, note: `exit ${status}` };
  // eslint-disable-next-line no-control-regex
  const counted = suite.count(output.replace(/\x1b\[[0-9;]*m/g, ''));
  const problems = [];
  if (status !== 0) problems.push(`exit ${status}`);
  if (!counted) problems.push('reported no test count');
  else {
    if (counted.failed > 0) problems.push(`${counted.failed} failed`);
    if (counted.passed < suite.floor)
      problems.push(`${counted.passed} passed is below the floor of ${suite.floor}`);
  }
  const count = counted ? `${counted.passed} passed` : 'no count';
  return { ok: problems.length === 0, note: problems.length ? `${count}: ${problems.join(', ')}` : count };
}

async function main() {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !suites.some((s) => s.name === name));
  if (unknown.length) {
    console.error(
      `unknown suite ${unknown.join(', ')}: the suites are ${suites.map((s) => s.name).join(', ')}`,
    );
    process.exit(2);
  }
  const results = [];
  for (const suite of suites) {
    if (only.length && !only.includes(suite.name)) continue;
    console.log(`\n=== ${suite.name}: ${suite.cmd}`);
    const started = Date.now();
    const { status, output } = await run(suite.cmd);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const verdict = judge(suite, status, output);
    results.push({ name: suite.name, ...verdict, secs });
    if (!verdict.ok) console.log(`=== ${suite.name} FAILED: ${verdict.note}`);
    if (suite.name === 'build' && !verdict.ok) break; // nothing else can run without a build
  }
  console.log('\n=== summary');
  for (const r of results)
    console.log(
      `${r.name.padEnd(9)} ${r.ok ? 'passed' : 'FAILED'} (${r.secs}s)${r.note ? ` ${r.note}` : ''}`,
    );
  const failed = results.filter((r) => !r.ok).length;
  console.log(`suites: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
