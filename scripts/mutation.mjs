// Mutation testing (StrykerJS, config in stryker.config.mjs), one group of modules at a time.
//
//   npm run mutation                     every group, every mutant; records the baselines in test/mutation/baseline/
//   npm run mutation -- --group config   one group (config, supervisor, metrics)
//   node scripts/mutation.mjs --gate     the CI gate (suite `mutation` of npm test): incremental against the
//                                        recorded baselines (only mutants whose code or tests changed run), then
//                                        fails when a module's score is below its threshold
//   node scripts/mutation.mjs --report   only re-read the last reports (reports/mutation/<group>.json)
//
// A module's score = killed / (killed + survived), where timeouts count as killed and survivors listed in
// test/mutation/equivalents.json (equivalent mutants, each with its reason) are left out. Thresholds per module
// are in test/mutation/thresholds.json: raise them as tests improve, never lower them to make a change pass.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'test', 'mutation');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const squash = (text) => text.replace(/\s+/g, ' ').trim();

/** The text a mutant replaced, from the file's source and the mutant's 1-based line / 0-based column span. */
export function originalText(source, { start, end }) {
  const lines = source.split('\n');
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  return [
    lines[start.line - 1].slice(start.column - 1),
    ...lines.slice(start.line, end.line - 1),
    lines[end.line - 1].slice(0, end.column - 1),
  ].join('\n');
}

/** The accepted equivalent (from equivalents.json) that matches a mutant, if any. */
export function findEquivalent(equivalents, file, source, mutant) {
  const lineText = source.split('\n')[mutant.location.start.line - 1] ?? '';
  const original = squash(originalText(source, mutant.location));
  return equivalents.find(
    (e) =>
      e.file === file &&
      e.mutator === mutant.mutatorName &&
      squash(e.original) === original &&
      squash(e.replacement) === squash(mutant.replacement ?? '') &&
      (e.near === undefined || lineText.includes(e.near)),
  );
}

/** Per-module counts and score of one Stryker JSON report, survivors split into accepted and not. */
export function scoreReport(report, equivalents) {
  const modules = [];
  const used = new Set();
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const m = {
      file,
      total: mutants.length,
      killed: 0,
      survived: [],
      equivalent: 0,
      noCoverage: 0,
      invalid: 0,
    };
    for (const mutant of mutants) {
      if (DETECTED.has(mutant.status)) m.killed++;
      else if (UNDETECTED.has(mutant.status)) {
        const accepted = findEquivalent(equivalents, file, source, mutant);
        if (accepted) {
          used.add(accepted);
          m.equivalent++;
        } else {
          if (mutant.status === 'NoCoverage') m.noCoverage++;
          const at = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
          const original = squash(originalText(source, mutant.location)).slice(0, 100);
          const replacement = squash(mutant.replacement ?? '').slice(0, 100);
          m.survived.push({ at, mutator: mutant.mutatorName, status: mutant.status, original, replacement });
        }
      } else m.invalid++; // CompileError, RuntimeError, Ignored: not a verdict on the tests
    }
    const judged = m.killed + m.survived.length;
    m.score = judged ? (100 * m.killed) / judged : 100;
    modules.push(m);
  }
  return { modules: modules.sort((a, b) => a.file.localeCompare(b.file)), used };
}

function stryker(group, extraArgs) {
  const bin = path.join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
  const r = spawnSync(process.execPath, [bin, 'run', ...extraArgs], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATION_GROUP: group },
  });
  return r.status ?? 1;
}

async function main() {
  const args = process.argv.slice(2);
  const gate = args.includes('--gate');
  const reportOnly = args.includes('--report');
  const { groups } = await import(pathToFileURL(path.join(root, 'stryker.config.mjs')).href);
  const groupArg = args.includes('--group') ? args[args.indexOf('--group') + 1] : undefined;
  if (groupArg && !groups[groupArg]) {
    console.error(`mutation: no group ${groupArg} (groups: ${Object.keys(groups).join(', ')})`);
    process.exit(2);
  }
  const names = groupArg ? [groupArg] : Object.keys(groups);
  const started = Date.now();
  let strykerFailed = false;

  if (!reportOnly) {
    // The unit tests run from out/ (Stryker compiles its sandbox itself; the out/test here is what the
    // incremental mode compares to notice changed tests). The gate runs after npm test's build.
    if (
      !gate &&
      spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], {
        stdio: 'inherit',
      }).status
    )
      process.exit(1);
    for (const group of names) {
      const baseline = path.join(dir, 'baseline', `${group}.json`);
      console.log(`\n=== mutation ${group}${gate ? ' (incremental)' : ''}`);
      let status;
      if (gate) {
        // Work on a copy: the committed baseline changes only with `npm run mutation`.
        const scratch = path.join(root, '.stryker-tmp', `incremental-${group}.json`);
        mkdirSync(path.dirname(scratch), { recursive: true });
        if (existsSync(baseline)) copyFileSync(baseline, scratch);
        else
          console.log(`mutation: no baseline for ${group}: every mutant runs (npm run mutation records one)`);
        status = stryker(group, ['--incremental', '--incrementalFile', scratch]);
      } else {
        status = stryker(group, ['--incremental', '--force']);
      }
      if (status !== 0) {
        console.error(`mutation: stryker failed for group ${group} (exit ${status})`);
        strykerFailed = true;
      }
    }
  }

  const thresholds = readJson(path.join(dir, 'thresholds.json'));
  const equivalents = readJson(path.join(dir, 'equivalents.json'));
  const missingReason = equivalents.filter((e) => !e.reason || !e.reason.trim());
  const rows = [];
  const used = new Set();
  for (const group of names) {
    const file = path.join(root, 'reports', 'mutation', `${group}.json`);
    if (!existsSync(file)) {
      console.error(`mutation: no report for ${group} (${path.relative(root, file)})`);
      strykerFailed = true;
      continue;
    }
    const scored = scoreReport(readJson(file), equivalents);
    scored.used.forEach((e) => used.add(e));
    rows.push(...scored.modules.map((m) => ({ ...m, group })));
  }

  console.log(
    '\n=== surviving mutants (kill each with a test, or list it in test/mutation/equivalents.json)',
  );
  for (const m of rows)
    for (const s of m.survived)
      console.log(
        `${s.at} ${s.mutator}${s.status === 'NoCoverage' ? ' (no coverage)' : ''}: ${s.original}  ->  ${s.replacement}`,
      );

  console.log('\n=== mutation score per module (timeouts count as killed; accepted equivalents left out)');
  console.log(
    `${'module'.padEnd(52)} ${'mutants'.padStart(7)} ${'killed'.padStart(6)} ${'surv'.padStart(5)} ${'equiv'.padStart(5)} ${'score'.padStart(6)} ${'min'.padStart(4)}`,
  );
  let passed = 0;
  let failed = 0;
  for (const m of rows) {
    const min = thresholds[m.file];
    const ok = min !== undefined && m.score + 1e-9 >= min;
    if (ok) passed++;
    else failed++;
    const verdict =
      min === undefined ? 'FAIL (no threshold in test/mutation/thresholds.json)' : ok ? '' : 'FAIL';
    console.log(
      `${m.file.padEnd(52)} ${String(m.total).padStart(7)} ${String(m.killed).padStart(6)} ${String(m.survived.length).padStart(5)} ${String(m.equivalent).padStart(5)} ${m.score.toFixed(1).padStart(6)} ${String(min ?? '-').padStart(4)} ${verdict}`,
    );
  }
  for (const group of names) {
    const g = rows.filter((m) => m.group === group);
    const killed = g.reduce((n, m) => n + m.killed, 0);
    const judged = killed + g.reduce((n, m) => n + m.survived.length, 0);
    if (judged) console.log(`group ${group}: ${((100 * killed) / judged).toFixed(1)}% (${killed}/${judged})`);
  }
  for (const e of equivalents)
    if (
      !used.has(e) &&
      names.some((g) => groups[g].mutate.some((glob) => e.file.startsWith(glob.replace(/\*.*$/, ''))))
    )
      console.log(
        `note: equivalent no longer seen (killed now, or the code changed; remove it): ${e.file} ${e.mutator} ${e.original} -> ${e.replacement}`,
      );
  for (const e of missingReason) {
    console.log(`FAIL: equivalent without a reason: ${e.file} ${e.original}`);
    failed++;
  }
  if (strykerFailed) failed++;
  console.log(`\nmutation: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`mutation: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
