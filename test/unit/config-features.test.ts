/**
 * The config language's editor features as plain functions, in process (test/lsp drives the same functions
 * through the language server; these check every item of a list and every edit, where a bug hides past the
 * first items): completion, quick fixes, formatting, hover, symbols, the field docs, diagnostics.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompletionItemKind, DiagnosticSeverity, SymbolKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, CompletionList, TextEdit } from 'vscode-languageserver/node';
import { type ActionContext, codeActions } from '../../server-runtime/src/config/actions';
import type { AppCandidate } from '../../server-runtime/src/config/appCandidates';
import { type CompletionContext, completeAt } from '../../server-runtime/src/config/complete';
import { toDiagnostic } from '../../server-runtime/src/config/diagnostics';
import { fieldMarkdown, fieldSummary, rangeLabel } from '../../server-runtime/src/config/docs';
import { readSomaxconn } from '../../server-runtime/src/config/fileChecks';
import { canonicalLine, formatEdits } from '../../server-runtime/src/config/format';
import { hoverAt } from '../../server-runtime/src/config/hover';
import { parseConfig } from '../../server-runtime/src/config/parse';
import { compareProblems, formatProblem, type Problem } from '../../server-runtime/src/config/problem';
import { FIELD_BY_NAME, FIELDS, type FieldSpec } from '../../server-runtime/src/config/schema';
import { documentSymbols } from '../../server-runtime/src/config/symbols';
import { validate } from '../../server-runtime/src/config/validate';
import type { WsgiCallable } from '../../server-runtime/src/config/wsgiCallables';

const GOOD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\n';
const URI = 'file:///w/.config_server';

function applyEdits(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create(URI, 'server3-config', 1, text), edits);
}

/** A candidate for APP as appCandidates.ts makes them: `module` under /w defining `name` on `line`. */
function candidate(module: string, name: string, kind: string, line = 0): AppCandidate {
  const file = `/w/${module.replace(/\./g, '/')}.py`;
  return { module, file, callable: { name, line, kind }, depth: module.split('.').length - 1 };
}

const calls: string[] = [];
/** What the context's callablesOfApp() answers (APP_CALLABLE's values). */
let appCallables: WsgiCallable[] = [];
const ctx: CompletionContext = {
  appCandidates: async (wanted: string) => {
    calls.push(wanted);
    const candidates =
      wanted === 'application'
        ? [
            candidate('api', 'application', 'defines application'),
            candidate('hello.wsgi', 'application', 'Django WSGI application', 3),
          ]
        : [candidate('flaskapp', 'app', 'Flask app', 4)];
    return { candidates, complete: true };
  },
  callablesOfApp: () => appCallables,
};

async function completeList(text: string, line: number, character: number): Promise<CompletionList> {
  return completeAt(text, { line, character }, ctx);
}

async function complete(text: string, line: number, character: number): Promise<CompletionItem[]> {
  const list = await completeList(text, line, character);
  // Only APP's list can be incomplete (a big workspace still being indexed).
  assert.equal(list.isIncomplete, false);
  return list.items;
}

/** Value items as [label, detail, sortText, preselect] rows. */
function rows(
  items: CompletionItem[],
): [string, string | undefined, string | undefined, boolean | undefined][] {
  return items.map((i) => [i.label, i.detail, i.sortText, i.preselect]);
}

function editOf(item: CompletionItem): TextEdit {
  assert.ok(item.textEdit && 'range' in item.textEdit, `${item.label} has no plain text edit`);
  return item.textEdit;
}

describe('key completion', () => {
  test('the whole list: missing required keys first, then the optional ones in schema order, none already set', async () => {
    const items = await complete('HOST=127.0.0.1\nAPP=hello.wsgi\n\n', 2, 0);
    const expected = FIELDS.filter((f) => f.name !== 'HOST' && f.name !== 'APP');
    assert.deepEqual(
      items.map((i) => [i.label, i.sortText]),
      expected.map((f, i) => [f.name, `${f.required ? 0 : 1}_${String(i).padStart(3, '0')}`]),
    );
    assert.deepEqual(items.map((i) => i.label).slice(0, 4), [
      'PORT',
      'SOCKET_BACKLOG',
      'DOMAIN',
      'APP_CALLABLE',
    ]);
    // Sorting by sortText keeps exactly this order (the client sorts by it).
    const sorted = [...items].sort((a, b) => a.sortText!.localeCompare(b.sortText!));
    assert.deepEqual(sorted, items);
    for (const item of items) {
      const f = FIELD_BY_NAME.get(String(item.label))!;
      assert.equal(item.kind, CompletionItemKind.Property);
      assert.equal(item.insertTextFormat, 1);
      assert.deepEqual(editOf(item), {
        range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } },
        newText: `${f.name}=`,
      });
      assert.deepEqual(item.command, { title: 'Suggest a value', command: 'editor.action.triggerSuggest' });
      assert.deepEqual(item.documentation, { kind: 'markdown', value: fieldMarkdown(f) });
    }
    assert.deepEqual(
      items
        .map((i) => i.detail)
        .slice(0, 3)
        .concat(items.at(-1)!.detail!),
      [
        'port, required · default 8000',
        'integer, required · default 1024',
        'hostname, required · default localhost',
        'address, optional · default (empty)',
      ],
    );
  });

  test('every key of an empty file, required ones first', async () => {
    const labels = (await complete('', 0, 0)).map((i) => i.label);
    assert.deepEqual(labels, [
      ...FIELDS.filter((f) => f.required).map((f) => f.name),
      ...FIELDS.filter((f) => !f.required).map((f) => f.name),
    ]);
    assert.equal(labels.length, FIELDS.length);
  });

  test('keys set on other lines are left out; the key of the line being edited is offered again', async () => {
    const labels = (await complete('HOST=1\nHOST=2\nPO\nPORT=1', 2, 2)).map((i) => i.label);
    assert.ok(!labels.includes('HOST') && !labels.includes('PORT'), 'keys set on other lines');
    assert.equal(labels.length, FIELDS.length - 2);
    const onItsOwnLine = (await complete('HOST=1\nPORT=1\n', 1, 2)).map((i) => i.label);
    assert.ok(onItsOwnLine.includes('PORT') && !onItsOwnLine.includes('HOST'));
  });

  test('replaces the whole word under the cursor; with an = after it, only the name, and no suggest', async () => {
    const [port] = (await complete('  PO', 0, 4)).filter((i) => i.label === 'PORT');
    assert.deepEqual(editOf(port).range, {
      start: { line: 0, character: 2 },
      end: { line: 0, character: 4 },
    });
    assert.equal(editOf(port).newText, 'PORT=');
    const middle = (await complete('\tPOxT_9 = 80', 0, 3)).find((i) => i.label === 'PORT')!;
    assert.deepEqual(editOf(middle), {
      range: { start: { line: 0, character: 1 }, end: { line: 0, character: 7 } },
      newText: 'PORT',
    });
    assert.equal(middle.command, undefined);
    assert.equal(applyEdits('\tPOxT_9 = 80', [editOf(middle)]), '\tPORT = 80');
    // A word followed by something else than = still gets the =.
    const noEquals = (await complete('PO x=1', 0, 2)).find((i) => i.label === 'PORT')!;
    assert.equal(editOf(noEquals).newText, 'PORT=');
  });

  test('a key at column 0, and a line past the end of the text', async () => {
    const [port] = (await complete('PO', 0, 2)).filter((i) => i.label === 'PORT');
    assert.deepEqual(editOf(port).range, {
      start: { line: 0, character: 0 },
      end: { line: 0, character: 2 },
    });
    const past = (await complete('HOST=1', 3, 0)).find((i) => i.label === 'PORT')!;
    assert.deepEqual(editOf(past).range, {
      start: { line: 3, character: 0 },
      end: { line: 3, character: 0 },
    });
  });

  test('nothing inside a comment line or a trailing comment', async () => {
    assert.deepEqual(await complete('# PO', 0, 4), []);
    assert.deepEqual(await complete('   # PO', 0, 7), []);
    assert.deepEqual(await complete('PORT=80 # c', 0, 11), []);
    assert.deepEqual(await complete('PORT=80 # c', 0, 9), []);
    // Right before the #: still the value.
    assert.deepEqual(editOf((await complete('PORT=80 # c', 0, 8))[0]).range.end, { line: 0, character: 8 });
    // A # inside a word is not a comment: the value runs to the end.
    assert.deepEqual(editOf((await complete('PORT=8#0', 0, 8))[0]).range.end, { line: 0, character: 8 });
    assert.deepEqual(editOf((await complete('PORT=8#0 #x', 0, 6))[0]).range.end, { line: 0, character: 8 });
  });
});

describe('value completion', () => {
  test('enum values, the default first and preselected, replacing the whole value', async () => {
    const text = GOOD + 'ACCESS_LOG = combined  # c\n';
    const items = await complete(text, 5, 13);
    assert.deepEqual(rows(items), [
      ['common', 'default', '000', true],
      ['off', '', '001', false],
      ['combined', '', '002', false],
    ]);
    for (const item of items) {
      assert.equal(item.kind, CompletionItemKind.Value);
      assert.deepEqual(editOf(item).range, {
        start: { line: 5, character: 13 },
        end: { line: 5, character: 21 },
      });
    }
    assert.equal(applyEdits(text, [editOf(items[1])]).split('\n')[5], 'ACCESS_LOG = off  # c');
    const level = await complete(GOOD + 'LOG_LEVEL=\n', 5, 10);
    assert.deepEqual(
      level.map((i) => [i.label, i.detail]),
      [
        ['info', 'default'],
        ['debug', ''],
        ['warning', ''],
        ['error', ''],
      ],
    );
  });

  test('booleans: every accepted word, the default marked', async () => {
    assert.deepEqual(
      (await complete('METRICS=', 0, 8)).map((i) => [i.label, i.detail]),
      [
        ['on', 'default'],
        ['off', ''],
        ['true', ''],
        ['false', ''],
        ['yes', ''],
        ['no', ''],
      ],
    );
  });

  test('HOST: loopback first, the network last, each said', async () => {
    assert.deepEqual(
      (await complete('HOST=', 0, 5)).map((i) => [i.label, i.detail]),
      [
        ['127.0.0.1', 'loopback: only this machine (recommended)'],
        ['::1', 'IPv6 loopback'],
        ['localhost', 'loopback by name'],
        ['0.0.0.0', 'every interface: reachable from the network'],
      ],
    );
  });

  test('DOMAIN, APP_CALLABLE, numbers: default, then example when it differs', async () => {
    const labels = async (line: string) =>
      (await complete(line, 0, line.length)).map((i) => [i.label, i.detail]);
    assert.deepEqual(await labels('DOMAIN='), [['localhost', 'default']]);
    assert.deepEqual(await labels('APP_CALLABLE='), [
      ['application', 'default'],
      ['app', ''],
    ]);
    assert.deepEqual(await labels('WORKERS='), [
      ['1', 'default'],
      ['2', ''],
    ]);
    assert.deepEqual(await labels('APP_THREADS='), [['4', 'default']]);
    assert.deepEqual(await labels('KEEPALIVE_TIMEOUT='), [['5', 'default']]);
    // STATS is off (empty) by default: only the example is offered.
    assert.deepEqual(await labels('STATS='), [['127.0.0.1:9100', '']]);
    const somaxconn = readSomaxconn();
    assert.deepEqual(await labels('SOCKET_BACKLOG='), [
      ['1024', 'default'],
      ['400', ''],
      ...(somaxconn ? [[String(somaxconn), "the kernel's cap (net.core.somaxconn)"]] : []),
    ]);
  });

  test("APP: the workspace's modules that define APP_CALLABLE (the last one set), or application", async () => {
    calls.length = 0;
    const items = await complete('APP=\n', 0, 4);
    const at4 = { start: { line: 0, character: 4 }, end: { line: 0, character: 4 } };
    assert.deepEqual(items, [
      {
        label: 'api',
        kind: CompletionItemKind.Module,
        detail: 'application · defines application',
        documentation: {
          kind: 'markdown',
          value: '`application` (defines application) in /w/api.py, line 1',
        },
        sortText: '00000',
        preselect: true,
        textEdit: { range: at4, newText: 'api' },
        additionalTextEdits: undefined,
      },
      {
        label: 'hello.wsgi',
        kind: CompletionItemKind.Module,
        detail: 'application · Django WSGI application',
        documentation: {
          kind: 'markdown',
          value: '`application` (Django WSGI application) in /w/hello/wsgi.py, line 4',
        },
        sortText: '00001',
        preselect: false,
        textEdit: { range: at4, newText: 'hello.wsgi' },
        additionalTextEdits: undefined,
      },
    ]);
    assert.deepEqual(
      (await complete('APP_CALLABLE=x\nAPP=\nAPP_CALLABLE=app\n', 1, 4)).map((i) => [
        i.label,
        i.detail,
        i.additionalTextEdits,
      ]),
      [['flaskapp', 'app · Flask app', undefined]],
      'the last APP_CALLABLE is asked for; it already names the callable: no edit',
    );
    assert.deepEqual(
      (await complete('APP=\nAPP_CALLABLE=app\nPORT=1\n', 0, 4)).map((i) => i.label),
      ['flaskapp'],
      'the APP_CALLABLE line, not the last line',
    );
    await complete('APP_CALLABLE=\nAPP=\n', 1, 4);
    // Not an identifier: asks for application, and picking a module sets APP_CALLABLE to its callable.
    const fixing = await complete('APP_CALLABLE=1x\nAPP=\n', 1, 4);
    assert.deepEqual(calls, ['application', 'app', 'app', 'application', 'application']);
    assert.deepEqual(fixing[0].additionalTextEdits, [
      {
        range: { start: { line: 0, character: 13 }, end: { line: 0, character: 15 } },
        newText: 'application',
      },
    ]);
    assert.equal(
      (fixing[0].documentation as { value: string }).value,
      '`application` (defines application) in /w/api.py, line 1\n\nAlso sets `APP_CALLABLE=application`.',
    );
  });

  test('APP: a module whose callable is not application adds APP_CALLABLE under APP; an incomplete list says so', async () => {
    const text = 'HOST=1\r\nAPP=x  # c\r\nPORT=1';
    const list = await completeAt(
      text,
      { line: 1, character: 5 },
      {
        appCandidates: async () => ({
          candidates: [candidate('flaskapp', 'app', 'Flask app', 4)],
          complete: false,
        }),
        callablesOfApp: () => [],
        describeFile: (file) => `<${file}>`,
      },
    );
    assert.equal(list.isIncomplete, true);
    const [item] = list.items;
    assert.deepEqual(item.additionalTextEdits, [
      {
        range: { start: { line: 1, character: 10 }, end: { line: 1, character: 10 } },
        newText: '\r\nAPP_CALLABLE=app',
      },
    ]);
    assert.deepEqual(item.documentation, {
      kind: 'markdown',
      value: '`app` (Flask app) in </w/flaskapp.py>, line 5\n\nAlso sets `APP_CALLABLE=app`.',
    });
    assert.equal(
      applyEdits(text, [editOf(item), ...item.additionalTextEdits!]),
      'HOST=1\r\nAPP=flaskapp  # c\r\nAPP_CALLABLE=app\r\nPORT=1',
    );
  });

  test("APP_CALLABLE: the callables APP's module defines, then the usual names it does not", async () => {
    const labels = async () =>
      (await complete('APP_CALLABLE=', 0, 13)).map((i) => [i.label, i.detail, i.sortText, i.preselect]);
    try {
      appCallables = [
        { name: 'app', line: 4, kind: 'Flask app' },
        { name: 'make', line: 9, kind: 'app from a factory' },
      ];
      assert.deepEqual(await labels(), [
        ['app', 'Flask app, line 5', '000', true],
        ['make', 'app from a factory, line 10', '001', false],
        ['application', 'default', '002', false],
      ]);
      appCallables = [{ name: 'application', line: 0, kind: 'WSGI function' }];
      assert.deepEqual(await labels(), [
        ['application', 'WSGI function, line 1', '000', true],
        ['app', '', '001', false],
      ]);
    } finally {
      appCallables = [];
    }
  });

  test('the range covers the value between the blanks, before a trailing comment, and reaches the cursor', async () => {
    const range = async (line: string, character: number) =>
      editOf((await complete(line, 0, character))[0]).range;
    assert.deepEqual(await range('PORT =  80  # c', 9), {
      start: { line: 0, character: 8 },
      end: { line: 0, character: 10 },
    });
    // Cursor in the blanks before the value: from the cursor.
    assert.deepEqual(await range('PORT =  80', 7), {
      start: { line: 0, character: 7 },
      end: { line: 0, character: 10 },
    });
    // Cursor after trailing blanks: up to the cursor.
    assert.deepEqual(await range('PORT=80   ', 10), {
      start: { line: 0, character: 5 },
      end: { line: 0, character: 10 },
    });
    assert.deepEqual(await range('PORT=', 5), {
      start: { line: 0, character: 5 },
      end: { line: 0, character: 5 },
    });
    // No value yet, only blanks: from the cursor over the blanks, never back over the =.
    assert.deepEqual(await range('PORT=   ', 5), {
      start: { line: 0, character: 5 },
      end: { line: 0, character: 8 },
    });
  });

  test('no values for an unknown key or a line without a key', async () => {
    assert.deepEqual(await complete('NOPE=', 0, 5), []);
    assert.deepEqual(await complete('=', 0, 1), []);
  });
});

describe('quick fixes', () => {
  function actionsAt(
    text: string,
    line: number,
    character: number,
    endLine = line,
    endCharacter = character,
    context?: ActionContext,
  ) {
    const { parsed, problems } = validate(text, { fileSystem: false });
    const range = { start: { line, character }, end: { line: endLine, character: endCharacter } };
    return { actions: codeActions(URI, text, parsed, problems, range, context), problems };
  }
  const applied = (text: string, action: { edit?: { changes?: Record<string, TextEdit[]> } }) =>
    applyEdits(text, action.edit!.changes![URI]);

  test('add the missing required fields: one preferred action, every missing-required problem attached', () => {
    const text = '# mine\nHOST=127.0.0.1\nDOMAIN=x';
    const { actions, problems } = actionsAt(text, 0, 0);
    assert.deepEqual(
      actions.map((a) => [a.title, a.kind, a.isPreferred]),
      [['Add the missing required fields (PORT, SOCKET_BACKLOG, APP)', 'quickfix', true]],
    );
    assert.deepEqual(
      actions[0].diagnostics,
      problems.filter((p) => p.code === 'missing-required').map((p) => toDiagnostic(p, URI)),
    );
    assert.equal(
      applied(text, actions[0]),
      '# mine\nHOST=127.0.0.1\nDOMAIN=x\nPORT=8000\nSOCKET_BACKLOG=1024\nAPP=wsgi\n',
    );
    // With a module found in the workspace, APP gets it; CRLF files get CRLF; a final line end is not doubled.
    const crlf = 'HOST=127.0.0.1\r\n';
    const [fix] = actionsAt(crlf, 0, 0, 0, 0, {
      candidates: [candidate('hello.wsgi', 'application', 'Django WSGI application')],
    }).actions;
    assert.equal(
      applied(crlf, fix),
      'HOST=127.0.0.1\r\nPORT=8000\r\nSOCKET_BACKLOG=1024\r\nAPP=hello.wsgi\r\nDOMAIN=localhost\r\n',
    );
    assert.equal(applied('', actionsAt('', 0, 0).actions[0]).split('\n')[0], 'HOST=127.0.0.1');
    // Only the missing-required problems are attached, not the others of the file.
    const mixed = 'PORT=x\n';
    const [add] = actionsAt(mixed, 0, 0).actions.filter((a) => a.title.startsWith('Add'));
    assert.deepEqual(
      add.diagnostics!.map((d) => d.code),
      ['missing-required', 'missing-required', 'missing-required', 'missing-required'],
    );
    // Away from line 0 there is no missing-required problem under the cursor.
    assert.deepEqual(actionsAt(text, 1, 3).actions, []);
  });

  test('rename a misspelt key and a lower-case one: every suggestion is a preferred "Change X to Y"', () => {
    const text = GOOD.replace('HOST', 'HSOT').replace('PORT', 'port');
    const rename = actionsAt(text, 0, 2).actions;
    assert.deepEqual(
      rename.map((a) => [a.title, a.isPreferred]),
      [['Change HSOT to HOST', true]],
    );
    assert.equal(applied(text, rename[0]).split('\n')[0], 'HOST=127.0.0.1');
    const { problems } = actionsAt(text, 0, 2);
    assert.deepEqual(rename[0].diagnostics, [toDiagnostic(problems.find((p) => p.code === 'unknown-key')!)]);
    const lower = actionsAt(text, 1, 4).actions;
    assert.deepEqual(
      lower.map((a) => [a.title, a.isPreferred]),
      [['Change port to PORT', true]],
    );
    assert.equal(applied(text, lower[0]).split('\n')[1], 'PORT=8000');
    // An unknown key with no suggestion has no fix.
    assert.deepEqual(actionsAt(GOOD + 'ZZZZZZZZ=1\n', 5, 1).actions, []);
  });

  test('remove a duplicate line: in the middle, at the end without a line end, alone', () => {
    const middle = GOOD + 'PORT=9000\n';
    const [remove] = actionsAt(middle, 1, 0).actions;
    assert.deepEqual([remove.title, remove.isPreferred], ['Remove this PORT line (it has no effect)', true]);
    assert.equal(
      applied(middle, remove),
      'HOST=127.0.0.1\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\nPORT=9000\n',
    );
    const last = 'PORT=1\nHOST=127.0.0.1\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\nPORT=2';
    // The last line is the one that wins; the duplicate is line 0 here. Put the loser last instead:
    const loserLast = 'PORT=1\nX=1\nPORT=2\nPORT=3';
    const fixes = actionsAt(loserLast, 2, 0).actions.filter((a) => a.title.startsWith('Remove'));
    assert.equal(applied(loserLast, fixes[0]), 'PORT=1\nX=1\nPORT=3');
    assert.equal(
      applied(
        last,
        actionsAt(last, 0, 0).actions.find((a) => a.title.startsWith('Remove'))!,
      ),
      last.slice(7),
    );
  });

  test('a bad or empty value gets the default; a network host gets 127.0.0.1; STATS keeps its port', () => {
    const text =
      'HOST=0.0.0.0\nPORT = 99999\nSOCKET_BACKLOG=\nAPP=a/b.py\nDOMAIN=-x\nMETRICS=maybe\nSTATS=0.0.0.0:9100\nLOG_LEVEL=loud\nREQUEST_TIMEOUT=fast\nAPP_CALLABLE=1x\nWORKERS=x\n';
    const titles = (line: number, ch: number) => actionsAt(text, line, ch).actions.map((a) => a.title);
    assert.deepEqual(titles(0, 6), ['Listen on 127.0.0.1 (this machine only)']);
    assert.deepEqual(
      actionsAt('HOST=a_b\n', 0, 6).actions.map((a) => a.title),
      ['Set HOST to its default (127.0.0.1)'],
    );
    assert.deepEqual(titles(1, 8), ['Set PORT to its default (8000)']);
    assert.deepEqual(titles(2, 0), ['Set SOCKET_BACKLOG to its default (1024)']);
    // APP as a path: its suggestion (the dotted module) first, preferred, then the default.
    assert.deepEqual(titles(3, 5), ['Change a/b.py to a.b', 'Set APP to its default (wsgi)']);
    assert.deepEqual(
      actionsAt(text, 3, 5).actions.map((a) => a.isPreferred),
      [true, false],
    );
    assert.equal(applied(text, actionsAt(text, 3, 5).actions[0]).split('\n')[3], 'APP=a.b');
    assert.deepEqual(titles(4, 8), ['Set DOMAIN to its default (localhost)']);
    assert.deepEqual(titles(5, 9), ['Set METRICS to its default (on)']);
    assert.deepEqual(titles(6, 7), ['Listen on 127.0.0.1:9100 (this machine only)']);
    assert.deepEqual(titles(7, 11), ['Set LOG_LEVEL to its default (info)']);
    assert.deepEqual(titles(8, 17), ['Set REQUEST_TIMEOUT to its default (30)']);
    assert.deepEqual(titles(9, 14), ['Set APP_CALLABLE to its default (application)']);
    assert.deepEqual(titles(10, 8), ['Set WORKERS to its default (1)']);
    const fixedPort = applied(text, actionsAt(text, 1, 8).actions[0]);
    assert.equal(fixedPort.split('\n')[1], 'PORT =8000');
    const stats = applied(text, actionsAt(text, 6, 7).actions[0]);
    assert.equal(stats.split('\n')[6], 'STATS=127.0.0.1:9100');
    assert.equal(applied(text, actionsAt(text, 0, 6).actions[0]).split('\n')[0], 'HOST=127.0.0.1');
    // A bad STATS address has no default to fall back to (empty = off): no fix.
    assert.deepEqual(
      actionsAt('STATS=nope\n', 0, 7).actions.filter((a) => a.title.startsWith('Set')),
      [],
    );
    const value = actionsAt(text, 1, 8).actions[0];
    assert.deepEqual([value.isPreferred, value.kind], [false, 'quickfix']);
  });

  test('only the problems under the range get fixes, range ends included', () => {
    const text = 'HOST=0.0.0.0\nPORT=x\nSOCKET_BACKLOG=y\nAPP=a\nDOMAIN=b\n';
    const titles = (a: number, b: number, c: number, d: number) =>
      actionsAt(text, a, b, c, d).actions.map((x) => x.title);
    assert.deepEqual(titles(1, 0, 2, 0), ['Set PORT to its default (8000)']);
    assert.deepEqual(titles(1, 5, 1, 5), ['Set PORT to its default (8000)']); // at the value's start
    assert.deepEqual(titles(1, 6, 1, 6), ['Set PORT to its default (8000)']); // at its end
    assert.deepEqual(titles(1, 0, 1, 4), []); // the key only, before the value
    assert.deepEqual(titles(0, 12, 2, 15), [
      'Listen on 127.0.0.1 (this machine only)',
      'Set PORT to its default (8000)',
      'Set SOCKET_BACKLOG to its default (1024)',
    ]);
    assert.deepEqual(titles(0, 13, 2, 14), ['Set PORT to its default (8000)']);
    assert.deepEqual(titles(3, 0, 4, 9), []);
  });
});

describe('formatting', () => {
  test('canonical lines, one edit per changed line, a final line end', () => {
    const text =
      '  # header  \nHOST = 127.0.0.1   # loopback\n\tPORT\t=8000\n \nSOCKET_BACKLOG=400\n  what is this  \nDOMAIN=x';
    const edits = formatEdits(text);
    assert.deepEqual(
      edits.map((e) => [
        e.range.start.line,
        e.range.start.character,
        e.range.end.line,
        e.range.end.character,
        e.newText,
      ]),
      [
        [0, 0, 0, 12, '# header'],
        [1, 0, 1, 29, 'HOST=127.0.0.1 # loopback'],
        [2, 0, 2, 11, 'PORT=8000'],
        [3, 0, 3, 1, ''],
        [5, 0, 5, 16, '  what is this'],
        [6, 8, 6, 8, '\n'],
      ],
    );
    assert.deepEqual(formatEdits('HOST=1\r\nPORT=2').at(-1)!.newText, '\r\n');
    assert.deepEqual(formatEdits(GOOD), []);
    assert.deepEqual(formatEdits(''), []);
  });

  test('canonical form of each kind of line', () => {
    const [entry, comment, blank, bad] = parseConfig('K = v  #  note  \n  #x \n\t\n a b ').lines;
    assert.equal(canonicalLine(entry, 'K = v  #  note  '), 'K=v #  note');
    assert.equal(canonicalLine(comment, '  #x '), '#x');
    assert.equal(canonicalLine(blank, '\t'), '');
    assert.equal(canonicalLine(bad, ' a b '), ' a b');
  });
});

describe('hover', () => {
  const text = 'HOST=127.0.0.1\nPORT  =  8000  # c\nAPP_THRAEDS=8\nZZZZZZZZZZ=1\nPORT=\n';
  const at = (line: number, character: number) => hoverAt(text, { line, character });
  const span = (h: ReturnType<typeof at>) => h && [h.range!.start.character, h.range!.end.character];

  test("on a key or its value: the field's docs, the range of what is under the cursor", () => {
    const key = at(1, 0)!;
    assert.deepEqual(key.contents, { kind: 'markdown', value: fieldMarkdown(FIELD_BY_NAME.get('PORT')!) });
    assert.deepEqual(key.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 4 } });
    assert.deepEqual(span(at(1, 4)), [0, 4]);
    assert.deepEqual(span(at(1, 8)), [0, 4]); // on the blanks before the value: still the key
    assert.deepEqual(span(at(1, 9)), [9, 13]);
    assert.deepEqual(span(at(1, 13)), [9, 13]);
    assert.equal(at(1, 14), null); // past the value
    assert.equal(at(1, 17), null); // in the comment
    assert.deepEqual(span(at(4, 5)), [0, 4]); // empty value: the key
    assert.equal(at(5, 0), null);
    assert.equal(hoverAt('  PORT=1', { line: 0, character: 1 }), null); // before the key
    assert.deepEqual(span(hoverAt('  PORT=1', { line: 0, character: 2 })), [2, 6]);
  });

  test('on an unknown key: what it probably meant, or that it is ignored', () => {
    const typo = at(2, 3)!;
    assert.deepEqual(typo.range, { start: { line: 2, character: 0 }, end: { line: 2, character: 11 } });
    assert.equal(
      (typo.contents as { value: string }).value,
      `\`APP_THRAEDS\` is not a known key: did you mean **APP_THREADS**?\n\n---\n\n${fieldMarkdown(FIELD_BY_NAME.get('APP_THREADS')!)}`,
    );
    assert.equal(
      (at(3, 0)!.contents as { kind: string; value: string }).kind +
        ':' +
        (at(3, 0)!.contents as { value: string }).value,
      'markdown:`ZZZZZZZZZZ` is not a known key: the server ignores it. See docs/config.md for the keys.',
    );
  });
});

describe('symbols, docs, diagnostics, problems', () => {
  test('one symbol per entry, the kind from the field type', () => {
    const symbols = documentSymbols(
      '# c\n  PORT = 80\nMETRICS=on\nACCESS_LOG=off\nAPP=x\nHOST=h\nNOPE=1\nKEEPALIVE_TIMEOUT=1\nWORKERS=2\nbad line\n',
    );
    assert.deepEqual(
      symbols.map((s) => [s.name, s.detail, s.kind]),
      [
        ['PORT', '80', SymbolKind.Number],
        ['METRICS', 'on', SymbolKind.Boolean],
        ['ACCESS_LOG', 'off', SymbolKind.EnumMember],
        ['APP', 'x', SymbolKind.Module],
        ['HOST', 'h', SymbolKind.Property],
        ['NOPE', '1', SymbolKind.Property],
        ['KEEPALIVE_TIMEOUT', '1', SymbolKind.Number],
        ['WORKERS', '2', SymbolKind.Number],
      ],
    );
    assert.deepEqual(symbols[0].range, { start: { line: 1, character: 2 }, end: { line: 1, character: 11 } });
    assert.deepEqual(symbols[0].selectionRange, {
      start: { line: 1, character: 2 },
      end: { line: 1, character: 6 },
    });
  });

  test('field docs: summary, default, range, values, example', () => {
    const port = FIELD_BY_NAME.get('PORT')!;
    assert.equal(
      fieldMarkdown(port),
      `**PORT** (port, required)\n\n${port.description}\n\nDefault: \`8000\` · Range: 1–65535 · Example: \`PORT=8000\``,
    );
    const log = FIELD_BY_NAME.get('ACCESS_LOG')!;
    assert.equal(
      fieldMarkdown(log),
      `**ACCESS_LOG** (enum, optional)\n\n${log.description}\n\nDefault: \`common\` · Values: \`off\`, \`common\`, \`combined\` · Example: \`ACCESS_LOG=combined\``,
    );
    assert.match(
      fieldMarkdown(FIELD_BY_NAME.get('STATS')!),
      /Default: `\(empty\)` · Example: `STATS=127.0.0.1:9100`$/,
    );
    assert.equal(fieldSummary(FIELD_BY_NAME.get('METRICS')!), 'boolean, optional');
    const spec = (min?: number, max?: number) => ({ ...port, min, max }) as FieldSpec;
    assert.equal(rangeLabel(spec(1, 2)), '1–2');
    assert.equal(rangeLabel(spec(0, undefined)), '≥ 0');
    assert.equal(rangeLabel(spec(undefined, 0)), '≤ 0');
    assert.equal(rangeLabel(spec(undefined, undefined)), undefined);
  });

  test('problems become diagnostics with their code, severity and suggestion', () => {
    const error: Problem = {
      line: 2,
      start: 1,
      end: 4,
      severity: 'error',
      code: 'bad-integer',
      message: 'm',
    };
    assert.deepEqual(toDiagnostic(error), {
      range: { start: { line: 2, character: 1 }, end: { line: 2, character: 4 } },
      severity: DiagnosticSeverity.Error,
      source: 'server3',
      code: 'bad-integer',
      message: 'm',
      data: undefined,
    });
    const warning = toDiagnostic({ ...error, severity: 'warning', suggestion: 'HOST' });
    assert.equal(warning.severity, DiagnosticSeverity.Warning);
    assert.deepEqual(warning.data, { suggestion: 'HOST' });
  });

  test('problems print like the runtime prints them, and sort by place then code', () => {
    const p: Problem = { line: 2, start: 1, end: 4, severity: 'warning', code: 'x', message: 'careful' };
    assert.equal(formatProblem(p, '/w/.config_server'), '/w/.config_server:3: warning: careful');
    assert.equal(formatProblem(p), 'line 3: warning: careful');
    const list: Problem[] = [
      { ...p, code: 'b' },
      { ...p, code: 'a' },
      { ...p, end: 3 },
      { ...p, start: 0 },
      { ...p, line: 1 },
      { ...p, code: 'a' },
    ];
    assert.deepEqual(
      [...list].sort(compareProblems).map((q) => `${q.line}:${q.start}-${q.end} ${q.code}`),
      ['1:1-4 x', '2:0-4 x', '2:1-3 x', '2:1-4 a', '2:1-4 a', '2:1-4 b'],
    );
    assert.equal(compareProblems(list[1], list[5]), 0);
    assert.ok(compareProblems(list[0], list[1]) > 0, 'b after a');
    assert.ok(compareProblems(list[1], list[0]) < 0, 'a before b');
  });
});
