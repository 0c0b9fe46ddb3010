/** Hover: the schema's documentation of the field under the cursor (on its key or its value). */
import type { Hover } from 'vscode-languageserver/node';
import { fieldMarkdown } from './docs';
import { parseConfig } from './parse';
import type { Position } from './complete';
import { suggestKey } from './keys';
import { FIELD_BY_NAME } from './schema';

export function hoverAt(text: string, pos: Position): Hover | null {
  const entry = parseConfig(text).entries.find((e) => e.line === pos.line);
  if (!entry || pos.character < entry.keyStart || pos.character > entry.valueEnd) return null;
  const spec = FIELD_BY_NAME.get(entry.key);
  if (!spec) return unknownKeyHover(entry.key, pos.line, entry.keyStart, entry.keyEnd);
  const onValue = pos.character >= entry.valueStart && entry.valueEnd > entry.valueStart;
  const [start, end] = onValue ? [entry.valueStart, entry.valueEnd] : [entry.keyStart, entry.keyEnd];
  return {
    contents: { kind: 'markdown', value: fieldMarkdown(spec) },
    range: { start: { line: pos.line, character: start }, end: { line: pos.line, character: end } },
  };
}

/** On an unknown key: what it probably meant, with that field's documentation. */
function unknownKeyHover(key: string, line: number, start: number, end: number): Hover {
  const suggestion = suggestKey(key);
  const known = suggestion ? FIELD_BY_NAME.get(suggestion) : undefined;
  const value = known
    ? `\`${key}\` is not a known key: did you mean **${known.name}**?\n\n---\n\n${fieldMarkdown(known)}`
    : `\`${key}\` is not a known key: the server ignores it. See docs/config.md for the keys.`;
  return {
    contents: { kind: 'markdown', value },
    range: { start: { line, character: start }, end: { line, character: end } },
  };
}
