/**
 * Edits that point a config at an app: APP's value, and APP_CALLABLE kept in step with the callable the module
 * defines (set, changed, or added under APP). Shared by APP's completion and the quick fixes, so both write the
 * same lines.
 */
import type { TextEdit } from 'vscode-languageserver/node';
import type { EntryLine, ParsedConfig } from './parse';

function at(line: number, character: number) {
  return { line, character };
}

/** The edits that make APP_CALLABLE say `callable` for the APP on line `appLine` (none when it already does). */
export function callableEdits(
  parsed: ParsedConfig,
  appLine: number,
  callable: string,
  eol: string,
): TextEdit[] {
  const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop();
  if (named) {
    if (named.value === callable) return [];
    return [
      {
        range: { start: at(named.line, named.valueStart), end: at(named.line, named.valueEnd) },
        newText: callable,
      },
    ];
  }
  if (callable === 'application') return []; // the default: no line needed
  const end = at(appLine, parsed.texts[appLine].length);
  return [{ range: { start: end, end }, newText: `${eol}APP_CALLABLE=${callable}` }];
}

/** APP = `module` (its whole value replaced, a `:callable` form included) and APP_CALLABLE = `callable`. */
export function pointAppAt(
  parsed: ParsedConfig,
  app: EntryLine,
  module: string,
  callable: string,
  eol: string,
) {
  const value = {
    range: { start: at(app.line, app.valueStart), end: at(app.line, app.valueEnd) },
    newText: module,
  };
  return [value, ...callableEdits(parsed, app.line, callable, eol)];
}

/** The source of a new module holding a minimal WSGI app named `callable`, for "create the module". */
export function wsgiAppSource(module: string, callable: string, eol: string): string {
  return [
    `"""A minimal WSGI app for Server 3 (APP=${module}): replace it with yours."""`,
    '',
    '',
    `def ${callable}(environ, start_response):`,
    `    body = b"Hello from ${module}!\\n"`,
    '    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]',
    '    start_response("200 OK", headers)',
    '    return [body]',
    '',
  ].join(eol);
}
