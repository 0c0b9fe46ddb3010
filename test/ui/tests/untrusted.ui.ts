/**
 * Workspace Trust through the real UI: the user answers "No, I don't trust the authors", so the window is in
 * Restricted Mode. Starting the server (which would import the workspace's Python code) must be refused with a
 * message, and nothing may listen on the app's port; editing the config still gets diagnostics (the extension's
 * "limited" support for untrusted workspaces).
 */
import type { Page } from 'playwright-core';
import { isPortOpen } from '../../harness/freePort';
import type { UiContext, UiTestOptions } from '../context';
import { notificationTexts, openFile, runCommand, waitForStatusBar } from '../workbench';

export const options: UiTestOptions = { workspaceTrust: true };

export default async function untrusted(page: Page, ctx: UiContext): Promise<void> {
  await ctx.step("answer the trust prompt: No, I don't trust the authors", async () => {
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 20_000 });
    await dialog.getByRole('button', { name: /No, I don.t trust/ }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  await ctx.step('the window is in Restricted Mode', () => waitForStatusBar(page, /Restricted Mode/));

  await ctx.step('F1 Server 3: Start is refused with a message', async () => {
    await runCommand(page, 'Server 3: Start');
    const deadline = Date.now() + 10_000;
    let texts: string[] = [];
    while (Date.now() < deadline) {
      texts = await notificationTexts(page);
      if (texts.some((t) => /not trusted/i.test(t))) return;
      await page.waitForTimeout(200);
    }
    throw new Error(`no "not trusted" notification; notifications: ${texts.join(' | ') || 'none'}`);
  });

  await ctx.step('nothing listens on the app port', async () => {
    await page.waitForTimeout(2000); // a server that was started anyway would be listening by now
    if (await isPortOpen(ctx.appPort))
      throw new Error(`port ${ctx.appPort} is open in an untrusted workspace`);
  });

  await ctx.step('the config still gets diagnostics', async () => {
    await openFile(page, '.config_server');
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\nPORT=99999\n');
    await page.keyboard.press('Control+Shift+M');
    await page
      .locator('.markers-panel .monaco-list-row', { hasText: /out of range/i })
      .first()
      .waitFor({ timeout: 15_000 });
  });
}
