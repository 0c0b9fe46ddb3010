/** Document symbols: one per KEY=VALUE line (the outline and breadcrumbs show the keys and their values). */
import { type DocumentSymbol, SymbolKind } from 'vscode-languageserver/node';
import { parseConfig } from './parse';
import { FIELD_BY_NAME } from './schema';

const KIND_BY_TYPE: Record<string, SymbolKind> = {
  port: SymbolKind.Number,
  integer: SymbolKind.Number,
  number: SymbolKind.Number,
  boolean: SymbolKind.Boolean,
  enum: SymbolKind.EnumMember,
  module: SymbolKind.Module,
};

export function documentSymbols(text: string): DocumentSymbol[] {
  return parseConfig(text).entries.map((e) => {
    const type = FIELD_BY_NAME.get(e.key)?.type;
    return {
      name: e.key,
      detail: e.value,
      kind: (type && KIND_BY_TYPE[type]) || SymbolKind.Property,
      range: { start: { line: e.line, character: e.keyStart }, end: { line: e.line, character: e.valueEnd } },
      selectionRange: {
        start: { line: e.line, character: e.keyStart },
        end: { line: e.line, character: e.keyEnd },
      },
    };
  });
}
