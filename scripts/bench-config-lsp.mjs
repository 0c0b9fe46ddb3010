// Benchmark of the config language server on a 2,000-line file (a printout, not a timed test; run after
// `npm run build`): `npm run bench:config` or `node scripts/bench-config-lsp.mjs [lines]`.
// Numbers depend on the machine's load.
//  1. validateConfigText() alone (the work done on every keystroke), median and p95 of 200 runs, on a clean
//     file and on a file full of problems;
//  2. the whole round trip through the real server over stdio on the file full of problems: didChange (one
//     incremental edit) -> publishDiagnostics received (all ~2,000 of them), median and p95 of 100 edits.
// Target (issue 4): re-validating a 2,000-line file takes under 10 ms.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { validateConfigText } = require(join(root, 'out/server-runtime/src/config/validate.js'));
const rpc = require('vscode-languageserver-protocol/node');

const lineCount = Number(process.argv[2] ?? 2000);
// A deliberately bad mix: every kind of line, most of them with a problem (duplicates, unknown keys,
// values out of range, lines that are not KEY=VALUE), so every check runs and every problem is built.
const mix = [
  '# a comment line that explains the next setting',
  'APP_THREADS=8',
  'KEEPALIVE_TIMEOUT = 2.5  # seconds',
  'HOST=0.0.0.0',
  'ACCESS_LOG=combined',
  'STATS=127.0.0.1:9100',
  'APP_THRAEDS=4',
  'PORT=99999',
  '',
  'not a key value line',
];
const head = ['HOST=127.0.0.1', 'PORT=8000', 'SOCKET_BACKLOG=400', 'APP=hello.wsgi', 'DOMAIN=localhost'];
const lines = [...head];
while (lines.length < lineCount) lines.push(mix[lines.length % mix.length]);
const text = lines.join('\n') + '\n';

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms`;
};

const ws = mkdtempSync(join(tmpdir(), 'server3-bench-'));
writeFileSync(join(ws, 'bench.server3'), text);
mkdirSync(join(ws, 'hello'));
writeFileSync(join(ws, 'hello', 'wsgi.py'), 'def application(environ, start_response):\n    pass\n');
const options = { configDir: ws, workspaceDir: ws };
/** Median/p95 of validating `body` 200 times (after 20 runs that warm up the JIT), and its problem count. */
function timeValidation(body) {
  for (let i = 0; i < 20; i++) validateConfigText(body, options);
  const ms = [];
  let count = 0;
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    count = validateConfigText(body, options).length;
    ms.push(performance.now() - t);
  }
  return [stats(ms), count];
}
// A well-kept file of the same length (what users mostly have): every field set once, with its own comment,
// and the rest comments and blank lines (a key can only be set once without a duplicate-key warning).
const clean = [
  ...head,
  'APP_THREADS=8',
  'WORKERS=2',
  'KEEPALIVE_TIMEOUT=5',
  'ACCESS_LOG=combined',
  'METRICS=on',
];
const cleanMix = ['# explains the settings around it, at some length, like a well-kept file does', ''];
while (clean.length < lineCount) clean.push(cleanMix[clean.length % cleanMix.length]);
const [cleanStats, cleanProblems] = timeValidation(clean.join('\n') + '\n');
const [badStats, problems] = timeValidation(text);
console.log(`${lineCount} lines`);
console.log(`validateConfigText, ${String(cleanProblems).padStart(4)} problems: ${cleanStats}`);
console.log(`validateConfigText, ${String(problems).padStart(4)} problems: ${badStats}`);

const child = spawn(process.execPath, [join(root, 'out/server-runtime/src/server.js'), '--stdio'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const conn = rpc.createProtocolConnection(
  new rpc.StreamMessageReader(child.stdout),
  new rpc.StreamMessageWriter(child.stdin),
);
let wake = () => {};
conn.onNotification(rpc.PublishDiagnosticsNotification.type, (p) => wake(p));
conn.listen();
const uri = pathToFileURL(join(ws, 'bench.server3')).href;
const published = () => new Promise((resolve) => (wake = resolve));
try {
  const wsUri = pathToFileURL(ws).href;
  await conn.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid,
    rootUri: wsUri,
    workspaceFolders: [{ uri: wsUri, name: 'bench' }],
    capabilities: {},
  });
  await conn.sendNotification(rpc.InitializedNotification.type, {});
  let done = published();
  await conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'server3-config', version: 1, text },
  });
  await done;
  const roundTrips = [];
  for (let v = 2; v < 122; v++) {
    done = published();
    const t = performance.now();
    // Type one character into the last line's value and back, alternately.
    const change =
      v % 2 === 0
        ? { range: { start: { line: 1, character: 9 }, end: { line: 1, character: 9 } }, text: '1' }
        : { range: { start: { line: 1, character: 9 }, end: { line: 1, character: 10 } }, text: '' };
    await conn.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: v },
      contentChanges: [change],
    });
    await done;
    if (v >= 22) roundTrips.push(performance.now() - t); // the first 20 warm the server up
  }
  console.log(`didChange -> publishDiagnostics (${problems} problems): ${stats(roundTrips)}`);
  await conn.sendRequest(rpc.ShutdownRequest.type);
  await conn.sendNotification(rpc.ExitNotification.type);
} finally {
  setTimeout(() => child.kill('SIGKILL'), 500).unref();
  conn.dispose();
  rmSync(ws, { recursive: true, force: true });
}
