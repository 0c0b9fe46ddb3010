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

/**
 * F1, type the command's title, pick the row whose label is exactly `title` (e.g. "Server 3: Start", which must not
 * pick "Server 3: Restart"). Throws if the command is not in the palette.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 10_000): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator(`${QUICK_INPUT} input`);
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(`>${title}`);
  const row = page
    .locator(QUICK_INPUT_ROWS)
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }) })
    .first();
  try {
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    const offered = await page.locator(`${QUICK_INPUT_ROWS} .label-name`).allInnerTexts();
    await page.keyboard.press('Escape');
    throw new Error(
      `command "${title}" is not in the command palette (offered: ${offered.join(' | ') || 'nothing'})`,
    );
  }
  await row.click();
  await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Titles of the command palette's entries that contain `text` (e.g. "Server 3:"). */
export async function listCommands(page: Page, text: string): Promise<string[]> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  await page.locator(`${QUICK_INPUT} input`).fill(`>${text}`);
  await page.locator(QUICK_INPUT_ROWS).first().waitFor({ state: 'visible', timeout: 10_000 });
  const titles = await page.locator(`${QUICK_INPUT_ROWS} .label-name`).allInnerTexts();
  await page.keyboard.press('Escape');
  return titles.map((t) => t.trim());
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
  const outer = title ? `iframe.webview[title="${title}"]` : 'iframe.webview';
  return page.frameLocator(outer).frameLocator('iframe#active-frame');
}

/**
 * The visible text of the Output panel's editor (the channel shown last), non-breaking spaces normalised.
 * Monaco renders only the lines in view; an output channel scrolls to its end, so the newest lines are there.
 */
export async function outputPanelText(page: Page): Promise<string> {
  const lines = await page.locator('.panel .output-view .view-lines .view-line').allInnerTexts();
  return lines.join('\n').replace(/\u00a0/g, ' ');
}
