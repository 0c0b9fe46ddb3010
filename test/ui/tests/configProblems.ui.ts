/**
 * A broken config through the real UI: opened in the editor, its mistakes are listed in the Problems panel with
 * the language server's codes, and a quick fix picked from the editor's light bulb menu (Ctrl+.) removes one.
 *
 * The Problems panel and quick-fix selectors are VS Code 1.100's (kept here, next to the one test that uses them).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { UiContext } from '../context';
import { openFile } from '../workbench';

const PROBLEM_ROWS = '.markers-panel .monaco-list-row';
const QUICK_FIX_ROWS = '.action-widget .monaco-list-row';

const BROKEN = 'HOST=127.0.0.1\nport=8000\nSOCKET_BACKLOG=0\nAPP=hello.wsgi\nDOMAIN=localhost\n';

async function problemTexts(page: Page): Promise<string[]> {
  return (await page.locator(PROBLEM_ROWS).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

/** Polls the Problems panel until `check` accepts its rows (or throws with what it shows). */
async function waitForProblems(
  page: Page,
  check: (rows: string[]) => boolean,
  what: string,
): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  let rows: string[] = [];
  while (Date.now() < deadline) {
    rows = await problemTexts(page);
    if (check(rows)) return rows;
    await page.waitForTimeout(250);
  }
  throw new Error(`Problems panel never showed ${what}; it shows: ${JSON.stringify(rows)}`);
}

/** Picks an entry of the open quick-fix menu with the keyboard (its overlay swallows mouse clicks). */
async function pickQuickFix(page: Page, title: string): Promise<void> {
  await page.locator(QUICK_FIX_ROWS).filter({ hasText: title }).first().waitFor({ timeout: 10_000 });
  for (let i = 0; i < 20; i++) {
    const focused = await page.locator(`${QUICK_FIX_ROWS}.focused`).allInnerTexts();
    if (focused.some((t) => t.includes(title))) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('ArrowDown');
  }
  const offered = await page.locator(QUICK_FIX_ROWS).allInnerTexts();
  throw new Error(`could not focus quick fix "${title}" (offered: ${offered.join(' | ')})`);
}

export default async function configProblems(page: Page, ctx: UiContext): Promise<void> {
  fs.writeFileSync(path.join(ctx.workspaceDir, 'broken.server3'), BROKEN);
  try {
    await ctx.step('open broken.server3', () => openFile(page, 'broken.server3'));
    await ctx.step('Problems panel lists its mistakes with their codes', async () => {
      await page.keyboard.press('Control+Shift+M');
      await page.locator('.markers-panel').waitFor({ state: 'visible', timeout: 10_000 });
      const has = (rows: string[], text: string) => rows.some((r) => r.includes(text));
      const rows = await waitForProblems(
        page,
        (r) => has(r, 'wrong-case-key') && has(r, 'missing-required') && has(r, 'out-of-range'),
        'wrong-case-key, missing-required and out-of-range',
      );
      assert.ok(has(rows, 'write PORT, not port'), `no message for port: ${JSON.stringify(rows)}`);
      assert.ok(has(rows, 'SOCKET_BACKLOG must be an integer from 1 to 2147483647'), JSON.stringify(rows));
      assert.ok(has(rows, 'server3'), `the source "server3" is not shown: ${JSON.stringify(rows)}`);
    });
    await ctx.step('Ctrl+. on "port" offers "Change port to PORT", which fixes it', async () => {
      // Put the cursor on line 2 ("port=8000") with Ctrl+G, then open the quick fixes.
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type('2');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Control+.');
      await pickQuickFix(page, 'Change port to PORT');
      await waitForProblems(
        page,
        (r) => !r.some((x) => x.includes('wrong-case-key') || x.includes('missing-required')),
        'the wrong-case and missing PORT problems gone',
      );
      const rows = await problemTexts(page);
      assert.ok(
        rows.some((r) => r.includes('out-of-range')),
        `out-of-range should remain: ${JSON.stringify(rows)}`,
      );
      const line2 = await page.locator('.monaco-editor .view-line').nth(1).innerText();
      assert.equal(line2.replace(/\u00a0/g, ' '), 'PORT=8000');
    });
  } finally {
    await page.keyboard.press('Escape');
    fs.rmSync(path.join(ctx.workspaceDir, 'broken.server3'), { force: true });
  }
}
