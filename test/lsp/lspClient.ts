/**
 * A real LSP client for the tests: spawns the language server (the tsc output
 * out/server-runtime/src/languageServer.js, or dist/languageServer.js with SERVER3_LSP_BUNDLE=1) as a child process over
 * stdio, speaks JSON-RPC with vscode-languageserver-protocol and records published diagnostics.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  type Diagnostic,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  type FileChangeType,
  InitializedNotification,
  InitializeRequest,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface Published {
  version?: number;
  diagnostics: Diagnostic[];
}

export class LspClient {
  readonly connection: ProtocolConnection;
  private readonly published = new Map<string, Published>();
  /** How many times diagnostics were published per document (a re-validation keeps the version). */
  readonly publishCount = new Map<string, number>();
  /** The glob patterns the server asked to watch (client/registerCapability). */
  readonly watchedGlobs: string[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  stderr = '';

  private constructor(private readonly child: ChildProcess) {
    this.connection = createProtocolConnection(
      new StreamMessageReader(child.stdout!),
      new StreamMessageWriter(child.stdin!),
    );
    child.stderr!.on('data', (d) => (this.stderr += String(d)));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.published.set(p.uri, { version: p.version, diagnostics: p.diagnostics });
      this.publishCount.set(p.uri, (this.publishCount.get(p.uri) ?? 0) + 1);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.connection.onRequest(RegistrationRequest.type, (params) => {
      for (const r of params.registrations) {
        const options = r.registerOptions as { watchers?: { globPattern: string }[] } | undefined;
        for (const w of options?.watchers ?? []) this.watchedGlobs.push(w.globPattern);
      }
      return null;
    });
    this.connection.listen();
  }

  static async start(workspaceDir: string): Promise<LspClient> {
    const bundle = process.env.SERVER3_LSP_BUNDLE === '1';
    const entry = bundle
      ? path.join(repoRoot, 'dist', 'languageServer.js')
      : path.join(repoRoot, 'out', 'server-runtime', 'src', 'languageServer.js');
    const child = spawn(process.execPath, [entry, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const client = new LspClient(child);
    const workspaceUri = pathToFileURL(workspaceDir).href;
    await client.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: workspaceUri,
      workspaceFolders: [{ uri: workspaceUri, name: 'ws' }],
      capabilities: {
        workspace: {
          didChangeWatchedFiles: { dynamicRegistration: true },
          // As VS Code: quick fixes may create files (module-not-found's "create the module").
          workspaceEdit: { documentChanges: true, resourceOperations: ['create'] },
        },
      },
    });
    await client.connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  async open(uri: string, text: string): Promise<void> {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'server3-config', version: 1, text },
    });
  }

  /** Applies edits on the client's copy and sends them as incremental changes, like an editor does. */
  async edit(uri: string, edits: TextEdit[]): Promise<string> {
    const version = (this.versions.get(uri) ?? 0) + 1;
    const before = TextDocument.create(uri, 'server3-config', version - 1, this.texts.get(uri) ?? '');
    const after = TextDocument.applyEdits(before, edits);
    this.versions.set(uri, version);
    this.texts.set(uri, after);
    // Send the edits last-first so each range still refers to the text the server has.
    const ordered = [...edits].sort(
      (a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character,
    );
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: ordered.map((e) => ({ range: e.range, text: e.newText })),
    });
    return after;
  }

  /** Tells the server about file events, as the editor's file watcher does (didChangeWatchedFiles). */
  async filesChanged(changes: { uri: string; type: FileChangeType }[]): Promise<void> {
    await this.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes });
  }

  text(uri: string): string {
    return this.texts.get(uri) ?? '';
  }

  /** The diagnostics published for the document's current version (waits for them, up to timeoutMs). */
  async diagnostics(uri: string, timeoutMs = 5000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.published.get(uri);
      if (p && p.version === this.versions.get(uri)) return p.diagnostics;
      if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} v${this.versions.get(uri)}`);
      await this.nextNotification(deadline - Date.now());
    }
  }

  /** Resolves at the next publishDiagnostics, or after `ms` (the callers' deadline), whichever comes first. */
  private nextNotification(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits until diagnostics for `uri` are published again after `count` publications (up to 5 s). */
  async nextPublish(uri: string, count: number): Promise<Diagnostic[]> {
    const deadline = Date.now() + 5000;
    while ((this.publishCount.get(uri) ?? 0) <= count) {
      if (Date.now() > deadline) throw new Error(`diagnostics for ${uri} were not published again`);
      await this.nextNotification(deadline - Date.now());
    }
    return this.published.get(uri)!.diagnostics;
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([
        this.connection.sendRequest(ShutdownRequest.type),
        new Promise((resolve) => setTimeout(resolve, 2000)),
      ]);
      await this.connection.sendNotification(ExitNotification.type);
    } catch {
      // the server may already be gone; it is killed below either way
    }
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.exitCode === null) await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    this.connection.dispose();
  }
}

/** A temp workspace folder; `files` maps relative paths to contents. */
export function makeWorkspace(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-lsp-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

export function fileUri(dir: string, rel: string): string {
  return pathToFileURL(path.join(dir, rel)).href;
}

/** Diagnostics as compact `line:start-end severity code` strings, sorted, for exact comparisons. */
export function brief(diagnostics: Diagnostic[]): string[] {
  const sev = ['', 'error', 'warning', 'info', 'hint'];
  return diagnostics
    .map((d) => {
      const r = d.range;
      return `${r.start.line}:${r.start.character}-${r.end.character} ${sev[d.severity ?? 1]} ${d.code}`;
    })
    .sort();
}
