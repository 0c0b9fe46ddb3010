/**
 * Splits a config text into lines of KEY=VALUE entries, comments and blanks, with exact column spans.
 * Must stay in step with parse_lines() in config.py; the rules are written down in docs/config.md:
 *  - lines split on \n, a trailing \r dropped, a leading BOM ignored;
 *  - only spaces and tabs are blanks; blank lines and lines starting with `#` are skipped;
 *  - a `#` after a blank starts a trailing comment (values never hold blanks); a `#` inside a word does not;
 *  - KEY is letters, digits and _ not starting with a digit; blanks around `=` are allowed.
 */
import type { Problem } from './problem';

export interface EntryLine {
  kind: 'entry';
  line: number;
  /** First non-blank column (the key's start). */
  indent: number;
  key: string;
  keyStart: number;
  keyEnd: number;
  equals: number;
  value: string;
  valueStart: number;
  valueEnd: number;
  /** Column of a trailing comment's `#`, or -1. */
  commentStart: number;
}

export interface CommentLine {
  kind: 'comment';
  line: number;
  start: number;
}

export interface BlankLine {
  kind: 'blank';
  line: number;
}

/** A line that is not KEY=VALUE; reported as not-key-value. */
export interface BadLine {
  kind: 'bad';
  line: number;
  start: number;
  end: number;
}

export type ConfigLine = EntryLine | CommentLine | BlankLine | BadLine;

export interface ParsedConfig {
  /** The text's lines without their line ends. */
  texts: string[];
  lines: ConfigLine[];
  entries: EntryLine[];
  problems: Problem[];
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `PORT 8000`, `PORT: 8000`, `PORT:8000`: a key and one value with a blank or a colon between them. */
const NEAR_ENTRY_RE = /^([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]*:[ \t]*|[ \t]+)([^ \t]+)$/;

export function isBlank(ch: string): boolean {
  return ch === ' ' || ch === '\t';
}

export function splitLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function skipBlanks(line: string, i: number, end: number): number {
  while (i < end && isBlank(line[i])) i++;
  return i;
}

function trimEnd(line: string, start: number, end: number): number {
  while (end > start && isBlank(line[end - 1])) end--;
  return end;
}

/** Column of a trailing comment's `#` (a `#` right after a blank), or -1. */
export function commentStart(line: string, from: number): number {
  for (let i = from + 1; i < line.length; i++) if (line[i] === '#' && isBlank(line[i - 1])) return i;
  return -1;
}

export function parseConfig(text: string): ParsedConfig {
  const texts = splitLines(text);
  const lines: ConfigLine[] = [];
  const entries: EntryLine[] = [];
  const problems: Problem[] = [];
  texts.forEach((line, n) => {
    const start = skipBlanks(line, 0, line.length);
    if (start === line.length) return lines.push({ kind: 'blank', line: n });
    if (line[start] === '#') return lines.push({ kind: 'comment', line: n, start });
    const hash = commentStart(line, start);
    const end = trimEnd(line, start, hash < 0 ? line.length : hash);
    const equals = line.slice(0, end).indexOf('=', start);
    const keyEnd = equals >= 0 ? trimEnd(line, start, equals) : start;
    const key = line.slice(start, keyEnd);
    if (equals < 0 || !KEY_RE.test(key)) {
      lines.push({ kind: 'bad', line: n, start, end });
      problems.push(notKeyValue(n, line, start, end, equals));
      return;
    }
    const valueStart = skipBlanks(line, equals + 1, end);
    const entry: EntryLine = {
      kind: 'entry',
      line: n,
      indent: start,
      key,
      keyStart: start,
      keyEnd,
      equals,
      value: line.slice(valueStart, end),
      valueStart,
      valueEnd: end,
      commentStart: hash,
    };
    lines.push(entry);
    entries.push(entry);
  });
  return { texts, lines, entries, problems };
}

function notKeyValue(n: number, line: string, start: number, end: number, equals: number): Problem {
  const text = line.slice(start, end);
  let message: string;
  let suggestion: string | undefined;
  if (equals < 0) {
    // Only a line that reads as one key and one value gets a guess: `what is this` gets none.
    const near = NEAR_ENTRY_RE.exec(text);
    suggestion = near ? `${near[1]}=${near[2]}` : undefined;
    const hint = suggestion ? ` (did you mean ${suggestion}?)` : '';
    message = `expected KEY=VALUE, got '${text}'${hint}: write the key, then =, then the value`;
  } else if (equals === start) {
    message = `expected KEY=VALUE, got '${text}': the key before = is missing`;
  } else {
    message = `expected KEY=VALUE, got '${text}': a key is letters, digits and _ (not starting with a digit)`;
  }
  return { line: n, start, end, severity: 'error', code: 'not-key-value', message, suggestion };
}
