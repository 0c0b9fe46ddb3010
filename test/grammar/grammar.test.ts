/**
 * The TextMate grammar (syntaxes/server3-config.tmLanguage.json), tokenised with vscode-textmate and
 * vscode-oniguruma exactly as VS Code does: fixture files, and every schema field so the grammar keeps up
 * with config_schema.json.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { FIELDS, type FieldType } from '../../server-runtime/src/config/schema';

const repoRoot = resolve(__dirname, '..', '..', '..');
const grammarPath = join(repoRoot, 'syntaxes', 'server3-config.tmLanguage.json');
const fixtures = join(repoRoot, 'test', 'grammar', 'fixtures');

interface Token {
  text: string;
  scopes: string[];
}

let grammar: textmate.IGrammar;

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = readFileSync(join(repoRoot, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === 'source.server3-config'
        ? textmate.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath)
        : null,
  });
  const loaded = await registry.loadGrammar('source.server3-config');
  assert.ok(loaded, 'grammar did not load');
  return loaded;
}

function tokenize(text: string): Token[][] {
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The innermost scope (without the language suffix) of the token with exactly this text on the line. */
function scopeOf(line: Token[], text: string): string {
  const token = line.find((t) => t.text === text);
  assert.ok(token, `no token "${text}" in ${JSON.stringify(line.map((t) => t.text))}`);
  return token.scopes[token.scopes.length - 1].replace(/\.server3-config$/, '');
}

/** The text of a line's comment tokens, joined (the `#` is a token of its own). */
function commentOf(line: Token[]): string {
  return line
    .filter((t) => t.scopes.some((s) => s.startsWith('comment.line.number-sign')))
    .map((t) => t.text)
    .join('');
}

const KEY = 'support.type.property-name.key';
const VALUE_SCOPE: Record<FieldType, string> = {
  port: 'constant.numeric',
  integer: 'constant.numeric',
  number: 'constant.numeric',
  host: 'constant.numeric.ip-address.ipv4',
  hostname: 'string.unquoted.hostname',
  module: 'entity.name.namespace.module',
  identifier: 'entity.name.function',
  enum: 'constant.language.enum',
  boolean: 'constant.language.boolean',
  address: 'constant.numeric.port',
};

describe('TextMate grammar', () => {
  before(async () => {
    grammar = await loadGrammar();
  });

  test('fixture example.server3: keys, =, values by type, comments', () => {
    const lines = tokenize(readFileSync(join(fixtures, 'example.server3'), 'utf8'));
    assert.equal(commentOf(lines[0]), '# Server 3 config');
    assert.equal(scopeOf(lines[0], '#'), 'punctuation.definition.comment');
    assert.equal(scopeOf(lines[1], 'HOST'), KEY);
    assert.equal(scopeOf(lines[1], '='), 'keyword.operator.assignment');
    assert.equal(scopeOf(lines[1], '127.0.0.1'), 'constant.numeric.ip-address.ipv4');
    assert.equal(scopeOf(lines[2], '8000'), 'constant.numeric');
    assert.equal(commentOf(lines[2]), '# dev port');
    assert.equal(scopeOf(lines[3], '400'), 'constant.numeric');
    assert.equal(scopeOf(lines[4], 'messager.wsgi'), 'entity.name.namespace.module');
    assert.equal(scopeOf(lines[5], 'localhost'), 'string.unquoted.hostname');
    assert.equal(scopeOf(lines[6], 'app'), 'entity.name.function');
    assert.equal(scopeOf(lines[7], 'combined'), 'constant.language.enum');
    assert.equal(scopeOf(lines[8], 'off'), 'constant.language.boolean');
    assert.equal(scopeOf(lines[9], '[::1]'), 'constant.numeric.ip-address.ipv6');
    assert.equal(scopeOf(lines[9], '9100'), 'constant.numeric.port');
    assert.equal(scopeOf(lines[10], '2.5'), 'constant.numeric');
    assert.equal(scopeOf(lines[11], 'HSOT'), 'invalid.deprecated.key.unknown');
    assert.equal(scopeOf(lines[11], '0.0.0.0'), 'string.unquoted.value');
    assert.equal(scopeOf(lines[12], 'not a key value line'), 'invalid.illegal.line.not-key-value');
  });

  test('the grammar is generated from the current schema (scripts/gen-grammar.mjs)', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-grammar.mjs'), '--check'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  test('a line without = is invalid; its trailing comment stays a comment; = anywhere makes it an entry', () => {
    const [spaced, commented, yaml, indented, glued] = tokenize(
      'PORT 8000\nPORT 8000  # dev=1\nHOST: 127.0.0.1\n  what#is this\nAPP =x',
    );
    assert.equal(scopeOf(spaced, 'PORT 8000'), 'invalid.illegal.line.not-key-value');
    assert.equal(scopeOf(commented, 'PORT 8000'), 'invalid.illegal.line.not-key-value');
    assert.equal(commentOf(commented), '# dev=1');
    assert.equal(scopeOf(yaml, 'HOST: 127.0.0.1'), 'invalid.illegal.line.not-key-value');
    assert.equal(scopeOf(indented, 'what#is this'), 'invalid.illegal.line.not-key-value');
    assert.equal(scopeOf(glued, 'APP'), KEY);
  });

  for (const field of FIELDS.filter((f) => f.type === 'enum')) {
    test(`enum ${field.name}: exactly its schema values are enum constants`, () => {
      const lines = tokenize(
        [...field.values!, 'Combined', 'json', field.values![0] + 'x']
          .map((v) => `${field.name}=${v}`)
          .join('\n'),
      );
      field.values!.forEach((value, i) => assert.equal(scopeOf(lines[i], value), 'constant.language.enum'));
      const n = field.values!.length;
      assert.equal(scopeOf(lines[n], 'Combined'), 'string.unquoted.value', 'enum values are case-sensitive');
      assert.equal(scopeOf(lines[n + 1], 'json'), 'string.unquoted.value');
      assert.equal(scopeOf(lines[n + 2], field.values![0] + 'x'), 'string.unquoted.value');
    });
  }

  test("APP in gunicorn's form: the module, the colon and the callable", () => {
    const [line, bad] = tokenize('APP=hello.wsgi:app\nAPP=hello.wsgi:create_app()');
    assert.equal(scopeOf(line, 'hello.wsgi'), 'entity.name.namespace.module');
    assert.equal(scopeOf(line, ':'), 'punctuation.separator.callable');
    assert.equal(scopeOf(line, 'app'), 'entity.name.function');
    assert.equal(scopeOf(bad, 'hello.wsgi:create_app()'), 'string.unquoted.value');
  });

  test('hosts: IPv4, IPv6 and hostnames get distinct scopes', () => {
    const [v4, v6, name, full] = tokenize('HOST=0.0.0.0\nHOST = ::1\nHOST=my-host.local\nHOST=fe80::1:2');
    assert.equal(scopeOf(v4, '0.0.0.0'), 'constant.numeric.ip-address.ipv4');
    assert.equal(scopeOf(v6, '::1'), 'constant.numeric.ip-address.ipv6');
    assert.equal(scopeOf(name, 'my-host.local'), 'string.unquoted.hostname');
    assert.equal(scopeOf(full, 'fe80::1:2'), 'constant.numeric.ip-address.ipv6');
  });

  test('a value of the wrong type is not scoped as that type', () => {
    const [port, app, glued] = tokenize('PORT=80a\nAPP=hello/wsgi.py\nPORT=8000#x');
    assert.equal(scopeOf(port, '80a'), 'string.unquoted.value');
    assert.equal(scopeOf(app, 'hello/wsgi.py'), 'string.unquoted.value');
    assert.equal(scopeOf(glued, '8000#x'), 'string.unquoted.value');
    assert.equal(commentOf(glued), '', 'a # glued to a value is not a comment');
  });

  test('lower-case keys and indented comments', () => {
    const [lower, comment] = tokenize('port=8000\n   # note');
    assert.equal(scopeOf(lower, 'port'), 'invalid.deprecated.key.unknown');
    assert.equal(commentOf(comment), '# note');
  });

  for (const field of FIELDS) {
    test(`schema field ${field.name} (${field.type}) is a known key with a ${field.type} value`, () => {
      const [line] = tokenize(`${field.name}=${field.example}`);
      assert.equal(scopeOf(line, field.name), KEY);
      const valueText = field.type === 'address' ? field.example.split(':').pop()! : field.example;
      assert.equal(scopeOf(line, valueText), VALUE_SCOPE[field.type]);
    });
  }
});
