/**
 * The server on the free-threaded CPython 3.13t (built by scripts/setup.sh), and what the user sees of it in
 * VS Code: "Server 3: Select Interpreter" offers it (marked free-threaded) and writes server3.pythonPath, the
 * Threads view says "GIL off", the status bar tooltip names Python and the GIL, and the metrics panel's
 * header says "Python 3.13.x · GIL off" while its CPU chart and summary show the process's cores busy.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { FT_PYTHON } from '../../harness/freeThreaded';
import { isPortOpen } from '../../harness/freePort';
import { burst } from '../../harness/http';
import type { UiContext } from '../context';
import { openFile, runCommand, waitForStatusBar, webviewFrame } from '../workbench';

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default async function freeThreaded(page: Page, ctx: UiContext): Promise<void> {
  const app = `http://127.0.0.1:${ctx.appPort}`;
  assert.ok(fs.existsSync(FT_PYTHON), `no ${FT_PYTHON}: run bash scripts/setup.sh`);
  try {
    await ctx.step('Select Interpreter offers the free-threaded build and sets it', async () => {
      await openFile(page, '.config_server');
      await runCommand(page, 'Server 3: Select Interpreter');
      const row = page
        .locator('.quick-input-list .monaco-list-row')
        .filter({ hasText: /Python 3\.13\.\d+ \(free-threaded\)/ })
        .first();
      await row.waitFor({ timeout: 20_000 });
      await row.click();
      const settings = path.join(ctx.workspaceDir, '.vscode', 'settings.json');
      await until(
        async () => fs.existsSync(settings) && /python3\.13t/.test(fs.readFileSync(settings, 'utf8')),
        10_000,
        'server3.pythonPath was not written to .vscode/settings.json',
      );
    });

    await ctx.step('start it: the status bar tooltip names Python and the GIL', async () => {
      await runCommand(page, 'Server 3: Start');
      const item = await waitForStatusBar(page, /Server 3: running/, 30_000);
      await item.hover();
      await page
        .locator('.monaco-hover')
        .filter({ hasText: /Python 3\.13\.\d+, GIL off/ })
        .first()
        .waitFor({ timeout: 10_000 });
    });

    await ctx.step('the Threads view says GIL off', async () => {
      await runCommand(page, 'Server 3: Focus on Threads View');
      await page
        .locator('.monaco-list-row[aria-label^=".config_server: running"][aria-label*="GIL off"]')
        .first()
        .waitFor({ timeout: 15_000 });
    });

    await ctx.step('the metrics panel shows Python, the GIL and the cores busy', async () => {
      await runCommand(page, 'Server 3: Show Live Metrics');
      const frame = webviewFrame(page);
      assert.equal(await burst(`${app}/`, 200), 200, 'not all of 200 requests answered 200');
      await until(
        async () =>
          /^Python 3\.13\.\d+ · GIL off$/.test(
            (
              await frame
                .locator('#server-python')
                .innerText({ timeout: 2000 })
                .catch(() => '')
            ).trim(),
          ),
        20_000,
        '#server-python never said "Python 3.13.x · GIL off"',
      );
      await until(
        async () =>
          /CPU \d+\.\d\d cores/.test(
            await frame
              .locator('#summary')
              .innerText()
              .catch(() => ''),
          ),
        20_000,
        '#summary shows no CPU cores',
      );
      await frame.locator('#chart-cpu').waitFor({ state: 'visible', timeout: 5000 });
    });
  } finally {
    if (await isPortOpen(ctx.appPort)) await runCommand(page, 'Server 3: Stop').catch(() => undefined);
  }
}
