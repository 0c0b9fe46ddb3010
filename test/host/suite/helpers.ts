/** Small helpers shared by the host tests (they run inside the extension host, with the full vscode API). */
import * as http from 'node:http';
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

export interface HttpResult {
  status: number;
  body: string;
}

/** A real HTTP GET (from the extension host) to a loopback URL. */
export function httpGet(url: string, timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
