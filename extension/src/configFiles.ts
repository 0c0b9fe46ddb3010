/**
 * Which config file a command is about: the one it was invoked on (explorer/editor), else the active
 * server3-config editor, else the workspace's config files (`.config_server`, `*.server3`, in every folder
 * of a multi-root workspace), with a quick pick when there are several.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_LANGUAGE_ID } from './client';

const CONFIG_GLOB = '**/{.config_server,*.server3}';
const EXCLUDE_GLOB = '**/{node_modules,.git,.venv,venv,__pycache__,site-packages,.tox}/**';

export async function findConfigFiles(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB, 200);
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export async function pickConfig(arg?: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg)
    return arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  // A row of the Threads view: its server id is the config's URI.
  if (arg && typeof arg === 'object' && 'serverId' in arg) return vscode.Uri.parse(String(arg.serverId));
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === CONFIG_LANGUAGE_ID && active.uri.scheme === 'file') {
    if (active.isDirty) await active.save();
    return active.uri;
  }
  const files = await findConfigFiles();
  if (files.length === 0) {
    void vscode.window
      .showErrorMessage(
        'Server 3: no config file found in this workspace. Create a `.config_server` (or `name.server3`) file with HOST, PORT, SOCKET_BACKLOG, APP and DOMAIN, then run "Server 3: Start" again.',
        ...(vscode.workspace.workspaceFolders?.length ? ['Create .config_server'] : []),
      )
      .then((choice) => (choice ? createConfig() : undefined));
    return undefined;
  }
  if (files.length === 1) return files[0];
  const items = files.map((uri) => ({
    label: vscode.workspace.asRelativePath(uri, true),
    description: path.dirname(uri.fsPath),
    uri,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Server 3: which config?',
    placeHolder: 'Several Server 3 config files were found; pick the one to use',
  });
  return picked?.uri;
}

/**
 * The app's working directory: the workspace folder holding the config, as a user running the server from a
 * terminal at the project root would have it. The runtime also puts the config's own folder on sys.path, so a
 * config kept in a subfolder next to its app still finds it. A config outside every workspace folder runs in
 * its own folder.
 */
export function workingDirectoryFor(configUri: vscode.Uri): string {
  return vscode.workspace.getWorkspaceFolder(configUri)?.uri.fsPath ?? path.dirname(configUri.fsPath);
}

/** A starting point with every required key; the user edits APP (the language server helps from there). */
const TEMPLATE = [
  '# Server 3 config: see the hover on each key for what it means.',
  'HOST=127.0.0.1',
  'PORT=8000',
  'SOCKET_BACKLOG=1024',
  'APP=wsgi',
  'DOMAIN=localhost',
  '',
].join('\n');

/** Writes a template `.config_server` into a workspace folder (picked when several) and opens it. */
async function createConfig(): Promise<void> {
  const folder =
    (vscode.workspace.workspaceFolders?.length ?? 0) > 1
      ? await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder for the new .config_server' })
      : vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  const uri = vscode.Uri.joinPath(folder.uri, '.config_server');
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(TEMPLATE));
  }
  await vscode.window.showTextDocument(uri);
}
