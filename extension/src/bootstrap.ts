/**
 * Which Python runs the server, in this order:
 *  1. the interpreter selected in the Python extension (ms-python.python public API) for the config's folder;
 *  2. the "server3.pythonPath" setting;
 *  3. `python3` on PATH.
 * The chosen one must answer and be 3.10+, else the user gets a clear error naming where it came from.
 */
import * as vscode from 'vscode';
import type { Settings } from './settings';
import { checkPython, type PythonCheck } from './pythonCheck';

/** The slice of the Python extension's API that is used (see @vscode/python-extension). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(
      env: { id: string; path: string } | string,
    ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

export interface PythonChoice extends PythonCheck {
  source: 'python-extension' | 'setting' | 'default';
}

async function fromPythonExtension(resource: vscode.Uri): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const active = api?.environments?.getActiveEnvironmentPath(resource);
    if (!active) return undefined;
    const resolved = await api.environments!.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch {
    return undefined; // An API change or a failing extension must not block the fallbacks.
  }
}

export async function choosePython(resource: vscode.Uri, settings: Settings): Promise<PythonChoice> {
  const selected = await fromPythonExtension(resource);
  if (selected) return { ...(await checkPython(selected)), source: 'python-extension' };
  const setting = settings.pythonPath(resource);
  if (setting) return { ...(await checkPython(setting)), source: 'setting' };
  return { ...(await checkPython('python3')), source: 'default' };
}
