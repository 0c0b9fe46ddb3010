/**
 * What a new user meets, through the real UI with the installed .vsix: the extension's page (its icon, and a README
 * whose screenshots load without the network: data: images), and the walkthrough "Run a WSGI app with Server 3",
 * whose buttons open the example's config and break it on purpose so its diagnostic and quick fix can be tried.
 */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { UiContext } from '../context';
import { webviewFrame } from '../workbench';

const WALKTHROUGH = 'Run a WSGI app with Server 3';

/**
 * F1 "Welcome: Open Walkthrough..." and pick ours in the second quick pick it opens, both with the keyboard: a
 * click on the pick's row can land on a hover left open under the mouse (CI once saw an extension row's tooltip
 * take every click for 30 s).
 */
async function openWalkthrough(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill('>Welcome: Open Walkthrough');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Walkthrough' }).first().waitFor();
  await page.keyboard.press('Enter');
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: WALKTHROUGH }).first();
  await pick.waitFor({ timeout: 15_000 });
  await input.fill(WALKTHROUGH); // the second pick's filter: ours becomes its first, active row
  await page
    .locator('.quick-input-list .monaco-list-row.focused', { hasText: WALKTHROUGH })
    .first()
    .waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** The extension's page: Extensions view, search, click. */
async function openExtensionPage(page: Page): Promise<void> {
  await page.keyboard.press('Control+Shift+X');
  const search = page.locator('.extensions-viewlet .suggest-input-container textarea').first();
  await search.waitFor({ timeout: 20_000 });
  await search.fill('@installed Server 3 Free Threads');
  const row = page
    .locator('.extensions-viewlet .monaco-list-row', { hasText: 'Server 3 Free Threads' })
    .first();
  await row.waitFor({ timeout: 20_000 });
  await row.click();
}

export default async function onboarding(page: Page, ctx: UiContext): Promise<void> {
  await ctx.step("the extension's page: its icon, and a README whose images load offline", async () => {
    await openExtensionPage(page);
    const icon = page.locator('.extension-editor .header .icon-container img').first();
    await icon.waitFor({ timeout: 20_000 });
    assert.ok(await icon.evaluate((img: HTMLImageElement) => img.naturalWidth > 0), 'the icon did not load');
    const readme = webviewFrame(page); // the page's README is the only webview open
    await readme.locator('h1', { hasText: 'Server 3 Free Threads' }).waitFor({ timeout: 20_000 });
    const images = readme.locator('img');
    await images.first().waitFor({ timeout: 10_000 });
    const loaded = await images.evaluateAll((all) =>
      (all as HTMLImageElement[]).map((img) => ({
        data: img.src.startsWith('data:image/png'),
        ok: img.naturalWidth > 0,
      })),
    );
    assert.ok(loaded.length >= 3, `only ${loaded.length} images in the README`);
    assert.deepEqual(
      loaded.filter((i) => !i.data || !i.ok),
      [],
      'an image of the README is not an inlined PNG, or did not load',
    );
  });

  await ctx.step('the walkthrough lists its four steps', async () => {
    await openWalkthrough(page);
    for (const step of [
      'Open the example',
      'Start the server',
      'Watch the metrics',
      'Break the config, then fix it',
    ])
      await page.locator('.getting-started-step', { hasText: step }).first().waitFor({ timeout: 15_000 });
  });

  await ctx.step('"Open the Example" opens the config (the workspace has one)', async () => {
    await page.locator('.getting-started-step', { hasText: 'Open the example' }).first().click();
    await page
      .locator('.getting-started-step a.button-link, .getting-started-step .monaco-button', {
        hasText: 'Open the Example',
      })
      .first()
      .click();
    await page
      .locator('.tabs-container .tab[aria-label*=".config_server"]')
      .first()
      .waitFor({ timeout: 15_000 });
  });

  await ctx.step('"Break the Config" makes PORT=80OO, underlined with its fix', async () => {
    await openWalkthrough(page);
    await page.locator('.getting-started-step', { hasText: 'Break the config' }).first().click();
    await page
      .locator('.getting-started-step .monaco-button', { hasText: 'Break the Config' })
      .first()
      .click();
    const line = page.locator('.monaco-editor .view-line', { hasText: 'PORT=80OO' }).first();
    await line.waitFor({ timeout: 15_000 });
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 15_000 });
  });
}
