// Benchmark of the config language server (a printout, not a timed test; run after `npm run build`):
// `npm run bench:config` or `node scripts/bench-config-lsp.mjs [lines] [--files N] [--only validate,burst,app]`.
// Numbers depend on the machine's load.
//  validate: validateConfigText() alone (the work of one validation), median and p95 of 200 runs, on a clean
//     2,000-line file and on one full of problems; then the round trip through the real server over stdio:
//     one didChange -> its publishDiagnostics, after the debounce (DIAGNOSTICS_DELAY_MS), median of 40 edits.
//  burst: 50 edits sent back to back on the file full of problems (fast typing): the lag from the last edit to
//     the diagnostics of the last version, how many times diagnostics were published and how many were sent.
//  app: a workspace of N Python files (test/lsp/bigWorkspace.ts, default 10,000): the module index's first walk
//     (open a config -> the first complete APP completion), a completion once it is indexed (median/p95 of 50),
//     and a new file seen after its watched-file event.
// SERVER3_BENCH_SERVER=/path/to/out/server-runtime/src/languageServer.js measures another build (e.g. the main branch).
// Targets: APP completion under 50 ms in a 10,000-file workspace; a burst's lag well under a second.
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
const { writeBigWorkspace } = require(join(root, 'out/test/lsp/bigWorkspace.js'));
const rpc = require('vscode-languageserver-protocol/node');
const serverJs = process.env.SERVER3_BENCH_SERVER ?? join(root, 'out/server-runtime/src/languageServer.js');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const lineCount = Number(
  args.find((a) => /^\d+$/.test(a) && args[args.indexOf(a) - 1] !== '--files') ?? 2000,
);
const pythonFiles = Number(option('--files', 10_000));
const only = option('--only', 'validate,burst,app').split(',');

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
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
};

/** The language server over stdio, with a listener for its diagnostics. */
async function startServer(workspace) {
  const child = spawn(process.execPath, [serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createProtocolConnection(
    new rpc.StreamMessageReader(child.stdout),
    new rpc.StreamMessageWriter(child.stdin),
  );
  const server = { conn, published: [], onPublish: () => {} };
  conn.onNotification(rpc.PublishDiagnosticsNotification.type, (p) => {
    server.published.push({ at: performance.now(), version: p.version, count: p.diagnostics.length });
    server.onPublish(p);
  });
  conn.onRequest(rpc.RegistrationRequest.type, () => null);
  conn.listen();
  const wsUri = pathToFileURL(workspace).href;
  await conn.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid,
    rootUri: wsUri,
    workspaceFolders: [{ uri: wsUri, name: 'bench' }],
    capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } },
  });
  await conn.sendNotification(rpc.InitializedNotification.type, {});
  server.waitFor = (check) =>
    new Promise((resolve) => {
      server.onPublish = (p) => check(p) && resolve(p);
    });
  server.stop = async () => {
    await Promise.race([conn.sendRequest(rpc.ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
    await conn.sendNotification(rpc.ExitNotification.type);
    setTimeout(() => child.kill('SIGKILL'), 500).unref();
    conn.dispose();
  };
  return server;
}

async function benchValidation() {
  const ws = mkdtempSync(join(tmpdir(), 'server3-bench-'));
  mkdirSync(join(ws, 'hello'));
  writeFileSync(join(ws, 'hello', 'wsgi.py'), 'def application(environ, start_response):\n    pass\n');
  const options = { configDir: ws, workspaceDir: ws };
  const timeValidation = (body) => {
    for (let i = 0; i < 20; i++) validateConfigText(body, options);
    const ms = [];
    let count = 0;
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      count = validateConfigText(body, options).length;
      ms.push(performance.now() - t);
    }
    return [stats(ms), count];
  };
  // A well-kept file of the same length: every field set once, the rest comments and blank lines.
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
  console.log(`validate: ${lineCount} lines`);
  console.log(`  validateConfigText, ${String(cleanProblems).padStart(4)} problems: ${cleanStats}`);
  console.log(`  validateConfigText, ${String(problems).padStart(4)} problems: ${badStats}`);

  const server = await startServer(ws);
  const uri = pathToFileURL(join(ws, 'bench.server3')).href;
  try {
    let done = server.waitFor((p) => p.uri === uri);
    await server.conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'server3-config', version: 1, text },
    });
    await done;
    const roundTrips = [];
    for (let v = 2; v < 52; v++) {
      done = server.waitFor((p) => p.uri === uri && p.version === v);
      const t = performance.now();
      await server.conn.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: v },
        contentChanges: [edit(v)],
      });
      const p = await done;
      if (v >= 12) roundTrips.push(performance.now() - t); // the first 10 warm the server up
      if (v === 51)
        console.log(`  one edit -> its diagnostics (${p.diagnostics.length} sent): ${stats(roundTrips)}`);
    }
  } finally {
    await server.stop();
    rmSync(ws, { recursive: true, force: true });
  }
}

/** Types one character into line 1's value and takes it back, alternately. */
function edit(v) {
  return v % 2 === 0
    ? { range: { start: { line: 1, character: 9 }, end: { line: 1, character: 9 } }, text: '1' }
    : { range: { start: { line: 1, character: 9 }, end: { line: 1, character: 10 } }, text: '' };
}

async function benchBurst() {
  const ws = mkdtempSync(join(tmpdir(), 'server3-bench-'));
  const server = await startServer(ws);
  const uri = pathToFileURL(join(ws, 'burst.server3')).href;
  const problems = validateConfigText(text).length;
  try {
    let done = server.waitFor((p) => p.uri === uri);
    await server.conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'server3-config', version: 1, text },
    });
    await done;
    let version = 1;
    const lags = [];
    const publishes = [];
    const sent = [];
    for (let round = 0; round < 6; round++) {
      const first = version + 1;
      const last = version + 50;
      done = server.waitFor((p) => p.uri === uri && p.version === last);
      const before = server.published.length;
      for (version = first; version <= last; version++) {
        void server.conn.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
          textDocument: { uri, version },
          contentChanges: [edit(version)],
        });
      }
      version = last;
      const t = performance.now();
      await done;
      if (round === 0) continue; // warm-up
      lags.push(performance.now() - t);
      const these = server.published.slice(before);
      publishes.push(these.length);
      sent.push(these.reduce((sum, p) => sum + p.count, 0));
    }
    const mean = (xs) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    console.log(`burst: 50 edits at once on ${lineCount} lines with ${problems} problems (5 bursts)`);
    console.log(`  lag from the last edit to its diagnostics: ${stats(lags)}`);
    console.log(`  per burst: ${mean(publishes)} publications, ${mean(sent)} diagnostics sent`);
  } finally {
    await server.stop();
    rmSync(ws, { recursive: true, force: true });
  }
}

async function benchApp() {
  const ws = mkdtempSync(join(tmpdir(), 'server3-bench-app-'));
  const written = writeBigWorkspace(ws, pythonFiles);
  const server = await startServer(ws);
  const uri = pathToFileURL(join(ws, '.config_server')).href;
  const config = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=\nDOMAIN=localhost\n';
  const complete = async () => {
    const t = performance.now();
    const result = await server.conn.sendRequest(rpc.CompletionRequest.type, {
      textDocument: { uri },
      position: { line: 3, character: 4 },
    });
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    return { ms: performance.now() - t, items, incomplete: !Array.isArray(result) && !!result?.isIncomplete };
  };
  try {
    const opened = performance.now();
    await server.conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'server3-config', version: 1, text: config },
    });
    let first = await complete();
    const firstMs = first.ms;
    let asked = 1;
    while (first.incomplete && asked < 200) {
      first = await complete();
      asked++;
    }
    const indexed = performance.now() - opened;
    const warm = [];
    let answer = first;
    for (let i = 0; i < 60; i++) {
      answer = await complete();
      if (i >= 10) warm.push(answer.ms);
    }
    writeFileSync(join(ws, 'zz_new_app.py'), 'from flask import Flask\n\napp = Flask(__name__)\n');
    const changed = performance.now();
    await server.conn.sendNotification(rpc.DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: pathToFileURL(join(ws, 'zz_new_app.py')).href, type: rpc.FileChangeType.Created }],
    });
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++)
      seen = (await complete()).items.some((c) => c.label === 'zz_new_app');
    const updateMs = performance.now() - changed;
    console.log(`app: a workspace of ${written} Python files (+50 in a virtualenv)`);
    console.log(
      `  first APP completion: ${firstMs.toFixed(1)} ms (${first.items.length} modules once complete)`,
    );
    console.log(
      `  open -> complete list (the index's first walk): ${indexed.toFixed(0)} ms, ${asked} requests`,
    );
    console.log(`  APP completion once indexed: ${stats(warm)}`);
    console.log(`  offered: ${answer.items.map((c) => c.label).join(', ')}`);
    console.log(`  a new module offered ${updateMs.toFixed(0)} ms after its file event: ${seen}`);
  } finally {
    await server.stop();
    rmSync(ws, { recursive: true, force: true });
  }
}

if (only.includes('validate')) await benchValidation();
if (only.includes('burst')) await benchBurst();
if (only.includes('app')) await benchApp();
