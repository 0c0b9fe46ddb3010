/**
 * Interpreters the server can run on, for "Server 3: Select Interpreter": the setting's, every python3.X and
 * free-threaded python3.Xt on PATH, the free-threaded CPython that scripts/setup.sh builds
 * (~/.cache/server3-free-threads), pyenv's versions and the workspace's virtualenvs. Each is asked for its
 * version and whether it is a free-threaded build (the same probe as a start: pythonCheck.ts), so the list
 * shows only interpreters that answer and can run the server (3.10+). No vscode import: unit-tested against
 * the machine's real interpreters.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkPython, type PythonCheck } from './pythonCheck';

/** Names looked up on PATH: free-threaded builds first, then the usual ones, newest first. */
const PATH_NAMES = [
  'python3.15t',
  'python3.14t',
  'python3.13t',
  'python3',
  'python3.15',
  'python3.14',
  'python3.13',
  'python3.12',
  'python3.11',
  'python3.10',
];

export interface InterpreterSearch {
  /** server3.pythonPath, when set. */
  setting?: string;
  /** Workspace folders, for their .venv / venv. */
  folders?: string[];
  /** Defaults to process.env.PATH and the user's home folder. */
  pathVariable?: string;
  home?: string;
}

function onPath(name: string, pathVariable: string): string | undefined {
  for (const dir of pathVariable.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function executablesIn(dir: string, pattern: RegExp): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => pattern.test(name))
      .map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** Every candidate path, in the order the list shows them (duplicates removed later). */
export function candidates(search: InterpreterSearch): string[] {
  const pathVariable = search.pathVariable ?? process.env.PATH ?? '';
  const home = search.home ?? os.homedir();
  // Where scripts/setup.sh caches its build (its SERVER3_FT_CACHE / XDG_CACHE_HOME rules, for this user).
  const ftCache = search.home
    ? path.join(home, '.cache', 'server3-free-threads')
    : process.env.SERVER3_FT_CACHE ||
      path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'server3-free-threads');
  const found: string[] = [];
  if (search.setting) found.push(search.setting);
  for (const name of PATH_NAMES) {
    const hit = onPath(name, pathVariable);
    if (hit) found.push(hit);
  }
  found.push(...executablesIn(path.join(ftCache, 'cpython-3.13t', 'bin'), /^python3\.\d+t$/));
  for (const version of executablesIn(path.join(home, '.pyenv', 'versions'), /^3\.\d+/))
    found.push(...executablesIn(path.join(version, 'bin'), /^python3\.\d+t?$/));
  for (const folder of search.folders ?? [])
    for (const venv of ['.venv', 'venv', '.venv-ft'])
      found.push(...executablesIn(path.join(folder, venv, 'bin'), /^python3?$/));
  return found;
}

export interface Interpreter extends PythonCheck {
  ok: true;
  executable: string;
  version: string;
}

/** The candidates that answer and can run the server, one per real executable, free-threaded ones first. */
export async function findInterpreters(search: InterpreterSearch): Promise<Interpreter[]> {
  const checks = await Promise.all(candidates(search).map((command) => checkPython(command, 5000)));
  const seen = new Set<string>();
  const usable: Interpreter[] = [];
  for (const check of checks) {
    if (!check.ok || !check.executable || !check.version) continue;
    // python3 and python3.11 are often one binary; a venv's python is a link to its base but is its own
    // environment (its own packages), so it is kept apart.
    let key = check.executable;
    if (!check.venv) {
      try {
        key = fs.realpathSync(check.executable);
      } catch {
        // keep the path it gave
      }
    }
    if (seen.has(key)) continue;
    seen.add(key);
    usable.push(check as Interpreter);
  }
  const rank = (i: Interpreter) => (i.command === search.setting ? 0 : i.freeThreaded ? 1 : 2);
  return usable.sort((a, b) => rank(a) - rank(b));
}
