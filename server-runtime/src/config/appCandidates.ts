/**
 * Which modules a config's APP may name, best first: the WSGI callables of the module index, as dotted paths
 * relative to the folders the runtime imports from (the config's folder, then the workspace folder), nearest
 * first. Used by APP's completion, the missing-APP fix and module-not-found's fixes, so all three agree.
 */
import { relative, sep } from 'node:path';
import type { IndexedFile, ModuleIndexes } from './moduleIndex';
import type { WsgiCallable } from './wsgiCallables';

export interface AppCandidate {
  /** Dotted module path for APP, e.g. `mysite.wsgi`. */
  module: string;
  file: string;
  /** The callable to use: the one asked for when the module defines it, else its most telling one. */
  callable: WsgiCallable;
  /** Dots in the module path: 0 for a top-level module. */
  depth: number;
}

const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `pkg/wsgi.py` -> `pkg.wsgi`, `pkg/__init__.py` -> `pkg`; undefined when a part is not a Python name. */
export function moduleName(root: string, file: string): string | undefined {
  const rel = relative(root, file);
  if (rel.startsWith('..') || !rel.endsWith('.py')) return undefined;
  const parts = rel.slice(0, -'.py'.length).split(sep);
  if (parts[parts.length - 1] === '__init__') parts.pop();
  return parts.length && parts.every((p) => IDENTIFIER_RE.test(p)) ? parts.join('.') : undefined;
}

/**
 * 0 for a callable that looks like a WSGI app (made by a framework, a (environ, start_response) function, or
 * named `application`, the default), 1 for a mere top-level `app` (it may be anything).
 */
function weakness(c: WsgiCallable): number {
  return c.kind === 'defines app' ? 1 : 0;
}

/** Ranks a module's callables for the one asked for: that name first, then by how telling they are. */
function callableRank(c: WsgiCallable, wanted: string): number {
  return c.name === wanted ? 0 : 1 + weakness(c);
}

/**
 * The candidates under `dirs` (in order of preference; a file is named relative to the first that holds
 * it): those that look like a WSGI app before a mere top-level `app`, then nearest first (fewer dots), then a
 * module defining `wanted` (APP_CALLABLE's value, `application` by default), then one named `wsgi`, then by
 * name. Waits for the
 * indexes' first walk at most `waitMs` (a completion must not stall on a big tree).
 */
export async function appCandidates(
  indexes: ModuleIndexes,
  dirs: string[],
  wanted: string,
  waitMs = Infinity,
): Promise<{ candidates: AppCandidate[]; complete: boolean }> {
  const unique = dirs.filter((d, i) => dirs.indexOf(d) === i);
  const all = unique.map((d) => indexes.get(d));
  let complete = true;
  // The first walk and any file events reported before this request.
  const done = Promise.all(all.map((i) => i.settled())).then(() => true);
  if (Number.isFinite(waitMs)) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
    complete = await Promise.race([done, timeout]);
    clearTimeout(timer);
  } else await done;
  const seen = new Set<string>();
  // Module names a folder earlier on the import path answers: Python imports those, never a later namesake.
  const taken = new Set<string>();
  const ranked: [number, number, number, number, number, string, AppCandidate][] = [];
  all.forEach((index, dirRank) => {
    const here = new Map<string, IndexedFile>();
    for (const entry of index.entries()) {
      if (seen.has(entry.file)) continue;
      const module = moduleName(unique[dirRank], entry.file);
      if (!module || taken.has(module)) continue;
      seen.add(entry.file);
      // `pkg/__init__.py` beside `pkg.py`: the import system takes the package, so APP=pkg means that one.
      if (!here.has(module) || entry.file.endsWith(`${sep}__init__.py`)) here.set(module, entry);
    }
    for (const [module, { file, callables }] of here) {
      taken.add(module);
      const callable = [...callables].sort((a, b) => callableRank(a, wanted) - callableRank(b, wanted))[0];
      const depth = module.split('.').length - 1;
      const candidate = { module, file, callable, depth };
      const asked = callable.name === wanted ? 0 : 1;
      const wsgiNamed = /(^|\.)wsgi$/.test(module) ? 0 : 1; // where Django and most tutorials put it
      ranked.push([dirRank, weakness(callable), depth, asked, wsgiNamed, module, candidate]);
    }
  });
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  ranked.sort(
    (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3] || a[4] - b[4] || byName(a[5], b[5]),
  );
  return { candidates: ranked.map((r) => r[6]), complete };
}
