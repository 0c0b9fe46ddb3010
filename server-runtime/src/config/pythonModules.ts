/**
 * The Python modules of a folder that define a WSGI callable, as dotted paths (`hello.wsgi`), for APP's
 * completion. Reads files as text (never imports them) and stops at a few levels and files, so a big
 * workspace cannot stall the language server.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { definesName } from './fileChecks';

const SKIPPED_DIRS = new Set(['node_modules', '__pycache__', 'site-packages', 'venv', 'env', 'dist', 'out']);
const MAX_DEPTH = 4;
const MAX_FILES = 2000;
const MAX_FILE_BYTES = 512 * 1024;
const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

async function pythonFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      if (found.length >= MAX_FILES) return;
      if (d.isDirectory()) {
        if (depth < MAX_DEPTH && !d.name.startsWith('.') && !SKIPPED_DIRS.has(d.name)) {
          await walk(join(dir, d.name), depth + 1);
        }
      } else if (d.isFile() && d.name.endsWith('.py')) found.push(join(dir, d.name));
    }
  };
  await walk(root, 0);
  return found;
}

/** `pkg/wsgi.py` -> `pkg.wsgi`, `pkg/__init__.py` -> `pkg`; undefined when a part is not a Python name. */
export function moduleName(root: string, file: string): string | undefined {
  const parts = relative(root, file).slice(0, -'.py'.length).split(sep);
  if (parts[parts.length - 1] === '__init__') parts.pop();
  return parts.length && parts.every((p) => IDENTIFIER_RE.test(p)) ? parts.join('.') : undefined;
}

/** Modules under `root` whose source defines `callable` at top level, sorted. */
export async function modulesDefining(root: string, callable: string): Promise<string[]> {
  const modules = new Set<string>();
  for (const file of await pythonFiles(root)) {
    const name = moduleName(root, file);
    if (!name) continue;
    try {
      if ((await stat(file)).size > MAX_FILE_BYTES) continue;
      if (definesName(await readFile(file, 'utf8'), callable)) modules.add(name);
    } catch {
      // unreadable file: not a candidate
    }
  }
  return [...modules].sort();
}
