// Writes syntaxes/server3-config.tmLanguage.json from the one schema
// (server-runtime/python/Server_3_free_threads/config_schema.json): the known keys grouped by their type, each
// enum field with exactly its schema values, APP's `module:callable` form, and lines without `=` marked invalid.
// `node scripts/gen-grammar.mjs --check` exits 1 when the grammar is out of date (run by the grammar tests), so a
// field added to the schema cannot be forgotten in the highlighting.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = 'server-runtime/python/Server_3_free_threads/config_schema.json';
const outPath = join(root, 'syntaxes', 'server3-config.tmLanguage.json');
const schema = JSON.parse(readFileSync(join(root, schemaPath), 'utf8'));

const SUFFIX = '.server3-config';
const scope = (name) => ({ name: name + SUFFIX });
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A whole value: starts after `=` or a blank, ends before a blank (a trailing comment) or the line's end. */
const whole = (body) => `(?<=^|[ \\t=])${body}(?=[ \\t]|$)`;

// Each group of value patterns a type's values may match; anything else is a plain string.
const VALUE_PATTERNS = {
  number: ['#number'],
  host: ['#ipv4', '#ipv6', '#hostname'],
  module: ['#module'],
  identifier: ['#identifier'],
  boolean: ['#boolean'],
  address: ['#address'],
};
const GROUP_OF_TYPE = {
  port: 'number',
  integer: 'number',
  number: 'number',
  host: 'host',
  hostname: 'host',
  module: 'module',
  identifier: 'identifier',
  boolean: 'boolean',
  address: 'address',
};
const GROUP_COMMENTS = {
  number: 'numbers: port, integer, number fields',
  host: 'hosts: host, hostname fields',
  module: 'module paths, with an optional `:callable` (gunicorn): module fields',
  identifier: 'Python names: identifier fields',
  boolean: 'booleans: boolean fields',
  address: 'HOST:PORT addresses: address fields',
};

function entry(comment, keys, valuePatterns) {
  return {
    comment,
    begin: `^[ \\t]*(${keys.join('|')})[ \\t]*(=)`,
    beginCaptures: {
      1: scope('support.type.property-name.key'),
      2: scope('keyword.operator.assignment'),
    },
    end: '$',
    patterns: [
      { include: '#trailing-comment' },
      ...valuePatterns.map((include) => ({ include })),
      { include: '#other-value' },
    ],
  };
}

export function render() {
  const repository = {
    comment: {
      match: '^[ \\t]*((#).*)$',
      captures: { 1: scope('comment.line.number-sign'), 2: scope('punctuation.definition.comment') },
    },
    'trailing-comment': {
      match: '(?<=[ \\t])((#).*)$',
      captures: { 1: scope('comment.line.number-sign'), 2: scope('punctuation.definition.comment') },
    },
  };
  const patterns = [{ include: '#comment' }];
  for (const [group, includes] of Object.entries(VALUE_PATTERNS)) {
    const keys = schema.fields.filter((f) => GROUP_OF_TYPE[f.type] === group).map((f) => f.name);
    if (!keys.length) continue;
    repository[`entry-${group}`] = entry(GROUP_COMMENTS[group], keys, includes);
    patterns.push({ include: `#entry-${group}` });
  }
  // Enums: each field's own values, straight from the schema (case-sensitive, as the validators are).
  for (const field of schema.fields.filter((f) => f.type === 'enum')) {
    const id = `enum-${field.name.toLowerCase().replace(/_/g, '-')}`;
    repository[id] = {
      match: whole(`(?:${field.values.map(escape).join('|')})`),
      name: 'constant.language.enum' + SUFFIX,
    };
    repository[`entry-${id}`] = entry(
      `${field.name}: one of ${field.values.join(', ')}`,
      [field.name],
      [`#${id}`],
    );
    patterns.push({ include: `#entry-${id}` });
  }
  repository['entry-unknown'] = {
    comment:
      'any other KEY=VALUE: the key is not in the schema (the language server says which one was meant)',
    begin: '^[ \\t]*([A-Za-z_][A-Za-z0-9_]*)[ \\t]*(=)',
    beginCaptures: {
      1: scope('invalid.deprecated.key.unknown'),
      2: scope('keyword.operator.assignment'),
    },
    end: '$',
    patterns: [{ include: '#trailing-comment' }, { include: '#other-value' }],
  };
  patterns.push({ include: '#entry-unknown' });
  // A line with text but no `=` before its trailing comment is not KEY=VALUE (config.py's not-key-value).
  repository['not-key-value'] = {
    comment: 'a line without = (outside a trailing comment): not KEY=VALUE',
    match: '^[ \\t]*([^ \\t#=](?:[^=#]|(?<=[^ \\t])#)*?)[ \\t]*((?<=[ \\t])#.*)?$',
    captures: { 1: scope('invalid.illegal.line.not-key-value'), 2: scope('comment.line.number-sign') },
  };
  patterns.push({ include: '#not-key-value' });
  Object.assign(repository, {
    number: {
      match: whole('[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?'),
      name: 'constant.numeric' + SUFFIX,
    },
    ipv4: {
      match: whole('[0-9]{1,3}(?:\\.[0-9]{1,3}){3}'),
      name: 'constant.numeric.ip-address.ipv4' + SUFFIX,
    },
    ipv6: {
      match: whole('[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?<=:)[0-9]{1,3}(?:\\.[0-9]{1,3}){3})?'),
      name: 'constant.numeric.ip-address.ipv6' + SUFFIX,
    },
    hostname: {
      match: whole(
        '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*',
      ),
      name: 'string.unquoted.hostname' + SUFFIX,
    },
    module: {
      match: whole('([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)(?:(:)([A-Za-z_][A-Za-z0-9_]*))?'),
      captures: {
        1: scope('entity.name.namespace.module'),
        2: scope('punctuation.separator.callable'),
        3: scope('entity.name.function'),
      },
    },
    identifier: { match: whole('[A-Za-z_][A-Za-z0-9_]*'), name: 'entity.name.function' + SUFFIX },
    boolean: {
      match: whole('(?i:on|off|true|false|yes|no|1|0)'),
      name: 'constant.language.boolean' + SUFFIX,
    },
    address: {
      match: whole(
        '(?:(\\[[0-9A-Fa-f:.]+\\])|([0-9]{1,3}(?:\\.[0-9]{1,3}){3})|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?))(:)([0-9]+)',
      ),
      captures: {
        1: scope('constant.numeric.ip-address.ipv6'),
        2: scope('constant.numeric.ip-address.ipv4'),
        3: scope('string.unquoted.hostname'),
        4: scope('punctuation.separator.port'),
        5: scope('constant.numeric.port'),
      },
    },
    'other-value': { match: '[^ \\t]+', name: 'string.unquoted.value' + SUFFIX },
  });
  const grammar = {
    $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
    name: 'Server 3 Config',
    scopeName: 'source.server3-config',
    comment: `Generated by scripts/gen-grammar.mjs from ${schemaPath}: edit those, not this file.`,
    patterns,
    repository,
  };
  return JSON.stringify(grammar, null, 2) + '\n';
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const text = render();
  if (process.argv.includes('--check')) {
    const current = readFileSync(outPath, 'utf8');
    if (current !== text) {
      console.error(`${outPath} is out of date: run node scripts/gen-grammar.mjs`);
      process.exit(1);
    }
    console.log('the grammar is up to date');
  } else {
    writeFileSync(outPath, text);
    console.log(`wrote ${outPath}`);
  }
}
