/**
 * From the config file to a running server in one click, without the command palette, through the real UI:
 * open .config_server, click the code lens "Start", see it running (the lens turns into Stop · Restart · Open
 * · N req/s, the status bar says running, the editor title shows Stop), click "Open http://127.0.0.1:PORT" and
 * get the app in a new browser tab, then stop it with the editor title's Stop button. The palette offers Stop
 * only while it runs. Screenshots after each step (.test-artifacts/screenshots/oneClick-*).
 */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { isPortOpen } from '../../harness/freePort';
import { burst } from '../../harness/http';
import type { UiContext } from '../context';
import {
  codeLens,
  codeLensTexts,
  editorTitleAction,
  openFile,
  paletteTitles,
  runCommand,
  waitForStatusBar,
} from '../workbench';

async function until(check: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${await what()} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default async function oneClick(page: Page, ctx: UiContext): Promise<void> {
  const url = `http://127.0.0.1:${ctx.appPort}`;
  const lenses = async () => `the code lenses read ${JSON.stringify(await codeLensTexts(page))}`;
  try {
    await ctx.step('open .config_server: the code lens reads Start', async () => {
      await openFile(page, '.config_server');
      await codeLens(page, 'Start').waitFor({ timeout: 30_000 });
      await editorTitleAction(page, 'Start Server 3').waitFor({ timeout: 10_000 });
    });

    await ctx.step('click Start in the code lens: it runs', async () => {
      await codeLens(page, 'Start').click();
      await waitForStatusBar(page, /Server 3: running/, 30_000);
      await until(async () => (await codeLensTexts(page))[0] === 'Stop', 15_000, lenses);
      const texts = await codeLensTexts(page);
      assert.deepEqual(texts.slice(0, 3), ['Stop', 'Restart', `Open ${url}`]);
      assert.match(texts[3], /req\/s$/);
      assert.ok(await isPortOpen(ctx.appPort), `nothing listens on ${ctx.appPort}`);
    });

    await ctx.step('the editor title shows Stop, the palette offers Stop', async () => {
      await editorTitleAction(page, 'Stop Server 3').waitFor({ timeout: 10_000 });
      assert.equal(await editorTitleAction(page, 'Start Server 3').count(), 0, 'Start is still in the title');
      assert.ok((await paletteTitles(page, 'Server 3: Stop')).includes('Server 3: Stop'));
    });

    await ctx.step('traffic shows as a rate in the code lens', async () => {
      const rate = async () => Number(/^([0-9.]+)/.exec((await codeLensTexts(page))[3] ?? '')?.[1] ?? 0);
      await until(
        async () => {
          await burst(`${url}/`, 10);
          return (await rate()) > 0;
        },
        20_000,
        lenses,
      );
    });

    await ctx.step(`click Open ${url}: the app opens in a new tab`, async () => {
      const opened = page.context().waitForEvent('page', { timeout: 15_000 });
      await codeLens(page, `Open ${url}`).click();
      // VS Code may ask before it opens an external site; loopback is usually trusted.
      const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ });
      if (await confirm.isVisible().catch(() => false)) await confirm.click();
      const tab = await opened;
      await tab.waitForLoadState('domcontentloaded');
      ctx.log(`opened ${tab.url()}`);
      assert.match(await tab.locator('body').innerText(), /Hello, world!/);
      await tab.close();
    });

    await ctx.step("click the editor title's Stop: it stops", async () => {
      await editorTitleAction(page, 'Stop Server 3').click();
      await waitForStatusBar(page, /Server 3: stopped/, 20_000);
      await until(
        async () => !(await isPortOpen(ctx.appPort)),
        10_000,
        async () => 'the port is still open',
      );
      await codeLens(page, 'Start').waitFor({ timeout: 10_000 });
      await editorTitleAction(page, 'Start Server 3').waitFor({ timeout: 10_000 });
      const offered = await paletteTitles(page, 'Server 3: Stop');
      assert.ok(!offered.includes('Server 3: Stop'), `Stop is still offered: ${offered.join(' | ')}`);
    });
  } finally {
    if (await isPortOpen(ctx.appPort)) await runCommand(page, 'Server 3: Stop').catch(() => undefined);
  }
}
