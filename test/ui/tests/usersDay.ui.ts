/**
 * "The user's day", only through the real UI of VS Code (code-server + Chromium) with the installed .vsix:
 * open the config, F1 -> Server 3: Start, see the status bar say running, send real HTTP requests to the app and
 * find them in the access log (Server 3: Show Logs),
 * F1 -> Server 3: Show Live Metrics and watch the request count rise in the webview, see the server and its
 * threads in the Threads view, F1 -> Server 3: Stop, see it stopped and the port closed. A screenshot is taken after every step (.test-artifacts/screenshots/usersDay-*).
 *
 * DOM contract of the metrics webview: the header comment of extension/src/metricsPanel.ts.
 */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { isPortOpen } from '../../harness/freePort';
import type { UiContext } from '../context';
import { burst, httpGet } from '../../harness/http';
import { openFile, outputPanelText, runCommand, waitForStatusBar, webviewFrame } from '../workbench';

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The total request count from the panel's #summary line ("... · <r> requests"). */
async function requestsInPanel(page: Page): Promise<number | undefined> {
  const text = await webviewFrame(page).locator('#summary').innerText({ timeout: 2000 });
  const match = /([\d,]+)\s+requests?\b/.exec(text);
  return match ? Number(match[1].replace(/,/g, '')) : undefined;
}

export default async function usersDay(page: Page, ctx: UiContext): Promise<void> {
  const app = `http://127.0.0.1:${ctx.appPort}`;
  try {
    await ctx.step('open .config_server', () => openFile(page, '.config_server'));

    await ctx.step('F1 Server 3: Start', () => runCommand(page, 'Server 3: Start'));

    await ctx.step('status bar shows running', async () => {
      const item = await waitForStatusBar(page, /Server 3: running/, 30_000);
      const text = await item.innerText();
      assert.match(
        text,
        new RegExp(`:${ctx.appPort}\\b`),
        `status bar "${text}" does not show port ${ctx.appPort}`,
      );
    });

    await ctx.step('the app answers real HTTP', async () => {
      const res = await httpGet(`${app}/`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'Hello, world!');
      assert.equal(await burst(`${app}/`, 20), 20, 'not all of 20 requests answered 200');
    });

    await ctx.step('F1 Server 3: Show Logs has the access log lines', async () => {
      await runCommand(page, 'Server 3: Show Logs');
      await until(
        async () => /"GET \/ HTTP\/1\.1" 200/.test(await outputPanelText(page)),
        10_000,
        `no access log line for GET / in the Output panel, which shows:\n${await outputPanelText(page)}`,
      );
    });

    await ctx.step('F1 Server 3: Show Live Metrics', async () => {
      await runCommand(page, 'Server 3: Show Live Metrics');
      await webviewFrame(page).locator('#summary').waitFor({ state: 'visible', timeout: 15_000 });
    });

    let before = 0;
    await ctx.step('metrics panel shows the requests so far', async () => {
      await until(
        async () => ((await requestsInPanel(page).catch(() => undefined)) ?? 0) >= 21,
        15_000,
        "the panel's #summary never showed >= 21 requests",
      );
      before = (await requestsInPanel(page)) ?? 0;
      ctx.log(`panel: ${before} requests`);
    });

    await ctx.step('request count rises with more traffic', async () => {
      assert.equal(await burst(`${app}/`, 50), 50, 'not all of 50 requests answered 200');
      await until(
        async () => ((await requestsInPanel(page).catch(() => undefined)) ?? 0) >= before + 50,
        15_000,
        `the panel's request count did not rise from ${before} to >= ${before + 50}`,
      );
      ctx.log(`panel: ${await requestsInPanel(page)} requests`);
    });

    await ctx.step('Threads view lists the server and its threads', async () => {
      // DOM contract: the header comment of extension/src/threadsTree.ts (aria label "<label>: <description>").
      await runCommand(page, 'Server 3: Focus on Threads View');
      const server = page.locator('.monaco-list-row[aria-label^=".config_server: running"]').first();
      await server.waitFor({ timeout: 10_000 });
      if ((await server.getAttribute('aria-expanded')) === 'false') await server.click();
      for (const thread of ['accept', 'read', 'app-1', 'close']) {
        await page.locator(`.monaco-list-row[aria-label^="${thread}:"]`).first().waitFor({ timeout: 10_000 });
      }
    });

    await ctx.step('F1 Server 3: Stop', () => runCommand(page, 'Server 3: Stop'));

    await ctx.step('status bar shows stopped and the port is closed', async () => {
      await waitForStatusBar(page, /Server 3: stopped/, 15_000);
      await until(async () => !(await isPortOpen(ctx.appPort)), 10_000, `port ${ctx.appPort} still open`);
    });
  } finally {
    // A failure half-way must not leave the app running (its extension host outlives this browser window).
    if (await isPortOpen(ctx.appPort)) await runCommand(page, 'Server 3: Stop').catch(() => undefined);
  }
}
