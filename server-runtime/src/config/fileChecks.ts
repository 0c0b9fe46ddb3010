/**
 * The checks that look at the file system, all warnings (the file may be fine on the machine that runs it):
 * APP's module exists relative to the config's folder (or the workspace), it defines its WSGI callable,
 * SOCKET_BACKLOG is not above the kernel's net.core.somaxconn. Mirrors _file_system_problems() in config.py.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EntryLine } from './parse';
import type { Problem } from './problem';
import { FIELD_BY_NAME } from './schema';
import { IDENTIFIER_RE, valuePattern } from './values';
import { definitionIndex } from './wsgiCallables';

export interface FileCheckOptions {
  /** Folder of the config file: APP is imported relative to it. */
  configDir?: string;
  /** Workspace folder: also searched for APP's module. */
  workspaceDir?: string;
  /** net.core.somaxconn; read from /proc when not given, skipped when null. */
  somaxconn?: number | null;
}

const SOMAXCONN_PATH = '/proc/sys/net/core/somaxconn';
let cachedSomaxconn: number | null | undefined;

/** net.core.somaxconn of this machine, read once; null when it cannot be read. */
export function readSomaxconn(): number | null {
  if (cachedSomaxconn === undefined) cachedSomaxconn = readSomaxconnFrom(SOMAXCONN_PATH);
  return cachedSomaxconn;
}

/** A positive integer from a /proc-style file (one number and a line end), or null. */
export function readSomaxconnFrom(file: string): number | null {
  try {
    const n = parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** mypkg.wsgi -> dir/mypkg/wsgi.py or dir/mypkg/wsgi/__init__.py, if either exists. */
export function moduleFile(dir: string, module: string): string | undefined {
  const base = join(dir, ...module.split('.'));
  return [base + '.py', join(base, '__init__.py')].find(isFile);
}

/**
 * What APP points at: its module, and the callable (after APP's colon, else APP_CALLABLE when it is a Python
 * name, else `application`), as the runtime resolves them.
 */
export function appTarget(
  appValue: string,
  appCallable?: string,
): { module: string; callable: string; colon: boolean } {
  const colon = appValue.indexOf(':');
  if (colon >= 0)
    return { module: appValue.slice(0, colon), callable: appValue.slice(colon + 1), colon: true };
  const callable = appCallable !== undefined && IDENTIFIER_RE.test(appCallable) ? appCallable : 'application';
  return { module: appValue, callable, colon: false };
}

/**
 * Whether a module's source defines `name` at top level (assignment, def, class or import), as
 * defines_name() in config.py. A textual check, on purpose: importing the user's module would run its code.
 */
export function definesName(source: string, name: string): boolean {
  return definitionIndex(source, name) >= 0;
}

export function fileSystemProblems(entries: EntryLine[], options: FileCheckOptions): Problem[] {
  const problems: Problem[] = [];
  const effective = new Map(entries.map((e) => [e.key, e])); // later lines win
  const app = effective.get('APP');
  const dirs = [options.configDir, options.workspaceDir].filter(
    (d, i, all): d is string => !!d && all.indexOf(d) === i,
  );
  if (app && dirs.length && valuePattern(FIELD_BY_NAME.get('APP')!).test(app.value)) {
    const { module, callable, colon } = appTarget(app.value, effective.get('APP_CALLABLE')?.value);
    const span = {
      line: app.line,
      start: app.valueStart,
      end: app.valueStart + module.length,
      severity: 'warning' as const,
    };
    const file = dirs.map((d) => moduleFile(d, module)).find((f) => f !== undefined);
    if (!file) {
      const fileHint = module.replace(/\./g, '/') + '.py';
      problems.push({
        ...span,
        code: 'module-not-found',
        message:
          `APP: module ${module} not found in ${dirs.join(' or ')} (looked for ${fileHint}); ` +
          `the server imports it from the folder it runs in`,
      });
    } else {
      let source: string | undefined;
      try {
        source = readFileSync(file, 'utf8');
      } catch {
        source = undefined;
      }
      if (source !== undefined && !definesName(source, callable)) {
        const base = file.split(/[\\/]/).pop();
        const other = colon ? 'name another one after the colon' : 'set APP_CALLABLE';
        // In APP=module:callable the callable is what is wrong: underline it.
        const where = colon ? { ...span, start: app.valueEnd - callable.length, end: app.valueEnd } : span;
        problems.push({
          ...where,
          code: 'no-application',
          message:
            `APP: ${base} does not define \`${callable}\` at top level; ` +
            `define the WSGI callable there or ${other}`,
        });
      }
    }
  }
  const backlog = effective.get('SOCKET_BACKLOG');
  const somaxconn = options.somaxconn === undefined ? readSomaxconn() : options.somaxconn;
  if (backlog && somaxconn && /^[+-]?[0-9]+$/.test(backlog.value) && Number(backlog.value) > somaxconn) {
    problems.push({
      line: backlog.line,
      start: backlog.valueStart,
      end: backlog.valueEnd,
      severity: 'warning',
      code: 'above-somaxconn',
      message:
        `SOCKET_BACKLOG=${backlog.value} is above the kernel's net.core.somaxconn (${somaxconn}), ` +
        `which caps it; raise somaxconn or use ${somaxconn}`,
    });
  }
  return problems;
}
