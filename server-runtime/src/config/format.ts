/**
 * Formatting to the canonical form: `KEY=VALUE` with no blanks around `=`, no indentation, no trailing
 * blanks, a trailing comment kept after one space, full-line comments kept, a line end at the end of the file.
 * Lines that are not KEY=VALUE are left as they are (only trailing blanks go): formatting never loses text.
 * Returns one edit per changed line, so the cursor and undo stay where the user expects.
 */
import type { TextEdit } from 'vscode-languageserver/node';
import { type ConfigLine, parseConfig } from './parse';

export function canonicalLine(line: ConfigLine, text: string): string {
  switch (line.kind) {
    case 'blank':
      return '';
    case 'comment':
      return text.slice(line.start).trimEnd();
    case 'bad':
      return text.trimEnd();
    case 'entry': {
      const comment = line.commentStart >= 0 ? ` ${text.slice(line.commentStart).trimEnd()}` : '';
      return `${line.key}=${line.value}${comment}`;
    }
  }
}

export function formatEdits(text: string): TextEdit[] {
  const parsed = parseConfig(text);
  const edits: TextEdit[] = [];
  for (const line of parsed.lines) {
    const original = parsed.texts[line.line];
    const wanted = canonicalLine(line, original);
    if (wanted !== original) {
      edits.push({
        range: {
          start: { line: line.line, character: 0 },
          end: { line: line.line, character: original.length },
        },
        newText: wanted,
      });
    }
  }
  const last = parsed.texts.length - 1;
  if (parsed.texts[last] !== '') {
    const end = { line: last, character: parsed.texts[last].length };
    edits.push({ range: { start: end, end }, newText: text.includes('\r\n') ? '\r\n' : '\n' });
  }
  return edits;
}
