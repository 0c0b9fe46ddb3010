/**
 * Completion: keys (missing required ones first, keys already set left out) and values where they are known
 * (enum values, booleans, loopback hosts, APP from the workspace's modules that define the callable).
 */
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from 'vscode-languageserver/node';
import { fieldMarkdown, fieldSummary } from './docs';
import { readSomaxconn } from './fileChecks';
import { commentStart, isBlank, parseConfig } from './parse';
import { defaultText, FIELD_BY_NAME, FIELDS, type FieldSpec } from './schema';

export interface CompletionContext {
  /** Dotted module paths that define `callable`, for APP (empty when unknown). */
  modulesDefining(callable: string): Promise<string[]>;
}

export interface Position {
  line: number;
  character: number;
}

export async function completeAt(
  text: string,
  pos: Position,
  ctx: CompletionContext,
): Promise<CompletionItem[]> {
  const parsed = parseConfig(text);
  const line = parsed.texts[pos.line] ?? '';
  const before = line.slice(0, pos.character);
  const first = before.search(/[^ \t]/);
  if (first >= 0 && before[first] === '#') return []; // in a comment line
  const hash = commentStart(line, Math.max(first, 0));
  if (hash >= 0 && pos.character > hash) return []; // in a trailing comment
  const equals = before.indexOf('=');
  // Before any `=`: the key. After it: a value of that key, replacing the whole value already there.
  if (equals < 0) return completeKeys(parsed.entries, line, pos, first < 0 ? pos.character : first);
  const key = before.slice(0, equals).trim();
  const spec = FIELD_BY_NAME.get(key);
  if (!spec) return [];
  let valueStart = equals + 1;
  while (valueStart < line.length && isBlank(line[valueStart])) valueStart++;
  let valueEnd = hash >= 0 ? hash : line.length;
  while (valueEnd > valueStart && isBlank(line[valueEnd - 1])) valueEnd--;
  const range = {
    start: { line: pos.line, character: Math.min(valueStart, pos.character) },
    end: { line: pos.line, character: Math.max(valueEnd, pos.character) },
  };
  const callable = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop()?.value || 'application';
  return (await valueCandidates(spec, ctx, callable)).map(([value, detail], i) => ({
    label: value,
    kind: CompletionItemKind.Value,
    detail,
    sortText: String(i).padStart(3, '0'),
    preselect: i === 0,
    textEdit: { range, newText: value },
  }));
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
async function valueCandidates(
  spec: FieldSpec,
  ctx: CompletionContext,
  callable: string,
): Promise<string[][]> {
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
    case 'module': {
      const modules = await ctx.modulesDefining(callable);
      return modules.map((m) => [m, `defines ${callable}`]);
    }
    case 'identifier':
      return byDefault(['application', 'app']);
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
