/**
 * Where a config document lives: its folder (APP is imported relative to it) and the workspace folder
 * holding it. Only file: URIs have a place; others (untitled, virtual) get text-only checks.
 */
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DocumentPlace {
  configDir?: string;
  workspaceDir?: string;
}

export function filePath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function documentPlace(uri: string, workspaceFolders: string[]): DocumentPlace {
  const path = filePath(uri);
  if (!path) return {};
  const holders = workspaceFolders.filter((w) => path.startsWith(w.endsWith(sep) ? w : w + sep));
  const workspaceDir = holders.sort((a, b) => b.length - a.length)[0];
  return { configDir: dirname(path), workspaceDir };
}

/** Config documents by language id, or by file name when a client sends no language id we know. */
export function isConfigDocument(languageId: string, uri: string): boolean {
  return languageId === 'server3-config' || /(^|\/)\.config_server$|\.server3$/.test(uri);
}
