/**
 * The config language's features, wired to the LSP connection: diagnostics on open/change, completion,
 * hover, quick fixes, formatting, document symbols, go to definition and document links. Each feature lives
 * in its own module and is a plain function of the text, so it can be tested and reused without LSP
 * (validate.ts is what the supervisor uses).
 *
 * Keeping up with fast typing: a change is validated once the typing pauses (DIAGNOSTICS_DELAY_MS), one
 * validation per document version is shared by diagnostics and quick fixes, and at most MAX_DIAGNOSTICS are
 * sent per file. APP's modules come from a module index per folder (moduleIndex.ts), walked once in the
 * background and updated from the editor's *.py file events, never on a keystroke.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  type Connection,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  type InitializeParams,
  type ServerCapabilities,
  type TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { type ActionContext, codeActions } from './actions';
import { appCandidates } from './appCandidates';
import { completeAt } from './complete';
import { appReferences, type SourceRange } from './definitions';
import { cappedDiagnostics } from './diagnostics';
import { type DocumentPlace, documentPlace, filePath, isConfigDocument } from './documentPlace';
import { appTarget, moduleFile } from './fileChecks';
import { formatEdits } from './format';
import { hoverAt } from './hover';
import { ModuleIndexes } from './moduleIndex';
import { parseConfig } from './parse';
import { documentSymbols } from './symbols';
import { validate, type Validation } from './validate';
import { type WsgiCallable, wsgiCallables } from './wsgiCallables';

/** Quiet time after the last change before a document is validated again (fast typing is one validation). */
export const DIAGNOSTICS_DELAY_MS = 150;
/** Diagnostics sent for one file at most (the rest are summed up in one more). */
export const MAX_DIAGNOSTICS = 100;
/** How long a completion waits for a workspace's first index walk before answering with what it has. */
const COMPLETION_WAIT_MS = 300;

export interface LanguageFeatures {
  capabilities(params: InitializeParams): ServerCapabilities;
}

function toRange(r: SourceRange) {
  return { start: { line: r.line, character: r.start }, end: { line: r.line, character: r.end } };
}

function contains(r: SourceRange, line: number, character: number): boolean {
  return r.line === line && character >= r.start && character <= r.end;
}

export function registerLanguageFeatures(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
): LanguageFeatures {
  let workspaceFolders: string[] = [];
  let canWatchFiles = false;
  let canCreateFiles = false;
  let revalidateTimer: NodeJS.Timeout | undefined;
  const indexes = new ModuleIndexes();
  const validations = new Map<string, { version: number; result: Validation }>();
  const pending = new Map<string, NodeJS.Timeout>();

  const configDocument = (uri: string): TextDocument | undefined => {
    const doc = documents.get(uri);
    return doc && isConfigDocument(doc.languageId, doc.uri) ? doc : undefined;
  };
  const placeOf = (doc: TextDocument): DocumentPlace => documentPlace(doc.uri, workspaceFolders);
  /** Where APP is imported from, in the runtime's order: the config's folder, then the workspace folder. */
  const dirsOf = (place: DocumentPlace): string[] =>
    [place.configDir, place.workspaceDir].filter((d, i, all): d is string => !!d && all.indexOf(d) === i);
  /** One validation per document version, shared by diagnostics and quick fixes. */
  const validateDocument = (doc: TextDocument): Validation => {
    const cached = validations.get(doc.uri);
    if (cached?.version === doc.version) return cached.result;
    const result = validate(doc.getText(), placeOf(doc));
    validations.set(doc.uri, { version: doc.version, result });
    return result;
  };

  const publish = (doc: TextDocument): void => {
    clearTimeout(pending.get(doc.uri));
    pending.delete(doc.uri);
    if (!isConfigDocument(doc.languageId, doc.uri) || documents.get(doc.uri) !== doc) return;
    const diagnostics = cappedDiagnostics(validateDocument(doc).problems, doc.uri, MAX_DIAGNOSTICS);
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  };
  documents.onDidOpen((e) => {
    if (!isConfigDocument(e.document.languageId, e.document.uri)) return;
    // Start indexing APP's folders now, so the first completion finds the index ready.
    for (const dir of dirsOf(placeOf(e.document))) indexes.get(dir);
    publish(e.document);
  });
  documents.onDidChangeContent((e) => {
    const validated = validations.get(e.document.uri);
    if (validated?.version === e.document.version) return; // the open, already published by onDidOpen
    if (!validated) return publish(e.document); // not published yet: at once
    clearTimeout(pending.get(e.document.uri));
    pending.set(
      e.document.uri,
      setTimeout(() => publish(documents.get(e.document.uri) ?? e.document), DIAGNOSTICS_DELAY_MS),
    );
  });
  documents.onDidClose((e) => {
    clearTimeout(pending.get(e.document.uri));
    pending.delete(e.document.uri);
    validations.delete(e.document.uri);
    if (isConfigDocument(e.document.languageId, e.document.uri)) {
      void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    }
  });

  // The file-system checks (APP's module exists and defines its callable) and the module index go stale when
  // Python files change: ask the client for *.py events, update the index and re-validate the open configs.
  connection.onInitialized(() => {
    if (!canWatchFiles) return;
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.py' }],
    });
  });
  connection.onDidChangeWatchedFiles(({ changes }) => {
    for (const change of changes) {
      const path = filePath(change.uri);
      if (path) indexes.changed(path, change.type === FileChangeType.Deleted);
    }
    clearTimeout(revalidateTimer);
    revalidateTimer = setTimeout(() => {
      validations.clear();
      documents.all().forEach(publish);
    }, 150);
  });

  /** The WSGI callables of the module APP names (for APP_CALLABLE's completion and no-application's fixes). */
  const callablesOfApp = (doc: TextDocument, dirs: string[]): WsgiCallable[] => {
    const parsed = parseConfig(doc.getText());
    const app = parsed.entries.filter((e) => e.key === 'APP').pop();
    if (!app) return [];
    const file = dirs.map((d) => moduleFile(d, appTarget(app.value).module)).find((f) => f !== undefined);
    try {
      return file ? wsgiCallables(readFileSync(file, 'utf8')) : [];
    } catch {
      return [];
    }
  };
  /** Candidates for APP that exist on disk now (the index may lag behind a deleted folder). */
  const existingCandidates = async (dirs: string[], wanted: string, waitMs?: number) => {
    const found = await appCandidates(indexes, dirs, wanted, waitMs);
    for (const c of found.candidates) if (!existsSync(c.file)) indexes.changed(c.file, true);
    return { ...found, candidates: found.candidates.filter((c) => existsSync(c.file)) };
  };

  connection.onCompletion(async (params) => {
    const doc = configDocument(params.textDocument.uri);
    if (!doc) return [];
    const place = placeOf(doc);
    const dirs = dirsOf(place);
    return completeAt(doc.getText(), params.position, {
      appCandidates: (wanted) => existingCandidates(dirs, wanted, COMPLETION_WAIT_MS),
      callablesOfApp: () => callablesOfApp(doc, dirs),
      describeFile: (file) => relative(place.workspaceDir ?? place.configDir ?? '/', file),
    });
  });

  connection.onHover((params) => {
    const doc = configDocument(params.textDocument.uri);
    return doc ? hoverAt(doc.getText(), params.position) : null;
  });

  connection.onCodeAction(async (params) => {
    const doc = configDocument(params.textDocument.uri);
    if (!doc) return [];
    const { parsed, problems } = validateDocument(doc);
    const place = placeOf(doc);
    const dirs = dirsOf(place);
    const context: ActionContext = { createIn: canCreateFiles ? place.configDir : undefined };
    const inRange = problems.filter(
      (p) => p.line >= params.range.start.line && p.line <= params.range.end.line,
    );
    const codes = new Set(inRange.map((p) => p.code));
    if (dirs.length && (codes.has('missing-required') || codes.has('module-not-found'))) {
      const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop()?.value;
      context.candidates = (await existingCandidates(dirs, named || 'application')).candidates;
    }
    if (codes.has('no-application')) context.callablesOfApp = callablesOfApp(doc, dirs);
    return codeActions(doc.uri, doc.getText(), parsed, problems, params.range, context);
  });

  connection.onDefinition((params) => {
    const doc = configDocument(params.textDocument.uri);
    if (!doc) return null;
    const { line, character } = params.position;
    const reference = appReferences(parseConfig(doc.getText()), dirsOf(placeOf(doc))).find((r) =>
      contains(r.origin, line, character),
    );
    if (!reference) return null;
    const target = toRange(reference.target ?? { line: 0, start: 0, end: 0 });
    return [
      {
        originSelectionRange: toRange(reference.origin),
        targetUri: pathToFileURL(reference.file).href,
        targetRange: target,
        targetSelectionRange: target,
      },
    ];
  });

  connection.onDocumentLinks((params) => {
    const doc = configDocument(params.textDocument.uri);
    if (!doc) return [];
    const place = placeOf(doc);
    return appReferences(parseConfig(doc.getText()), dirsOf(place)).map((r) => {
      const shown = relative(place.workspaceDir ?? place.configDir ?? '/', r.file);
      // VS Code opens `file#L12,5` at that line and column.
      const fragment = r.target ? `#L${r.target.line + 1},${r.target.start + 1}` : '';
      return {
        range: toRange(r.origin),
        target: pathToFileURL(r.file).href + fragment,
        tooltip: r.target ? `Go to ${shown}, line ${r.target.line + 1}` : `Open ${shown}`,
      };
    });
  });

  connection.onDocumentFormatting((params) => {
    const doc = configDocument(params.textDocument.uri);
    return doc ? formatEdits(doc.getText()) : [];
  });

  connection.onDocumentSymbol((params) => {
    const doc = configDocument(params.textDocument.uri);
    return doc ? documentSymbols(doc.getText()) : [];
  });

  return {
    capabilities(params) {
      const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
      workspaceFolders = folders.map(filePath).filter((p): p is string => p !== undefined);
      canWatchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
      const edits = params.capabilities.workspace?.workspaceEdit;
      canCreateFiles = !!edits?.documentChanges && (edits.resourceOperations ?? []).includes('create');
      return {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: ['='] },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        documentFormattingProvider: true,
        documentSymbolProvider: true,
        definitionProvider: true,
        documentLinkProvider: { resolveProvider: false },
      };
    },
  };
}
