/**
 * The Python files of a folder that define a WSGI callable, for APP (completion, the missing-APP fix,
 * module-not-found's fixes). One index per root folder, built once in the background and then kept up to date
 * from the editor's file events (didChangeWatchedFiles on *.py), so answering a completion is a lookup, never
 * a walk of the tree on a keystroke.
 *
 * The walk is breadth-first: every file of a level is read before the next level starts, so however big the
 * tree (a vendored folder of 3,000 files, a monorepo), the modules nearest the root are always in the index,
 * and the limits only ever cut the deepest ones. Folders no dotted path can go through are not entered:
 * hidden ones, virtualenvs (any folder holding pyvenv.cfg), node_modules, __pycache__, and names that are not
 * Python identifiers (`my-site/` cannot be a package of this root).
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { type WsgiCallable, wsgiCallables } from './wsgiCallables';

export interface IndexLimits {
  /** Levels below the root that are entered (the root is level 0). */
  maxDepth: number;
  /** Python files read at most; the walk stops there (the deepest are left out). */
  maxFiles: number;
  /** Larger files are not read (generated code, data dumps). */
  maxFileBytes: number;
}

export const DEFAULT_LIMITS: IndexLimits = { maxDepth: 8, maxFiles: 50_000, maxFileBytes: 512 * 1024 };

const SKIPPED_DIRS = new Set(['node_modules', '__pycache__', 'site-packages', 'venv', 'env']);
const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Python files that are never the app: pytest's (a `def app()` fixture is common), setuptools'. */
const NOT_APPS = /(^|\/)(conftest|setup|test_\w*|\w*_test)\.py$/;

/** Whether a file may hold the app: a Python file that is not a test or setup script. */
export function mayHoldApp(file: string): boolean {
  return file.endsWith('.py') && !NOT_APPS.test(file);
}
/** Files read at once: enough to keep the disk busy, few enough not to run out of descriptors. */
const PARALLEL_READS = 32;

export interface IndexedFile {
  file: string;
  callables: WsgiCallable[];
}

export class ModuleIndex {
  /** Files with at least one WSGI callable, by absolute path. */
  private readonly files = new Map<string, WsgiCallable[]>();
  /** Resolves when the first walk is done; changes that arrive before are applied after it. */
  readonly ready: Promise<void>;
  /** Python files the walk read (for the benchmark and the tests). */
  filesRead = 0;
  /** Whether a limit cut the walk short. */
  truncated = false;
  private updates: Promise<void>;

  constructor(
    readonly root: string,
    private readonly limits: IndexLimits = DEFAULT_LIMITS,
  ) {
    this.ready = this.walk();
    this.updates = this.ready;
  }

  /** Every indexed file with its callables (no order). */
  entries(): IndexedFile[] {
    return [...this.files].map(([file, callables]) => ({ file, callables }));
  }

  contains(path: string): boolean {
    return path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }

  /** A file was created, changed or deleted (or a folder deleted): read it again, in order, after the walk. */
  changed(path: string, deleted: boolean): Promise<void> {
    this.updates = this.updates.then(async () => {
      if (deleted) {
        this.files.delete(path);
        const folder = path.endsWith(sep) ? path : path + sep;
        for (const file of [...this.files.keys()]) if (file.startsWith(folder)) this.files.delete(file);
      } else if (mayHoldApp(path)) {
        await this.read(path);
      }
    });
    return this.updates;
  }

  /** Resolves once every change reported so far is in the index. */
  settled(): Promise<void> {
    return this.updates;
  }

  private async read(file: string): Promise<void> {
    try {
      if ((await stat(file)).size > this.limits.maxFileBytes) {
        this.files.delete(file);
        return;
      }
      const callables = wsgiCallables(await readFile(file, 'utf8'));
      if (callables.length) this.files.set(file, callables);
      else this.files.delete(file);
    } catch {
      this.files.delete(file); // gone or unreadable: not a candidate
    }
  }

  private async walk(): Promise<void> {
    let level = [this.root];
    for (let depth = 0; level.length && depth <= this.limits.maxDepth; depth++) {
      const perDir: string[][] = [];
      const next: string[] = [];
      for (const dir of level) {
        let names: Dirent[];
        try {
          names = await readdir(dir, { withFileTypes: true });
        } catch {
          continue;
        }
        if (depth > 0 && names.some((d) => d.name === 'pyvenv.cfg')) continue; // a virtualenv
        names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // the same order everywhere
        const files: string[] = [];
        for (const d of names) {
          if (d.isFile() && mayHoldApp(d.name)) files.push(join(dir, d.name));
          else if (d.isDirectory() && IDENTIFIER_RE.test(d.name) && !SKIPPED_DIRS.has(d.name))
            next.push(join(dir, d.name));
        }
        perDir.push(files);
      }
      // Small folders first within a level: an app's package (wsgi.py, settings.py) is read before a
      // generated folder of thousands of modules at the same depth.
      const files = perDir.sort((a, b) => a.length - b.length).flat();
      const room = this.limits.maxFiles - this.filesRead;
      if (files.length > room) this.truncated = true;
      await this.readAll(files.slice(0, Math.max(0, room)));
      if (this.truncated) return;
      level = next;
      if (depth === this.limits.maxDepth && next.length) this.truncated = true;
    }
  }

  private async readAll(files: string[]): Promise<void> {
    let at = 0;
    const worker = async () => {
      while (at < files.length) {
        const file = files[at++];
        this.filesRead++;
        await this.read(file);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, files.length) }, worker));
  }
}

/** The indexes of the roots in use (config folders, workspace folders), created on first use. */
export class ModuleIndexes {
  private readonly indexes = new Map<string, ModuleIndex>();

  constructor(private readonly limits: IndexLimits = DEFAULT_LIMITS) {}

  get(root: string): ModuleIndex {
    let index = this.indexes.get(root);
    if (!index) {
      index = new ModuleIndex(root, this.limits);
      this.indexes.set(root, index);
    }
    return index;
  }

  /** Passes a file event to every index whose root holds the path. */
  changed(path: string, deleted: boolean): void {
    for (const index of this.indexes.values()) if (index.contains(path)) void index.changed(path, deleted);
  }

  /** Resolves once every index has applied the changes reported so far. */
  async settled(): Promise<void> {
    await Promise.all([...this.indexes.values()].map((i) => i.settled()));
  }
}
