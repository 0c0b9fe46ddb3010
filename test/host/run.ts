/**
 * `npm run test:host`: runs test/host/suite/*.test.ts inside a real VS Code extension host (code-server 4.100.3),
 * with the extension loaded from the working tree (package.json + dist/, like F5 in VS Code).
 *
 * How: start code-server on a free loopback port with a scratch copy of examples/hello as the workspace, open it in
 * Chromium with the payload extensionDevelopmentPath + extensionTestsPath (VS Code's own test hook, the same one
 * @vscode/test-web uses), stream the tests' output from window.codeAutomationLog and take their exit code from
 * window.codeAutomationExit. Everything is killed at the end, also on failure or Ctrl+C.
 *
 * Env: SERVER3_HOST_GREP=<text> runs only matching tests; HOST_TIMEOUT_MS (default 120000); KEEP_SCRATCH=1;
 * VERBOSE=1 also prints the workbench's log.
 */
import * as path from 'node:path';
import { format } from 'node:util';
import { artifactPath } from '../harness/artifacts';
import { blockNonLoopback, launchChromium } from '../harness/browser';
import { ensureBuild } from '../harness/build';
import { REPO_ROOT, startCodeServer, type CodeServer } from '../harness/codeServer';
import { FT_CACHE } from '../harness/freeThreaded';
import { copyWorkspace, type ScratchWorkspace } from '../harness/workspace';
import { OUTPUT_PREFIX, RESULT_MARKER } from './suite/index';
import type { Browser } from 'playwright-core';

const TIMEOUT_MS = Number(process.env.HOST_TIMEOUT_MS ?? 120_000);
const VERBOSE = process.env.VERBOSE === '1';

interface Outcome {
  exitCode: number;
  passed: number;
  failed: number;
}

function testPayload(cs: CodeServer): string {
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  return JSON.stringify([
    ['extensionDevelopmentPath', remote(REPO_ROOT)],
    ['extensionTestsPath', remote(path.join(__dirname, 'suite', 'index'))],
    ['skipWelcome', 'true'],
  ]);
}

async function runInExtensionHost(browser: Browser, cs: CodeServer, ws: ScratchWorkspace): Promise<Outcome> {
  const context = await browser.newContext();
  await blockNonLoopback(context, (url) => console.log(`[net] blocked a request off loopback: ${url}`));
  const page = await context.newPage();
  let counts: { passed: number; failed: number } | undefined;
  const exit = new Promise<number>((resolve) => {
    void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
  });
  await page.exposeFunction('codeAutomationLog', (type: string, message: unknown) => {
    // The extension host forwards console.log's arguments unformatted (mocha's reporter uses '%s' / '%d').
    const text = Array.isArray(message) ? format(...message) : String(message);
    const marker = text.indexOf(RESULT_MARKER);
    if (marker >= 0) counts = JSON.parse(text.slice(marker + RESULT_MARKER.length));
    else if (text.startsWith(OUTPUT_PREFIX)) console.log(text.slice(OUTPUT_PREFIX.length));
    // The workbench's own log: everything with VERBOSE=1, otherwise the first line of its errors.
    else if (VERBOSE) console.log(`[workbench] ${text}`);
    else if (type === 'error') console.log(`[workbench] ${text.split('\n')[0]}`);
  });
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  const url = `${cs.origin}/?folder=${encodeURIComponent(ws.dir)}&payload=${encodeURIComponent(testPayload(cs))}`;
  await page.goto(url);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      console.error(`[host] no result from the extension host within ${TIMEOUT_MS} ms`);
      resolve(124);
    }, TIMEOUT_MS);
  });
  const exitCode = await Promise.race([exit, timeout]);
  clearTimeout(timer);
  // Without the marker the suite never finished (crash, timeout, activation error): count that as one failure.
  const { passed, failed } = counts ?? { passed: 0, failed: 1 };
  return { exitCode, passed, failed: exitCode !== 0 && failed === 0 ? 1 : failed };
}

async function main(): Promise<number> {
  const started = Date.now();
  const ws = await copyWorkspace();
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let outcome: Outcome = { exitCode: 1, passed: 0, failed: 1 };
  try {
    ensureBuild();
    cs = await startCodeServer({
      workspace: ws.dir,
      keepScratch: process.env.KEEP_SCRATCH === '1',
      env: { SERVER3_FT_CACHE: FT_CACHE },
    });
    console.log(`[host] code-server ${cs.origin}, workspace ${ws.dir} (app port ${ws.appPort})`);
    browser = await launchChromium();
    outcome = await runInExtensionHost(browser, cs, ws);
  } catch (err) {
    console.error(`[host] ${(err as Error).stack ?? err}`);
  } finally {
    await browser?.close().catch(() => undefined);
    cs?.saveLogs(artifactPath('logs', 'host'));
    await cs?.stop();
    ws.remove();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`host: ${outcome.passed} passed, ${outcome.failed} failed (${secs}s)`);
  return outcome.exitCode === 0 && outcome.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
