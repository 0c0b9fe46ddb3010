/**
 * Quick fixes, computed from the problems of the current text (not from what the client sends back):
 *  - every problem whose message proposes a replacement (its `suggestion`: a misspelt or lower-case key, an
 *    enum value in the wrong case, `PORT 8000`, APP as a path, a bracketed IPv6 HOST): write it. Preferred,
 *    so "auto fix" applies it;
 *  - missing-required: add every missing required field with its default, at the end of the file; APP gets
 *    the best module of the workspace that defines a WSGI callable (and APP_CALLABLE with it). With none
 *    found, APP=wsgi and wsgi.py is created with a minimal WSGI app: a fix never names a module that is not
 *    there;
 *  - module-not-found: point APP at a module that exists (a near spelling first), or create the module;
 *  - no-application: set APP_CALLABLE (or APP's `:callable`) to a callable the module defines;
 *  - duplicate-key / overridden-callable: remove the line that has no effect;
 *  - a bad or empty value: set the field's default; non-loopback-host: listen on 127.0.0.1 only.
 */
import {
  type CodeAction,
  CodeActionKind,
  type CreateFile,
  type Range,
  type TextDocumentEdit,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppCandidate } from './appCandidates';
import { callableEdits, pointAppAt, wsgiAppSource } from './appEdits';
import { toDiagnostic } from './diagnostics';
import { editDistance } from './keys';
import type { EntryLine, ParsedConfig } from './parse';
import type { Problem } from './problem';
import { defaultText, FIELD_BY_NAME, REQUIRED_FIELDS } from './schema';
import type { WsgiCallable } from './wsgiCallables';

const VALUE_CODES = new Set([
  'bad-integer',
  'out-of-range',
  'bad-number',
  'bad-boolean',
  'bad-enum',
  'bad-host',
  'bad-hostname',
  'bad-module',
  'bad-identifier',
  'bad-address',
  'empty-value',
]);

/** How many existing modules module-not-found offers. */
const MODULE_FIXES = 3;

export interface ActionContext {
  /** Modules that define a WSGI callable, best first (appCandidates.ts). */
  candidates?: AppCandidate[];
  /** Folder new modules go to (the config's); unset when the client cannot create files. */
  createIn?: string;
  /** The WSGI callables APP's module defines (for no-application). */
  callablesOfApp?: WsgiCallable[];
}

function intersects(p: Problem, range: Range): boolean {
  if (p.line < range.start.line || p.line > range.end.line) return false;
  if (p.line === range.start.line && p.end < range.start.character) return false;
  if (p.line === range.end.line && p.start > range.end.character) return false;
  return true;
}

function lineRange(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}

export function codeActions(
  uri: string,
  text: string,
  parsed: ParsedConfig,
  problems: Problem[],
  range: Range,
  context: ActionContext = {},
): CodeAction[] {
  const actions: CodeAction[] = [];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const candidates = context.candidates ?? [];
  const fix = (
    title: string,
    problem: Problem | Problem[],
    edit: WorkspaceEdit | TextEdit[],
    preferred = false,
  ) => {
    const list = Array.isArray(problem) ? problem : [problem];
    actions.push({
      title,
      kind: CodeActionKind.QuickFix,
      diagnostics: list.map((p) => toDiagnostic(p, uri)),
      isPreferred: preferred,
      edit: Array.isArray(edit) ? { changes: { [uri]: edit } } : edit,
    });
  };
  const here = problems.filter((p) => intersects(p, range));
  const missing = problems.filter((p) => p.code === 'missing-required');
  if (here.some((p) => p.code === 'missing-required')) {
    // A config that names its callable already gets a module defining that one, when there is any.
    const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop()?.value;
    const best = candidates.find((c) => c.callable.name === named) ?? candidates[0];
    addMissing(parsed, eol, missing, best, context, uri, fix);
  }
  for (const p of here) {
    const entry = parsed.entries.find((e) => e.line === p.line);
    if (p.suggestion !== undefined) {
      const current = parsed.texts[p.line].slice(p.start, p.end);
      fix(
        `Change ${current} to ${p.suggestion}`,
        p,
        [{ range: lineRange(p.line, p.start, p.end), newText: p.suggestion }],
        true,
      );
    }
    if (p.code === 'duplicate-key' || p.code === 'overridden-callable') {
      fix(`Remove this ${entry?.key ?? ''} line (it has no effect)`, p, [deleteLine(parsed, p.line)], true);
    } else if (entry && p.code === 'module-not-found') {
      moduleNotFound(parsed, entry, p, eol, context, uri, fix);
    } else if (entry && p.code === 'no-application') {
      for (const c of context.callablesOfApp ?? []) {
        const colon = entry.value.indexOf(':');
        const edits =
          colon >= 0
            ? [
                {
                  range: lineRange(entry.line, entry.valueStart + colon + 1, entry.valueEnd),
                  newText: c.name,
                },
              ]
            : callableEdits(parsed, entry.line, c.name, eol);
        const how = colon >= 0 ? `APP=${entry.value.slice(0, colon)}:${c.name}` : `APP_CALLABLE=${c.name}`;
        fix(`Use ${how} (${c.kind}, line ${c.line + 1})`, p, edits, false);
      }
    } else if (entry && VALUE_CODES.has(p.code)) {
      const spec = FIELD_BY_NAME.get(entry.key);
      const value = spec ? defaultText(spec) : '';
      if (spec && value !== '' && value !== p.suggestion)
        fix(`Set ${entry.key} to its default (${value})`, p, [replaceValue(entry, value)]);
    } else if (entry && p.code === 'non-loopback-host') {
      const value = entry.key === 'HOST' ? '127.0.0.1' : `127.0.0.1:${entry.value.split(':').pop()}`;
      fix(`Listen on ${value} (this machine only)`, p, [replaceValue(entry, value)]);
    }
  }
  return actions;
}

type Fix = (
  title: string,
  problem: Problem | Problem[],
  edit: WorkspaceEdit | TextEdit[],
  preferred?: boolean,
) => void;

/** "Add the missing required fields", APP from the best module found, or a new wsgi.py when none is. */
function addMissing(
  parsed: ParsedConfig,
  eol: string,
  missing: Problem[],
  best: AppCandidate | undefined,
  context: ActionContext,
  uri: string,
  fix: Fix,
): void {
  const present = new Set(parsed.entries.map((e) => e.key));
  const fields = REQUIRED_FIELDS.filter((f) => !present.has(f.name));
  const needsApp = fields.some((f) => f.name === 'APP');
  const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop();
  const lines = fields.map((f) => `${f.name}=${f.name === 'APP' && best ? best.module : defaultText(f)}`);
  // The module's callable goes with it: APP_CALLABLE set to it (its line changed, or a new one added).
  const callable: TextEdit[] = [];
  if (needsApp && best && named && named.value !== best.callable.name)
    callable.push(replaceValue(named, best.callable.name));
  else if (needsApp && best && !named && best.callable.name !== 'application')
    lines.push(`APP_CALLABLE=${best.callable.name}`);
  const title = `Add the missing required fields (${fields.map((f) => f.name).join(', ')})`;
  const append = appendLines(parsed, eol, lines);
  if (!needsApp || best) return fix(title, missing, [...callable, append], true);
  if (!context.createIn) return fix(title, missing, [append], true);
  const module = defaultText(FIELD_BY_NAME.get('APP')!);
  const create = createModule(context.createIn, module, 'application', eol);
  fix(
    `${title} and create ${module}.py with a WSGI app`,
    missing,
    withConfigEdits(create, uri, [append]),
    true,
  );
}

/** module-not-found: the modules that exist (a near spelling first, then the nearest), and "create it". */
function moduleNotFound(
  parsed: ParsedConfig,
  app: EntryLine,
  p: Problem,
  eol: string,
  context: ActionContext,
  uri: string,
  fix: Fix,
): void {
  const wanted = app.value.split(':')[0];
  const near = (c: AppCandidate) => editDistance(c.module, wanted) <= 2;
  const ranked = [...(context.candidates ?? [])].sort((a, b) => Number(near(b)) - Number(near(a)));
  for (const c of ranked.slice(0, MODULE_FIXES)) {
    const where = `${c.callable.name}, ${c.callable.kind}`;
    fix(
      `Change APP to ${c.module} (${where})`,
      p,
      pointAppAt(parsed, app, c.module, c.callable.name, eol),
      near(c),
    );
  }
  if (context.createIn) {
    const colon = app.value.indexOf(':');
    const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop()?.value;
    const callable =
      colon >= 0 ? app.value.slice(colon + 1) : /^[A-Za-z_]\w*$/.test(named ?? '') ? named! : 'application';
    const path = `${wanted.replace(/\./g, '/')}.py`;
    fix(
      `Create ${path} with a WSGI app (${callable})`,
      p,
      withConfigEdits(createModule(context.createIn, wanted, callable, eol), uri, []),
    );
  }
}

/** A WorkspaceEdit that creates `module`'s file under `dir` with a minimal WSGI app (parents included). */
function createModule(
  dir: string,
  module: string,
  callable: string,
  eol: string,
): (CreateFile | TextDocumentEdit)[] {
  const file = pathToFileURL(join(dir, ...module.split('.')) + '.py').href;
  return [
    { kind: 'create', uri: file, options: { ignoreIfExists: true } },
    {
      textDocument: { uri: file, version: null },
      edits: [{ range: lineRange(0, 0, 0), newText: wsgiAppSource(module, callable, eol) }],
    },
  ];
}

function withConfigEdits(
  changes: (CreateFile | TextDocumentEdit)[],
  uri: string,
  edits: TextEdit[],
): WorkspaceEdit {
  const config = edits.length ? [{ textDocument: { uri, version: null }, edits }] : [];
  return { documentChanges: [...changes, ...config] };
}

function replaceValue(entry: EntryLine, value: string): TextEdit {
  return { range: lineRange(entry.line, entry.equals + 1, entry.valueEnd), newText: value };
}

/** Adds lines at the end of the file, after a line end if the last line has text. */
function appendLines(parsed: ParsedConfig, eol: string, lines: string[]): TextEdit {
  const last = parsed.texts.length - 1;
  const lastText = parsed.texts[last];
  const position = { line: last, character: lastText.length };
  const prefix = lastText.length ? eol : '';
  return { range: { start: position, end: position }, newText: prefix + lines.join(eol) + eol };
}

function deleteLine(parsed: ParsedConfig, line: number): TextEdit {
  if (line < parsed.texts.length - 1) {
    return { range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, newText: '' };
  }
  // The last line has no line end: remove the one before it instead.
  const previous = line - 1;
  const start =
    previous >= 0 ? { line: previous, character: parsed.texts[previous].length } : { line, character: 0 };
  return { range: { start, end: { line, character: parsed.texts[line].length } }, newText: '' };
}
