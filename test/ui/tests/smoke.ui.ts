/**
 * The installed .vsix shows up in the real UI: its commands are in the command palette (Stop, Restart and Open in
 * Browser only while a server runs: none does here) and a .config_server file opens in the "Server 3 Config"
 * language mode.
 */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { UiContext } from '../context';
import { openFile, paletteTitles, waitForCommands, waitForStatusBar } from '../workbench';

export default async function smoke(page: Page, ctx: UiContext): Promise<void> {
  await ctx.step(
    'command palette lists the Server 3 commands, not those that need a running server',
    async () => {
      const expected = ['Server 3: Start', 'Server 3: Show Live Metrics', 'Server 3: Select Interpreter'];
      await waitForCommands(page, 'Server 3:', expected);
      const offered = await paletteTitles(page, 'Server 3:');
      for (const hidden of ['Server 3: Stop', 'Server 3: Restart', 'Server 3: Open in Browser'])
        assert.ok(
          !offered.includes(hidden),
          `"${hidden}" is offered with no server running: ${offered.join(' | ')}`,
        );
    },
  );
  await ctx.step('.config_server opens as Server 3 Config', async () => {
    await openFile(page, '.config_server');
    await waitForStatusBar(page, 'Server 3 Config');
  });
}
