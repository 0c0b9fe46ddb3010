/**
 * The walkthrough's own commands (package.json `walkthroughs`): open the example, and break the config on
 * purpose so its diagnostic and quick fix can be tried. The example is examples/hello, shipped in the .vsix.
 */
import * as vscode from 'vscode';
import { parseConfig } from '../../server-runtime/src/config/parse';
import { CONFIG_LANGUAGE_ID } from './client';
import { findConfigFiles } from './configFiles';
import type { Ctx } from './ctx';

const EXAMPLE_FILES = ['.config_server', 'hello/__init__.py', 'hello/wsgi.py'];

/** Copies the example into `folder` (never over an existing file); returns the config's URI. */
async function copyExample(ctx: Ctx, folder: vscode.Uri): Promise<vscode.Uri> {
  const source = vscode.Uri.joinPath(ctx.extension.extensionUri, 'examples', 'hello');
  for (const file of EXAMPLE_FILES) {
    const target = vscode.Uri.joinPath(folder, file);
    const exists = await vscode.workspace.fs.stat(target).then(
      () => true,
      () => false,
    );
    if (!exists) await vscode.workspace.fs.copy(vscode.Uri.joinPath(source, file), target);
  }
  return vscode.Uri.joinPath(folder, '.config_server');
}

/**
 * "Open the Example": the workspace's config when it has one; else the example app copied into the open
 * folder (after asking), or into a folder the user picks, which then opens.
 */
export async function openExample(ctx: Ctx): Promise<vscode.Uri | undefined> {
  const [existing] = await findConfigFiles();
  if (existing) {
    await vscode.window.showTextDocument(existing, { preview: false });
    return existing;
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder) {
    const create = 'Create It Here';
    const choice = await vscode.window.showInformationMessage(
      `Server 3: this folder has no config yet. Create the example app (.config_server and hello/wsgi.py) in ${folder.name}?`,
      create,
    );
    if (choice !== create) return undefined;
    const config = await copyExample(ctx, folder.uri);
    await vscode.window.showTextDocument(config, { preview: false });
    return config;
  }
  const [picked] =
    (await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Create the Example Here',
      title: 'Server 3: a folder for the example app',
    })) ?? [];
  if (!picked) return undefined;
  const config = await copyExample(ctx, picked);
  await vscode.commands.executeCommand('vscode.openFolder', picked);
  return config;
}

/** "Break the Config": PORT=80OO (letters O) in the open config, so the underline and its fix can be tried. */
export async function breakConfig(): Promise<void> {
  const active = vscode.window.activeTextEditor;
  let doc = active?.document.languageId === CONFIG_LANGUAGE_ID ? active.document : undefined;
  if (!doc) {
    const [config] = await findConfigFiles();
    if (!config) {
      void vscode.window.showInformationMessage('Server 3: open the example first (the step above).');
      return;
    }
    doc = await vscode.workspace.openTextDocument(config);
  }
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const port = parseConfig(doc.getText())
    .entries.filter((e) => e.key === 'PORT')
    .pop();
  if (!port) return;
  const range = new vscode.Range(port.line, port.valueStart, port.line, port.valueEnd);
  await editor.edit((edit) => edit.replace(range, '80OO'));
  const broken = new vscode.Range(port.line, port.valueStart, port.line, port.valueStart + 4);
  editor.selection = new vscode.Selection(broken.start, broken.end);
  editor.revealRange(broken);
}
