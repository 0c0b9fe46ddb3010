/**
 * Auto-restart's eyes: watches the config file and the app's Python files under the working directory and
 * calls back once, debounced, after a burst of changes (an editor's save often writes several times).
 * Virtual environments, caches, VCS and node_modules folders are never entered: they are big and an
 * `pip install` there must not restart the server.
 */
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

const IGNORED_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '__pycache__',
  '.venv',
  'venv',
  'env',
  '.env',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  'site-packages',
  '.vscode',
  '.vscode-server',
]);

export function isIgnoredPath(file: string): boolean {
  return file.split(/[\\/]/).some((segment) => IGNORED_DIRS.has(segment));
}

export class DebouncedFileWatcher {
  private readonly watcher: FSWatcher;
  private timer: NodeJS.Timeout | undefined;
  private changed = new Set<string>();
  /** Resolves once the initial scan is done: changes before that are not seen. */
  readonly ready: Promise<void>;

  constructor(root: string, configPath: string, delayMs: number, onChange: (files: string[]) => void) {
    const config = path.resolve(configPath);
    const relevant = (file: string) => path.resolve(file) === config || file.endsWith('.py');
    this.watcher = watch([root, config], {
      ignoreInitial: true,
      depth: 12,
      ignored: (file, stats) =>
        isIgnoredPath(path.relative(root, file)) || (!!stats?.isFile() && !relevant(file)),
    });
    this.ready = new Promise((resolve) => this.watcher.once('ready', () => resolve()));
    const schedule = (file: string) => {
      if (!relevant(file)) return;
      this.changed.add(file);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        const files = [...this.changed];
        this.changed = new Set();
        onChange(files);
      }, delayMs);
    };
    this.watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
    // Watch errors (EMFILE, a removed folder) must not take the supervisor down; auto-restart just stops.
    this.watcher.on('error', () => undefined);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher.close();
  }
}
