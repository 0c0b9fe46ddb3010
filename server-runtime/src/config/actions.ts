/**
 * Quick fixes, computed from the problems of the current text (not from what the client sends back):
 *  - missing-required: add every missing required field with its default, at the end of the file (APP gets
 *    the first workspace module that defines the callable, when the caller found one);
 *  - unknown-key / wrong-case-key with a suggestion: rename the key;
 *  - duplicate-key: remove the line that has no effect;
 *  - a bad or empty value: set the field's default; non-loopback-host: listen on 127.0.0.1 only.
 */
import { type CodeAction, CodeActionKind, type Range, type TextEdit } from 'vscode-languageserver/node';
import { toDiagnostic } from './diagnostics';
import type { EntryLine, ParsedConfig } from './parse';
import type { Problem } from './problem';
import { defaultText, FIELD_BY_NAME, REQUIRED_FIELDS } from './schema';

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
  appModule?: string,
) {
  const actions: CodeAction[] = [];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const fix = (title: string, problem: Problem | Problem[], edits: TextEdit[], preferred = false): void => {
    const list = Array.isArray(problem) ? problem : [problem];
    actions.push({
      title,
      kind: CodeActionKind.QuickFix,
      diagnostics: list.map(toDiagnostic),
      isPreferred: preferred,
      edit: { changes: { [uri]: edits } },
    });
  };
  const here = problems.filter((p) => intersects(p, range));
  const missing = problems.filter((p) => p.code === 'missing-required');
  if (here.some((p) => p.code === 'missing-required')) {
    const present = new Set(parsed.entries.map((e) => e.key));
    const fields = REQUIRED_FIELDS.filter((f) => !present.has(f.name));
    fix(
      `Add the missing required fields (${fields.map((f) => f.name).join(', ')})`,
      missing,
      [
        appendLines(
          parsed,
          eol,
          fields.map((f) => `${f.name}=${f.name === 'APP' && appModule ? appModule : defaultText(f)}`),
        ),
      ],
      true,
    );
  }
  for (const p of here) {
    const entry = parsed.entries.find((e) => e.line === p.line);
    if ((p.code === 'unknown-key' || p.code === 'wrong-case-key') && p.suggestion) {
      const edit = { range: lineRange(p.line, p.start, p.end), newText: p.suggestion };
      fix(`Change ${entry?.key ?? 'the key'} to ${p.suggestion}`, p, [edit], p.code === 'wrong-case-key');
    } else if (p.code === 'duplicate-key') {
      fix(`Remove this ${entry?.key ?? ''} line (it has no effect)`, p, [deleteLine(p.line)], true);
    } else if (entry && VALUE_CODES.has(p.code)) {
      const spec = FIELD_BY_NAME.get(entry.key);
      const value = spec ? defaultText(spec) : '';
      if (spec && value !== '')
        fix(`Set ${entry.key} to its default (${value})`, p, [replaceValue(entry, value)]);
    } else if (entry && p.code === 'non-loopback-host') {
      const value = entry.key === 'HOST' ? '127.0.0.1' : `127.0.0.1:${entry.value.split(':').pop()}`;
      fix(`Listen on ${value} (this machine only)`, p, [replaceValue(entry, value)]);
    }
  }
  return actions;
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

/**
 * Removes a line with its line end. Only duplicates are removed, and a duplicate is never the last line (the
 * occurrence that wins comes after it), so there is always a next line to end the range at.
 */
function deleteLine(line: number): TextEdit {
  return { range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, newText: '' };
}
