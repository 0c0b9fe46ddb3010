/**
 * Completion: keys (missing required ones first, keys already set left out) and values where they are known
 * (enum values, booleans, loopback hosts, APP from the workspace's modules that define the callable).
 */
import {
  CompletionItemKind,
  InsertTextFormat,
  type CompletionItem,
  type CompletionList,
  type TextEdit,
} from 'vscode-languageserver/node';
import type { AppCandidate } from './appCandidates';
import { callableEdits } from './appEdits';
import { fieldMarkdown, fieldSummary } from './docs';
import { readSomaxconn } from './fileChecks';
import { commentStart, isBlank, type ParsedConfig, parseConfig } from './parse';
import { defaultText, FIELD_BY_NAME, FIELDS, type FieldSpec } from './schema';
import type { WsgiCallable } from './wsgiCallables';

export interface CompletionContext {
  /**
   * Modules that define a WSGI callable, best first (`wanted`: the callable the config names), and whether
   * the list is complete (false while a big workspace is still being indexed: the editor asks again).
   */
  appCandidates(wanted: string): Promise<{ candidates: AppCandidate[]; complete: boolean }>;
  /** The WSGI callables of APP's module, for APP_CALLABLE (empty when it is not found). */
  callablesOfApp(): WsgiCallable[];
  /** Shows a candidate's file relative to the workspace in its documentation. */
  describeFile?(file: string): string;
}

export interface Position {
  line: number;
  character: number;
}

const list = (items: CompletionItem[], isIncomplete = false): CompletionList => ({ isIncomplete, items });

export async function completeAt(
  text: string,
  pos: Position,
  ctx: CompletionContext,
): Promise<CompletionList> {
  const parsed = parseConfig(text);
  const line = parsed.texts[pos.line] ?? '';
  const before = line.slice(0, pos.character);
  const first = before.search(/[^ \t]/);
  if (first >= 0 && before[first] === '#') return list([]); // in a comment line
  const hash = commentStart(line, Math.max(first, 0));
  if (hash >= 0 && pos.character > hash) return list([]); // in a trailing comment
  const equals = before.indexOf('=');
  // Before any `=`: the key. After it: a value of that key, replacing the whole value already there.
  if (equals < 0) return list(completeKeys(parsed.entries, line, pos, first < 0 ? pos.character : first));
  const key = before.slice(0, equals).trim();
  const spec = FIELD_BY_NAME.get(key);
  if (!spec) return list([]);
  let valueStart = equals + 1;
  while (valueStart < line.length && isBlank(line[valueStart])) valueStart++;
  let valueEnd = hash >= 0 ? hash : line.length;
  while (valueEnd > valueStart && isBlank(line[valueEnd - 1])) valueEnd--;
  const range = {
    start: { line: pos.line, character: Math.min(valueStart, pos.character) },
    end: { line: pos.line, character: Math.max(valueEnd, pos.character) },
  };
  if (spec.type === 'module')
    return completeModules(parsed, pos.line, range, ctx, text.includes('\r\n') ? '\r\n' : '\n');
  const values = spec.type === 'identifier' ? callableValues(ctx.callablesOfApp()) : valueCandidates(spec);
  return list(
    values.map(([value, detail], i) => ({
      label: value,
      kind: CompletionItemKind.Value,
      detail,
      sortText: String(i).padStart(3, '0'),
      preselect: i === 0,
      textEdit: { range, newText: value },
    })),
  );
}

type Range = { start: Position; end: Position };

/**
 * APP's values: the modules that define a WSGI callable, best first (nearest, then the callable the config
 * names). Picking one also sets APP_CALLABLE to that module's callable when it is not `application`.
 */
async function completeModules(
  parsed: ParsedConfig,
  line: number,
  range: Range,
  ctx: CompletionContext,
  eol: string,
): Promise<CompletionList> {
  const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop()?.value;
  const wanted = named && /^[A-Za-z_]\w*$/.test(named) ? named : 'application';
  const { candidates, complete } = await ctx.appCandidates(wanted);
  const items = candidates.map((c, i): CompletionItem => {
    const extra: TextEdit[] = callableEdits(parsed, line, c.callable.name, eol);
    const where = ctx.describeFile ? ctx.describeFile(c.file) : c.file;
    return {
      label: c.module,
      kind: CompletionItemKind.Module,
      detail: `${c.callable.name} · ${c.callable.kind}`,
      documentation: {
        kind: 'markdown',
        value:
          `\`${c.callable.name}\` (${c.callable.kind}) in ${where}, line ${c.callable.line + 1}` +
          (extra.length ? `\n\nAlso sets \`APP_CALLABLE=${c.callable.name}\`.` : ''),
      },
      sortText: String(i).padStart(5, '0'),
      preselect: i === 0,
      textEdit: { range, newText: c.module },
      additionalTextEdits: extra.length ? extra : undefined,
    };
  });
  return list(items, !complete);
}

/** APP_CALLABLE's values: the callables APP's module defines, then the usual names. */
function callableValues(defined: WsgiCallable[]): string[][] {
  const values = defined.map((c) => [c.name, `${c.kind}, line ${c.line + 1}`]);
  for (const name of ['application', 'app'])
    if (!defined.some((c) => c.name === name)) values.push([name, name === 'application' ? 'default' : '']);
  return values;
}

function completeKeys(
  entries: { key: string; line: number }[],
  line: string,
  pos: Position,
  keyStart: number,
): CompletionItem[] {
  const elsewhere = new Set(entries.filter((e) => e.line !== pos.line).map((e) => e.key));
  let keyEnd = pos.character;
  while (keyEnd < line.length && /[A-Za-z0-9_]/.test(line[keyEnd])) keyEnd++;
  const hasEquals = line.slice(keyEnd).trimStart().startsWith('=');
  const range = {
    start: { line: pos.line, character: keyStart },
    end: { line: pos.line, character: keyEnd },
  };
  return FIELDS.filter((f) => !elsewhere.has(f.name)).map((f, i) => ({
    label: f.name,
    kind: CompletionItemKind.Property,
    detail: `${fieldSummary(f)} · default ${defaultText(f) || '(empty)'}`,
    documentation: { kind: 'markdown', value: fieldMarkdown(f) },
    // Missing required fields first, then the optional ones, each in schema order.
    sortText: `${f.required ? 0 : 1}_${String(i).padStart(3, '0')}`,
    insertTextFormat: InsertTextFormat.PlainText,
    textEdit: { range, newText: hasEquals ? f.name : `${f.name}=` },
    command: hasEquals ? undefined : { title: 'Suggest a value', command: 'editor.action.triggerSuggest' },
  }));
}

/** [value, detail] pairs for a field, the recommended one first. */
function valueCandidates(spec: FieldSpec): string[][] {
  const byDefault = (values: string[]): string[][] =>
    values.map((v) => [v, v === defaultText(spec) ? 'default' : '']);
  switch (spec.type) {
    case 'enum':
      return byDefault([defaultText(spec), ...(spec.values ?? []).filter((v) => v !== defaultText(spec))]);
    case 'boolean':
      return byDefault(['on', 'off', 'true', 'false', 'yes', 'no']);
    case 'host':
      return [
        ['127.0.0.1', 'loopback: only this machine (recommended)'],
        ['::1', 'IPv6 loopback'],
        ['localhost', 'loopback by name'],
        ['0.0.0.0', 'every interface: reachable from the network'],
      ];
    case 'hostname':
      return [['localhost', 'default']];
    default: {
      if (spec.name === 'SOCKET_BACKLOG') {
        const somaxconn = readSomaxconn();
        const values = byDefault([defaultText(spec), spec.example]);
        if (somaxconn) values.push([String(somaxconn), "the kernel's cap (net.core.somaxconn)"]);
        return values;
      }
      const values = [defaultText(spec), spec.example].filter(
        (v, i, all) => v !== '' && all.indexOf(v) === i,
      );
      return byDefault(values.length ? values : [spec.example]);
    }
  }
}
