/**
 * `npm run test:ui`: browser tests through VS Code's real UI, with the extension installed from
 * dist/server3-free-threads.vsix (exactly what users get). Rebuilds/repackages first if the .vsix is stale.
 *
 * One code-server for the suite (two if a test needs Workspace Trust on, see below); each test file test/ui/tests/*.ui.ts gets its own scratch copy of
 * examples/hello (with a free app port) opened in a fresh browser window, which run.ts waits for before calling the
 * test's default export `(page, ctx) => Promise<void>`. A failing test leaves a FAILED-*.png in
 * .test-artifacts/screenshots/. Ends with "ui: N passed, N failed" and a non-zero exit code on any failure.
 *
 * Tests that export `options = { workspaceTrust: true }` run in a second code-server with Workspace Trust on
 * (started only when such a test is selected): their window asks "Do you trust the authors?" like a user's does.
 *
 * Env: UI_GREP=<text> runs only test files whose name contains it; UI_TEST_TIMEOUT_MS (default 90000);
 * HEADED=1 shows the browser (needs a display); KEEP_SCRATCH=1 keeps code-server's scratch folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { artifactPath, SCREENSHOTS_DIR } from '../harness/artifacts';
import { blockNonLoopback, launchChromium } from '../harness/browser';
import { ensureVsix } from '../harness/build';
import { startCodeServer, type CodeServer } from '../harness/codeServer';
import { FT_CACHE } from '../harness/freeThreaded';
import { copyWorkspace } from '../harness/workspace';
import { createContext, type UiTest, type UiTestOptions } from './context';
import { waitForWorkbench } from './workbench';

interface LoadedTest {
  name: string;
  run: UiTest;
  options: UiTestOptions;
}

const TESTS_DIR = path.join(__dirname, 'tests');
const TEST_TIMEOUT_MS = Number(process.env.UI_TEST_TIMEOUT_MS ?? 90_000);

function discoverTests(): string[] {
  const grep = process.env.UI_GREP ?? '';
  return fs
    .readdirSync(TESTS_DIR)
    .filter((f) => f.endsWith('.ui.js') && f.includes(grep))
    .sort();
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Imports a test file; a file without a default export function is a failing test, not a silent skip. */
async function loadTest(file: string): Promise<LoadedTest> {
  const name = file.replace(/\.ui\.js$/, '');
  try {
    let mod = (await import(path.join(TESTS_DIR, file))) as { default?: unknown; options?: UiTestOptions };
    // A plain CommonJS file (no __esModule marker) arrives wrapped once more: { default: module.exports }.
    if (mod.default && typeof mod.default === 'object') mod = mod.default as typeof mod;
    if (typeof mod.default !== 'function')
      throw new Error(`${file} has no default export (page, ctx) => Promise`);
    return { name, run: mod.default as UiTest, options: mod.options ?? {} };
  } catch (err) {
    return { name, run: () => Promise.reject(err), options: {} };
  }
}

async function runOne(browser: Browser, cs: CodeServer, test: LoadedTest): Promise<boolean> {
  const testName = test.name;
  const started = Date.now();
  console.log(`  ${testName}`);
  const ws = await copyWorkspace(undefined, testName);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await blockNonLoopback(context, (url) => console.log(`    [net] blocked a request off loopback: ${url}`));
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`    [page error] ${err.message.split('\n')[0]}`));
  const ctx = createContext(page, { testName, origin: cs.origin, workspaceDir: ws.dir, appPort: ws.appPort });
  try {
    await withTimeout(
      (async () => {
        await page.goto(`${cs.origin}/?folder=${encodeURIComponent(ws.dir)}`);
        await waitForWorkbench(page);
        await test.run(page, ctx);
      })(),
      TEST_TIMEOUT_MS,
      testName,
    );
    console.log(`  ✔ ${testName} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return true;
  } catch (err) {
    await ctx.screenshot('FAILED-end').catch(() => undefined);
    console.log(`  ✘ ${testName} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    console.log(`    ${(err as Error).message ?? err}`.replace(/\n/g, '\n    '));
    return false;
  } finally {
    await context.close().catch(() => undefined);
    ws.remove();
  }
}

/** One code-server (trust on or off) for a group of tests, stopped after them. Returns [passed, failed]. */
async function runGroup(browser: Browser, vsix: string, tests: LoadedTest[], workspaceTrust: boolean) {
  // The folder code-server opens by default is irrelevant: each test opens its own workspace by URL.
  const home = await copyWorkspace(undefined, 'default');
  let cs: CodeServer | undefined;
  let passed = 0;
  let failed = 0;
  try {
    cs = await startCodeServer({
      workspace: home.dir,
      vsixes: [vsix],
      workspaceTrust,
      keepScratch: process.env.KEEP_SCRATCH === '1',
      env: { SERVER3_FT_CACHE: FT_CACHE },
    });
    const trust = workspaceTrust ? 'Workspace Trust on' : 'Workspace Trust off';
    console.log(`[ui] code-server ${cs.origin} with ${path.relative(process.cwd(), vsix)} (${trust})`);
    for (const test of tests) {
      if (await runOne(browser, cs, test)) passed++;
      else failed++;
    }
  } catch (err) {
    console.error(`[ui] ${(err as Error).stack ?? err}`);
    failed += tests.length - passed - failed;
  } finally {
    cs?.saveLogs(artifactPath('logs', workspaceTrust ? 'ui-trust-on' : 'ui'));
    await cs?.stop();
    home.remove();
  }
  return [passed, failed];
}

async function main(): Promise<number> {
  const started = Date.now();
  const files = discoverTests();
  if (files.length === 0) {
    console.log('ui: 0 passed, 0 failed (no test/ui/tests/*.ui.ts matched)');
    return 1;
  }
  fs.rmSync(SCREENSHOTS_DIR, { recursive: true, force: true });
  const tests = await Promise.all(files.map(loadTest));
  let browser: Browser | undefined;
  let passed = 0;
  let failed = 0;
  try {
    const vsix = ensureVsix();
    browser = await launchChromium();
    for (const workspaceTrust of [false, true]) {
      const group = tests.filter((t) => Boolean(t.options.workspaceTrust) === workspaceTrust);
      if (group.length === 0) continue;
      const [p, f] = await runGroup(browser, vsix, group, workspaceTrust);
      passed += p;
      failed += f;
    }
  } catch (err) {
    console.error(`[ui] ${(err as Error).stack ?? err}`);
    failed += Math.max(1, tests.length - passed - failed);
  } finally {
    await browser?.close().catch(() => undefined);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`[ui] screenshots in ${path.relative(process.cwd(), SCREENSHOTS_DIR)}/`);
  console.log(`ui: ${passed} passed, ${failed} failed (${secs}s)`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
