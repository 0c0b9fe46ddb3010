/** Small helpers shared by the host tests (they run inside the extension host, with the full vscode API). */
import * as vscode from 'vscode';

/** Prints from a host test (plain console.log output is mixed with the workbench's log and hidden). */
export { testLog as log } from './index';

export const EXTENSION_ID = 'server3.server3-free-threads';

/** The scratch copy of examples/hello that test/host/run.ts opened (its .config_server has a free PORT). */
export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return folder.uri.fsPath;
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Real HTTP from the extension host to the app under test (loopback only): the same helper the UI tests use. */
export { httpGet, type HttpResult } from '../../harness/http';
