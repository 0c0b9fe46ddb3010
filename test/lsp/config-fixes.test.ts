/**
 * Diagnostics that keep up and fixes that keep meaning, over LSP: a fix for every "did you mean" (preferred, so
 * auto-fix applies it), none for a far miss, duplicates faded with a link to the line that wins, fast typing
 * validated once it pauses, and at most MAX_DIAGNOSTICS diagnostics for a file with a thousand problems.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type CodeAction, CodeActionRequest, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { MAX_DIAGNOSTICS } from '../../server-runtime/src/config/languageFeatures';
import { brief, fileUri, LspClient, makeWorkspace } from './lspClient';

const GOOD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\n';

describe('quick fixes for every "did you mean", diagnostics that keep up', () => {
  let client: LspClient;
  let ws: string;
  let n = 0;

  before(async () => {
    ws = makeWorkspace({ 'hello/wsgi.py': 'def application(environ, start_response):\n    pass\n' });
    client = await LspClient.start(ws);
  });
  after(async () => {
    await client.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  async function open(text: string): Promise<string> {
    const uri = fileUri(ws, `fix${++n}.server3`);
    await client.open(uri, text);
    await client.diagnostics(uri);
    return uri;
  }

  async function actions(uri: string, line: number, character: number): Promise<CodeAction[]> {
    const diagnostics: Diagnostic[] = await client.diagnostics(uri);
    return ((await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: { start: { line, character }, end: { line, character } },
      context: { diagnostics },
    })) ?? []) as CodeAction[];
  }

  /** Applies the preferred fix under the position (what "auto fix" does) and returns the new text. */
  async function autoFix(uri: string, line: number, character: number): Promise<string> {
    const preferred = (await actions(uri, line, character)).filter((a) => a.isPreferred);
    assert.equal(preferred.length, 1, `expected one preferred fix, got ${preferred.map((a) => a.title)}`);
    return client.edit(uri, preferred[0].edit!.changes![uri]);
  }

  test('an enum value in the wrong case: the corrected case is the preferred fix, the default is offered too', async () => {
    const uri = await open(GOOD + 'ACCESS_LOG=Combined\n');
    assert.deepEqual(
      (await actions(uri, 5, 12)).map((a) => [a.title, a.isPreferred]),
      [
        ['Change Combined to combined', true],
        ['Set ACCESS_LOG to its default (common)', false],
      ],
    );
    assert.equal(await autoFix(uri, 5, 12), GOOD + 'ACCESS_LOG=combined\n');
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  // [what, the line, the column of the cursor (on the problem), the line once fixed]
  for (const [name, line, column, fixed] of [
    ['a misspelt key', 'APP_THRAEDS=4', 1, 'APP_THREADS=4'],
    ['a lower-case key', 'workers=2', 1, 'WORKERS=2'],
    ['a key that ends one key only', 'THREADS=4', 1, 'APP_THREADS=4'],
    ['an enum value one letter off', 'LOG_LEVEL=debgu', 12, 'LOG_LEVEL=debug'],
    ['the start of an enum value', 'LOG_LEVEL=warn', 12, 'LOG_LEVEL=warning'],
    ['a blank instead of =', 'APP_THREADS 4', 1, 'APP_THREADS=4'],
    ["YAML's colon instead of =", 'APP_THREADS: 4', 1, 'APP_THREADS=4'],
  ] as const) {
    test(`auto-fix of ${name}: ${line} -> ${fixed}`, async () => {
      const uri = await open(GOOD + line + '\n');
      assert.equal(await autoFix(uri, 5, column), GOOD + fixed + '\n');
      assert.deepEqual(brief(await client.diagnostics(uri)), []);
    });
  }

  test('APP as a file path and a bracketed IPv6 HOST get the form their message proposes', async () => {
    const uri = await open(GOOD.replace('hello.wsgi', 'hello/wsgi.py').replace('127.0.0.1', '[::1]'));
    await autoFix(uri, 0, 6);
    assert.equal(await autoFix(uri, 3, 6), GOOD.replace('127.0.0.1', '::1'));
    assert.deepEqual(brief(await client.diagnostics(uri)), []);
  });

  test('no suggestion, and no rename, for a far miss', async () => {
    const uri = await open(GOOD + 'TIMEOUT=5\nACCESS_LOG=json\nwhat is this\n');
    const messages = (await client.diagnostics(uri)).map((d) => d.message);
    assert.ok(
      messages.every((m) => !m.includes('did you mean')),
      messages.join('\n'),
    );
    assert.deepEqual(await actions(uri, 5, 1), []);
    assert.deepEqual(
      (await actions(uri, 6, 12)).map((a) => a.title),
      ['Set ACCESS_LOG to its default (common)'],
    );
    assert.deepEqual(await actions(uri, 7, 1), []);
  });

  test('a duplicate is faded and points at the line that wins', async () => {
    const uri = await open(GOOD.replace('PORT=8000', 'PORT=8000  # old') + 'PORT=9000\n');
    const [duplicate] = await client.diagnostics(uri);
    assert.equal(duplicate.code, 'duplicate-key');
    assert.deepEqual(duplicate.tags, [1]); // DiagnosticTag.Unnecessary
    assert.deepEqual(duplicate.relatedInformation, [
      {
        location: { uri, range: { start: { line: 5, character: 0 }, end: { line: 5, character: 9 } } },
        message: 'PORT=9000 wins',
      },
    ]);
  });

  test('a burst of 50 quick edits is validated once it pauses, with the last text', async () => {
    const uri = await open(GOOD);
    const before = client.publishCount.get(uri) ?? 0;
    for (let i = 0; i < 50; i++) {
      // Line 5 alternates between "x" (not KEY=VALUE) and empty: only the end state counts.
      const newText = i % 2 ? 'x' : '';
      const range = { start: { line: 5, character: 0 }, end: { line: 5, character: 1 } };
      await client.edit(uri, [{ range, newText }]);
    }
    const final = await client.diagnostics(uri);
    const published = (client.publishCount.get(uri) ?? 0) - before;
    assert.ok(published <= 3, `50 edits published diagnostics ${published} times`);
    assert.deepEqual(brief(final), client.text(uri).endsWith('x') ? ['5:0-1 error not-key-value'] : []);
  });

  test(`a file with a thousand problems gets at most ${MAX_DIAGNOSTICS} diagnostics, errors first, and a count of the rest`, async () => {
    const lines = [GOOD.trimEnd()];
    for (let i = 0; i < 500; i++) lines.push('PORT=x', 'NOT_A_KEY=1');
    const uri = await open(lines.join('\n') + '\n');
    const diagnostics = await client.diagnostics(uri);
    assert.equal(diagnostics.length, MAX_DIAGNOSTICS + 1);
    assert.ok(
      diagnostics.slice(0, MAX_DIAGNOSTICS).every((d) => d.severity === 1),
      'errors come first',
    );
    const more = diagnostics[MAX_DIAGNOSTICS];
    assert.equal(more.code, 'more-problems');
    assert.equal(more.severity, 3);
    // 500 bad PORTs (errors), 500 PORT duplicates and 500 unknown keys (warnings).
    assert.match(more.message, new RegExp(`^${1500 - MAX_DIAGNOSTICS} more problems not shown`));
    // Quick fixes still see every problem: a bad PORT far past the cap has its fix.
    assert.equal(client.text(uri).split('\n')[901], 'PORT=x');
    assert.deepEqual(
      (await actions(uri, 901, 5)).map((a) => a.title),
      ['Set PORT to its default (8000)'],
    );
  });
});
