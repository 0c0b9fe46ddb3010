/**
 * What every UI test gets besides the Playwright page: where things are, and small conveniences that make failures
 * readable (named steps with a screenshot after each one).
 *
 * A UI test is a file test/ui/tests/<name>.ui.ts whose default export is `async (page, ctx) => { ... }`; run.ts
 * opens ctx.workspaceDir in a fresh browser window, waits for the workbench, and then calls it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS_DIR } from '../harness/artifacts';

/** The default export of a test/ui/tests/*.ui.ts file. */
export type UiTest = (page: Page, ctx: UiContext) => Promise<void>;

/** Optional `export const options: UiTestOptions` of a test file. */
export interface UiTestOptions {
  /** Run in a code-server with Workspace Trust on (default: off, every folder trusted). */
  workspaceTrust?: boolean;
}

export interface UiContext {
  /** File name of the test without .ui.js, e.g. "usersDay". */
  testName: string;
  /** code-server's origin, http://127.0.0.1:PORT */
  origin: string;
  /** Scratch copy of examples/hello opened in this window; its .config_server listens on appPort. */
  workspaceDir: string;
  /** The free loopback port written into the workspace's .config_server (the app's port once started). */
  appPort: number;
  /** Saves .test-artifacts/screenshots/<testName>-<nn>-<label>.png and returns its path. */
  screenshot(label: string): Promise<string>;
  /**
   * Runs one named step of the scenario, prints it, takes a screenshot after it (also when it fails) and, on
   * failure, rethrows with the step's name so the report says which piece is missing.
   */
  step<T>(label: string, action: () => Promise<T>): Promise<T>;
  log(...args: unknown[]): void;
}

export function createContext(
  page: Page,
  fields: Pick<UiContext, 'testName' | 'origin' | 'workspaceDir' | 'appPort'>,
): UiContext {
  let shots = 0;
  const screenshot = async (label: string): Promise<string> => {
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const safe = label.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
    const file = path.join(
      SCREENSHOTS_DIR,
      `${fields.testName}-${String(++shots).padStart(2, '0')}-${safe}.png`,
    );
    await page.screenshot({ path: file });
    return file;
  };
  const log = (...args: unknown[]): void => console.log(`    [${fields.testName}]`, ...args);
  const step = async <T>(label: string, action: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      const result = await action();
      log(`✔ ${label} (${Date.now() - started} ms)`);
      await screenshot(label).catch(() => undefined);
      return result;
    } catch (err) {
      log(`✘ ${label} (${Date.now() - started} ms)`);
      await screenshot(`FAILED-${label}`).catch(() => undefined);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`step "${label}" failed: ${message}`, { cause: err });
    }
  };
  return { ...fields, screenshot, step, log };
}
