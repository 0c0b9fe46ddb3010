/**
 * The installed .vsix shows up in the real UI: its commands are in the command palette and a .config_server file
 * opens in the "Server 3 Config" language mode.
 */
import type { Page } from 'playwright-core';
import type { UiContext } from '../context';
import { openFile, waitForCommands, waitForStatusBar } from '../workbench';

export default async function smoke(page: Page, ctx: UiContext): Promise<void> {
  await ctx.step('command palette lists the Server 3 commands', async () => {
    const expected = [
      'Server 3: Start',
      'Server 3: Stop',
      'Server 3: Restart',
      'Server 3: Show Live Metrics',
    ];
    await waitForCommands(page, 'Server 3:', expected);
  });
  await ctx.step('.config_server opens as Server 3 Config', async () => {
    await openFile(page, '.config_server');
    await waitForStatusBar(page, 'Server 3 Config');
  });
}
