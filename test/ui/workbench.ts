/**
 * Driving VS Code's workbench (code-server in Chromium) the way a user does: keyboard, command palette, status bar,
 * notifications, panels. Selectors are VS Code 1.100's; keep them here so a VS Code update touches one file.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_ROWS = '.quick-input-list .monaco-list-row';
export const STATUS_BAR = '#workbench\\.parts\\.statusbar';

/** Waits until the workbench is laid out and the explorer shows the workspace (the extension host is up by then). */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
  await page.locator(STATUS_BAR).waitFor({ timeout: timeoutMs });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: timeoutMs });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens the command palette with `query` typed in and returns the titles it offers (palette left open). */
async function openPalette(page: Page, query: string): Promise<string[]> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator(`${QUICK_INPUT} input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${query}`, { timeout: 5000 });
  try {
    await page.locator(QUICK_INPUT_ROWS).first().waitFor({ state: 'visible', timeout: 3000 });
  } catch {
    return []; // "No matching commands"
  }
  await page.waitForTimeout(100); // let the filter settle
  return (await page.locator(`${QUICK_INPUT_ROWS} .label-name`).allInnerTexts()).map((t) => t.trim());
}

/**
 * Titles of the palette's entries matching `query`, once all of `expected` are among them. Right after a window
 * opens, the extension's contributed commands are not in the palette yet (the extension host is still scanning),
 * and an open palette does not refresh, so this reopens it until they appear or `timeoutMs` passes.
 */
export async function waitForCommands(
  page: Page,
  query: string,
  expected: string[],
  timeoutMs = 20_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const titles = await openPalette(page, query);
    const missing = expected.filter((t) => !titles.includes(t));
    if (missing.length === 0) {
      await page.keyboard.press('Escape');
      return titles;
    }
    if (Date.now() > deadline) {
      await page.keyboard.press('Escape');
      throw new Error(
        `not in the command palette after ${timeoutMs} ms: ${missing.join(', ')} (offered: ${titles.join(' | ') || 'nothing'})`,
      );
    }
    await page.waitForTimeout(500);
  }
}

/**
 * F1, type the command's title, pick the row whose label is exactly `title` (e.g. "Server 3: Start", which must not
 * pick "Server 3: Restart"). Waits for the command to appear (see waitForCommands); throws if it never does.
 *
 * The palette closes whenever something else takes the focus (a webview that finishes loading, a view that
 * opens): then typing or clicking into it fails, and this opens it again, until `timeoutMs`. Once the click went
 * through it does not retry, so a command never runs twice.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exactLabel = new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`);
  const row = page
    .locator(QUICK_INPUT_ROWS)
    .filter({ has: page.locator('.label-name', { hasText: exactLabel }) })
    .first();
  let offered = 'nothing';
  for (;;) {
    let clicked = false;
    try {
      const titles = await openPalette(page, title);
      offered = titles.join(' | ') || 'nothing';
      if (titles.includes(title)) {
        await row.click({ timeout: 5000 });
        clicked = true;
      }
    } catch (err) {
      offered = `the palette closed before the click (${(err as Error).message.split('\n')[0]})`;
    }
    if (clicked) break;
    if (Date.now() > deadline) {
      await page.keyboard.press('Escape');
      throw new Error(
        `command "${title}" is not in the command palette after ${timeoutMs} ms (offered: ${offered})`,
      );
    }
    await page.waitForTimeout(500);
  }
  await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Ctrl+P, type a file name, Enter: opens the file in an editor. */
export async function openFile(page: Page, fileName: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator(`${QUICK_INPUT} input`);
  await input.waitFor({ state: 'visible' });
  await input.fill(fileName);
  await page.locator(QUICK_INPUT_ROWS).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator(`.tabs-container .tab[aria-label*="${fileName}"]`).first().waitFor();
}

/** The status bar entry whose text matches `text`. */
export function statusBarItem(page: Page, text: string | RegExp): Locator {
  return page.locator(`${STATUS_BAR} .statusbar-item`).filter({ hasText: text });
}

/** All status bar texts, for error messages. */
export async function statusBarTexts(page: Page): Promise<string[]> {
  const texts = await page.locator(`${STATUS_BAR} .statusbar-item`).allInnerTexts();
  return texts.map((t) => t.trim()).filter(Boolean);
}

/** Waits for a status bar entry matching `text`; on timeout says what the status bar showed instead. */
export async function waitForStatusBar(
  page: Page,
  text: string | RegExp,
  timeoutMs = 15_000,
): Promise<Locator> {
  const item = statusBarItem(page, text).first();
  try {
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    throw new Error(
      `no status bar item matching ${text}; the status bar shows: ${(await statusBarTexts(page)).join(' | ')}`,
    );
  }
  return item;
}

/** Texts of the notification toasts currently shown. */
export async function notificationTexts(page: Page): Promise<string[]> {
  return page
    .locator('.notifications-toasts .notification-toast .notification-list-item-message')
    .allInnerTexts();
}

/**
 * The DOM inside the active webview (VS Code nests it: iframe.webview > iframe#active-frame). With several webviews
 * open, pass the panel's title to pick its frame.
 */
export function webviewFrame(page: Page, title?: string): FrameLocator {
  // The visible one: a panel hidden behind another tab (the request panel behind the metrics panel) keeps its
  // iframe in the page.
  const outer = title ? `iframe.webview[title="${title}"]` : 'iframe.webview';
  return page.frameLocator(`${outer} >> visible=true`).frameLocator('iframe#active-frame');
}

/**
 * The visible text of the Output panel's editor (the channel shown last), non-breaking spaces normalised.
 * Monaco renders only the lines in view; an output channel scrolls to its end, so the newest lines are there.
 */
export async function outputPanelText(page: Page): Promise<string> {
  const lines = await page.locator('.panel .output-view .view-lines .view-line').allInnerTexts();
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

/** The titles the command palette offers for `query` right now (closed again afterwards). */
export async function paletteTitles(page: Page, query: string): Promise<string[]> {
  const titles = await openPalette(page, query);
  await page.keyboard.press('Escape');
  return titles;
}

/**
 * A code lens of the visible editor by its exact title without the `$(icon)` (a lens is an `a` in
 * `.codelens-decoration`; its codicon is an empty span inside, followed by a space and the title).
 */
export function codeLens(page: Page, title: string): Locator {
  const exact = new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`);
  return page.locator('.monaco-editor .codelens-decoration a').filter({ hasText: exact });
}

/** The texts of the visible editor's code lenses, in order. */
export async function codeLensTexts(page: Page): Promise<string[]> {
  const texts = await page.locator('.monaco-editor .codelens-decoration a').allInnerTexts();
  return texts.map((t) => t.replace(/\s+/g, ' ').trim());
}

/** An action of the active editor group's title bar by its label (its command's title). */
export function editorTitleAction(page: Page, label: string): Locator {
  return page.locator(`.editor-group-container.active .editor-actions .action-label[aria-label^="${label}"]`);
}
