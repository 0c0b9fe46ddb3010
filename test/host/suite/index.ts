/**
 * Runs inside code-server's extension host (loaded through the `extensionTestsPath` payload by test/host/run.ts).
 * VS Code calls run(); we run every test/host/suite/*.test.ts (compiled to *.test.js next to this file) with mocha
 * and report through console.log, which the workbench forwards to the browser's codeAutomationLog.
 *
 * The last line is a machine-readable result that run.ts parses, because the exit code alone cannot say how many
 * tests passed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';

export const RESULT_MARKER = 'SERVER3_HOST_RESULT';
/** Marks the tests' own output, so run.ts can tell it from the workbench's chatter in the same log stream. */
export const OUTPUT_PREFIX = '[host-test] ';

/**
 * console.log for test output. (The extension host pins console.log with a getter, so it cannot be wrapped; tests
 * that want to print something import this through ./helpers.)
 */
export function testLog(...args: unknown[]): void {
  console.log(OUTPUT_PREFIX + format(...args));
}

export async function run(): Promise<void> {
  const { default: Mocha } = await import('mocha');
  Mocha.reporters.Base.consoleLog = testLog;
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env.SERVER3_HOST_TEST_TIMEOUT ?? 30_000),
    grep: process.env.SERVER3_HOST_GREP || undefined,
  });
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const passed = runner.stats?.passes ?? 0;
        const failed = runner.stats?.failures ?? failures;
        testLog(`${RESULT_MARKER} ${JSON.stringify({ passed, failed })}`);
        if (failed > 0) reject(new Error(`${failed} host test(s) failed`));
        else resolve();
      });
    } catch (err) {
      testLog(`could not run the host tests: ${(err as Error).stack ?? err}`);
      testLog(`${RESULT_MARKER} ${JSON.stringify({ passed: 0, failed: 1 })}`);
      reject(err);
    }
  });
}
