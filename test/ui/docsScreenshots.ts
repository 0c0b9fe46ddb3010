/**
 * Screenshots for the README, taken through the real UI with the packaged extension (not part of `npm run test:ui`:
 * it runs traffic for a while on purpose). `node out/test/ui/docsScreenshots.js` writes:
 *  - docs/screenshots/metrics.png: the live metrics panel under ~15 s of light, varying loopback traffic;
 *  - docs/screenshots/diagnostics.png: config mistakes underlined in the editor, the quick fixes of one, and the
 *    Problems panel;
 *  - docs/screenshots/codelens.png: the top of a config whose server runs: its code lens (Stop · Restart · Open ·
 *    req/s) and the editor title's Stop button (a crop of the editor).
 * The extension's README (extension/README.md) inlines them into the .vsix.
 * It fails (exit 1) if a piece it shows is not there, so it never commits a screenshot of a broken state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../harness/browser';
import { ensureVsix } from '../harness/build';
import { REPO_ROOT, startCodeServer } from '../harness/codeServer';
import { copyWorkspace } from '../harness/workspace';
import { httpGet } from '../harness/http';
import {
  codeLens,
  codeLensTexts,
  openFile,
  runCommand,
  waitForStatusBar,
  webviewFrame,
  waitForWorkbench,
} from './workbench';

const OUT_DIR = path.join(REPO_ROOT, 'docs', 'screenshots');
const TRAFFIC_SECONDS = Number(process.env.DOCS_TRAFFIC_SECONDS ?? 15);

/**
 * Light, continuous traffic whose rate drifts (a slow sine), so the charts show a shape rather than bursts: two
 * loops on / and one on /sleep, each pausing between requests. 2 shared cores: keep it small. Runs until stop().
 */
function continuousTraffic(appPort: number): { stop(): Promise<void> } {
  let running = true;
  const started = Date.now();
  const pause = (): number => 4 + 12 * (1 + Math.sin((Date.now() - started) / 2500));
  const loop = async (pathname: string): Promise<void> => {
    while (running) {
      await httpGet(`http://127.0.0.1:${appPort}${pathname}`).catch(() => undefined);
      await new Promise((r) => setTimeout(r, pause()));
    }
  };
  const loops = [loop('/'), loop('/'), loop('/sleep?ms=15')];
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function metricsScreenshot(page: Page, appPort: number): Promise<void> {
  await openFile(page, '.config_server');
  await runCommand(page, 'Server 3: Start');
  await waitForStatusBar(page, /Server 3: running/, 30_000);
  await runCommand(page, 'Server 3: Show Live Metrics');
  await webviewFrame(page).locator('#summary').waitFor({ state: 'visible', timeout: 15_000 });
  await runCommand(page, 'Server 3: Focus on Threads View'); // the tree beside the panel: both live views at once
  const traffic = continuousTraffic(appPort);
  try {
    await page.waitForTimeout(TRAFFIC_SECONDS * 1000);
    await webviewFrame(page).locator('#thread-rows tr').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(OUT_DIR, 'metrics.png') }); // while the traffic still runs
  } finally {
    await traffic.stop();
  }
  await runCommand(page, 'Server 3: Stop');
  await waitForStatusBar(page, /Server 3: stopped/, 15_000);
  await runCommand(page, 'View: Close All Editors');
}

/** Starts the server from the code lens, lets some traffic show as a rate, and crops the top of the editor. */
async function codeLensScreenshot(page: Page, appPort: number): Promise<void> {
  await openFile(page, '.config_server');
  await codeLens(page, 'Start').click();
  await waitForStatusBar(page, /Server 3: running/, 30_000);
  const traffic = continuousTraffic(appPort);
  try {
    const deadline = Date.now() + 20_000;
    while (!/^[1-9]/.test((await codeLensTexts(page))[3] ?? '')) {
      if (Date.now() > deadline) throw new Error(`no rate in the code lens: ${await codeLensTexts(page)}`);
      await page.waitForTimeout(250);
    }
    const editor = await page.locator('.editor-group-container.active').boundingBox();
    if (!editor) throw new Error('no editor group');
    const clip = { x: editor.x, y: editor.y, width: Math.min(editor.width, 900), height: 220 };
    await page.screenshot({ path: path.join(OUT_DIR, 'codelens.png'), clip });
  } finally {
    await traffic.stop();
  }
  await codeLens(page, 'Stop').click();
  await waitForStatusBar(page, /Server 3: stopped/, 15_000);
  await runCommand(page, 'View: Close All Editors');
}

/**
 * Replaces the editor's text with a config that has typical mistakes, opens the Problems panel and the quick
 * fixes of the bad PORT.
 */
async function diagnosticsScreenshot(page: Page): Promise<void> {
  await openFile(page, '.config_server');
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(
    [
      '# Server 3 config for the hello example',
      'HOST=127.0.0.1',
      'PORT=99999',
      'SOCKET_BACKLOG=400',
      'APP=hello.wsgi',
      'DOMAIN=localhost',
      'WORKER=2',
      '',
    ].join('\n'),
  );
  await page.keyboard.press('Control+Shift+M');
  const rows = page.locator('.markers-panel .monaco-list-row');
  await rows.nth(1).waitFor({ timeout: 15_000 });
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.keyboard.type('3');
  await page.keyboard.press('Enter');
  await page.keyboard.press('End'); // on the bad value's end
  // The light bulb needs the diagnostics of the typed text: ask again if the first Ctrl+. came too early.
  const menu = page.locator('.action-widget .monaco-list-row').first();
  for (let attempt = 0; !(await menu.isVisible()); attempt++) {
    if (attempt === 5) throw new Error('the quick fixes of PORT=99999 did not open');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+.');
    await menu.waitFor({ timeout: 2000 }).catch(() => undefined);
  }
  await page.waitForTimeout(500); // let the squiggles paint
  await page.screenshot({ path: path.join(OUT_DIR, 'diagnostics.png') });
}

async function main(): Promise<number> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const vsix = ensureVsix();
  const ws = await copyWorkspace(undefined, 'hello');
  const cs = await startCodeServer({ workspace: ws.dir, vsixes: [vsix] });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${cs.origin}/?folder=${encodeURIComponent(ws.dir)}`);
    await waitForWorkbench(page);
    await codeLensScreenshot(page, ws.appPort);
    console.log(`docs: wrote ${path.relative(REPO_ROOT, path.join(OUT_DIR, 'codelens.png'))}`);
    await metricsScreenshot(page, ws.appPort);
    console.log(`docs: wrote ${path.relative(REPO_ROOT, path.join(OUT_DIR, 'metrics.png'))}`);
    await diagnosticsScreenshot(page);
    console.log(`docs: wrote ${path.relative(REPO_ROOT, path.join(OUT_DIR, 'diagnostics.png'))}`);
    return 0;
  } catch (err) {
    console.error(`docs: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await browser.close().catch(() => undefined);
    await cs.stop();
    ws.remove();
  }
}

main().then((code) => process.exit(code));
