/**
 * "Copy as curl" (extension/src/curl.ts): POSIX single quoting, checked by handing the quoted words to a real
 * /bin/sh and reading back what it received, and the command line's contents: method, URL, headers kept,
 * redacted ones never.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { curlCommand, curlHeaders, redactedCount, requestUrl, shellQuote } from '../../extension/src/curl';

/** What a POSIX shell makes of `words` (printed one per line, NUL-free). */
function shellWords(words: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `for a in ${words}; do printf '%s\\0' "$a"; done`], {
    encoding: 'utf8',
  });
  return out.split('\0').slice(0, -1);
}

test('shellQuote: single quotes around, a quote inside as close-escaped-reopen', () => {
  assert.equal(shellQuote('plain'), `'plain'`);
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  assert.equal(shellQuote(''), `''`);
  assert.equal(shellQuote(`''`), `''\\'''\\'''`);
});

test('shellQuote: the shell reads back exactly the text, whatever it holds', () => {
  const nasty = [
    `it's`,
    `$(rm -rf /) and \`id\``,
    `$HOME ${'${PATH}'} ~ * ? [a]`,
    `double " and back \\ slash`,
    `semi; pipe | and & amp > redirect < in`,
    `new\nline and\ttab`,
    `'`,
    `unicode é ✓`,
    '',
  ];
  for (const text of nasty) assert.deepEqual(shellWords(shellQuote(text)), [text], JSON.stringify(text));
  assert.deepEqual(shellWords(nasty.map(shellQuote).join(' ')), nasty);
});

test('requestUrl joins the server and the path without doubling or losing the slash', () => {
  assert.equal(requestUrl('http://127.0.0.1:8000', '/sleep'), 'http://127.0.0.1:8000/sleep');
  assert.equal(requestUrl('http://127.0.0.1:8000/', '/sleep'), 'http://127.0.0.1:8000/sleep');
  assert.equal(requestUrl('http://[::1]:8000', 'x'), 'http://[::1]:8000/x');
  // A path that looks like a network path stays a path of this server.
  assert.equal(
    requestUrl('http://127.0.0.1:8000', '//evil.example/x'),
    'http://127.0.0.1:8000//evil.example/x',
  );
});

test('curlCommand: method, headers and URL, each one quoted word', () => {
  const command = curlCommand({
    baseUrl: 'http://127.0.0.1:8000',
    method: 'POST',
    path: `/users/7/it's`,
    headers: [
      ['Content-Type', 'application/json'],
      ['X-Note', `say "hi" it's $HOME`],
    ],
  });
  assert.equal(
    command,
    `curl -X 'POST' -H 'Content-Type: application/json' -H 'X-Note: say "hi" it'\\''s $HOME' 'http://127.0.0.1:8000/users/7/it'\\''s'`,
  );
  assert.deepEqual(shellWords(command), [
    'curl',
    '-X',
    'POST',
    '-H',
    'Content-Type: application/json',
    '-H',
    `X-Note: say "hi" it's $HOME`,
    `http://127.0.0.1:8000/users/7/it's`,
  ]);
});

test('curlCommand: GET needs no -X, HEAD uses --head (with -X HEAD curl waits for a body)', () => {
  assert.equal(curlCommand({ baseUrl: 'http://h:1', method: 'GET', path: '/' }), `curl 'http://h:1/'`);
  assert.equal(
    curlCommand({ baseUrl: 'http://h:1', method: 'HEAD', path: '/' }),
    `curl --head 'http://h:1/'`,
  );
  // A method that is not a token (the runtime records "-" for a refused request) is not passed on.
  assert.equal(curlCommand({ baseUrl: 'http://h:1', method: '-', path: '/' }), `curl 'http://h:1/'`);
});

test('redacted headers are never on the command line; curl-owned and malformed ones are left out', () => {
  const headers: [string, string][] = [
    ['Authorization', '[redacted]'],
    ['Cookie', '[redacted]'],
    ['X-Api-Key', '[redacted]'],
    ['Host', '127.0.0.1:8000'],
    ['Content-Length', '12'],
    ['Connection', 'keep-alive'],
    ['X-Trace', 't-1'],
    ['Bad Name', 'x'],
    ['X-Split', 'a\r\nInjected: 1'],
  ];
  assert.deepEqual(curlHeaders(headers), [['X-Trace', 't-1']]);
  const command = curlCommand({ baseUrl: 'http://127.0.0.1:8000', method: 'GET', path: '/a', headers });
  assert.equal(command, `curl -H 'X-Trace: t-1' 'http://127.0.0.1:8000/a'`);
  assert.ok(!command.includes('redacted'));
  assert.equal(redactedCount(headers), 3);
  assert.equal(redactedCount(undefined), 0);
});
