/**
 * A pipeline thread of the server dies, and the user sees it in VS Code: a notification naming the thread and
 * the cause, the Threads view's row for the dead thread (traceback as its tooltip; a click shows it in the
 * output channel), and the server started again by the supervisor, serving.
 *
 * How the thread dies, without any test hook: the workspace's app has a route that breaks the running
 * server's read thread from inside (it replaces the read thread's batch list with an object that raises when
 * the loop looks at it), as a buggy app or library that reaches into the server could. The runtime turns that
 * into exit code 5 (see server-runtime/python/Server_3_free_threads/stage.py) instead of a half-dead server.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { isPortOpen } from '../../harness/freePort';
import { httpGet } from '../../harness/http';
import type { UiContext } from '../context';
import { notificationTexts, openFile, outputPanelText, runCommand, waitForStatusBar } from '../workbench';

const SABOTAGE_APP = `"""Hello, plus /sabotage: breaks the server's read thread from inside (a UI test of a stage death)."""
import threading


class _Boom:
    def __bool__(self):
        raise RuntimeError("the app broke the read thread on purpose")


def application(environ, start_response):
    if environ["PATH_INFO"] == "/sabotage":
        for thread in threading.enumerate():
            if thread.name == "read":
                thread.dispatch = _Boom()
    body = b"Hello, world!"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`;

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default async function stageDeath(page: Page, ctx: UiContext): Promise<void> {
  const app = `http://127.0.0.1:${ctx.appPort}`;
  fs.writeFileSync(path.join(ctx.workspaceDir, 'sabotage.py'), SABOTAGE_APP);
  const configPath = path.join(ctx.workspaceDir, '.config_server');
  fs.writeFileSync(configPath, fs.readFileSync(configPath, 'utf8').replace(/^APP=.*$/m, 'APP=sabotage'));
  try {
    await ctx.step('start the server', async () => {
      await openFile(page, '.config_server');
      await runCommand(page, 'Server 3: Start');
      await waitForStatusBar(page, /Server 3: running/, 30_000);
      assert.equal((await httpGet(`${app}/`)).body, 'Hello, world!');
    });

    await ctx.step('the app breaks the read thread', async () => {
      await httpGet(`${app}/sabotage`).catch(() => undefined);
    });

    await ctx.step('a notification names the dead thread and its cause', async () => {
      await until(
        async () =>
          (await notificationTexts(page)).some((t) =>
            /the read thread died \(RuntimeError: the app broke the read thread on purpose\)/.test(t),
          ),
        20_000,
        'no notification about the read thread',
      );
    });

    await ctx.step('the server was started again and serves', async () => {
      await until(
        async () => (await httpGet(`${app}/`).catch(() => ({ body: '' }))).body === 'Hello, world!',
        20_000,
        'the server did not come back',
      );
      await waitForStatusBar(page, /Server 3: running/, 20_000);
    });

    await ctx.step('the Threads view shows the dead thread with its traceback', async () => {
      await runCommand(page, 'Server 3: Focus on Threads View');
      const row = page.locator('.monaco-list-row[aria-label^="read: died: RuntimeError"]').first();
      await row.waitFor({ timeout: 15_000 });
      assert.match((await row.getAttribute('aria-label')) ?? '', /restarted at \d\d:\d\d:\d\d/);
      // The row's tooltip is the traceback; clicking the row shows it in the output channel.
      await row.click();
      let shown = '';
      await until(
        async () =>
          /read_thread\.py", line \d+, in loop[\s\S]*RuntimeError: the app broke/.test(
            (shown = await outputPanelText(page)),
          ),
        10_000,
        'clicking the dead row did not show the traceback',
      ).catch((error: Error) => {
        throw new Error(`${error.message}; the Output panel shows:\n${shown}`);
      });
    });
  } finally {
    if (await isPortOpen(ctx.appPort)) await runCommand(page, 'Server 3: Stop').catch(() => undefined);
  }
}
