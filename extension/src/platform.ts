/**
 * The runtime needs Linux (epoll). On Windows or macOS without a Linux remote, say to reopen in WSL and offer
 * the Remote-WSL command when that extension is there. extensionKind "workspace" means this code runs where
 * the workspace is, so inside WSL process.platform is already 'linux'.
 */
import * as vscode from 'vscode';

export function isSupportedPlatform(): boolean {
  return process.platform === 'linux';
}

/** Shows why nothing can start here; returns false so callers can `if (!(await ensurePlatform())) return`. */
export async function ensurePlatform(): Promise<boolean> {
  if (isSupportedPlatform()) return true;
  const commands = await vscode.commands.getCommands(true);
  const canReopen = commands.includes('remote-wsl.reopenInWSL');
  const message =
    `Server 3 runs on Linux only (it uses epoll); this window runs on ${process.platform}. ` +
    (canReopen
      ? 'Reopen the folder in WSL to start the server.'
      : 'Install the WSL extension and reopen the folder in WSL.');
  const choice = await vscode.window.showErrorMessage(message, ...(canReopen ? ['Reopen in WSL'] : []));
  if (choice === 'Reopen in WSL') await vscode.commands.executeCommand('remote-wsl.reopenInWSL');
  return false;
}
