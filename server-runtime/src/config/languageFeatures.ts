/**
 * The config language's features, wired to the LSP connection: diagnostics on open/change, completion,
 * hover, quick fixes, formatting and document symbols. Each feature lives in its own module and is a plain
 * function of the text, so it can be tested and reused without LSP (validate.ts is what the supervisor uses).
 */
import {
  CodeActionKind,
  type Connection,
  DidChangeWatchedFilesNotification,
  type InitializeParams,
  type ServerCapabilities,
  type TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { codeActions } from './actions';
import { completeAt } from './complete';
import { toDiagnostic } from './diagnostics';
import { documentPlace, filePath, isConfigDocument } from './documentPlace';
import { formatEdits } from './format';
import { hoverAt } from './hover';
import { modulesDefining } from './pythonModules';
import { documentSymbols } from './symbols';
import { validate } from './validate';

export interface LanguageFeatures {
  capabilities(params: InitializeParams): ServerCapabilities;
}

export function registerLanguageFeatures(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
): LanguageFeatures {
  let workspaceFolders: string[] = [];
  let canWatchFiles = false;
  let revalidateTimer: NodeJS.Timeout | undefined;

  const configDocument = (uri: string): TextDocument | undefined => {
    const doc = documents.get(uri);
    return doc && isConfigDocument(doc.languageId, doc.uri) ? doc : undefined;
  };
  const validateDocument = (doc: TextDocument) =>
    validate(doc.getText(), documentPlace(doc.uri, workspaceFolders));

  const publish = (doc: TextDocument): void => {
    if (!isConfigDocument(doc.languageId, doc.uri)) return;
    const diagnostics = validateDocument(doc).problems.map(toDiagnostic);
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  };
  documents.onDidChangeContent((e) => publish(e.document)); // also fires when a document opens
  documents.onDidClose((e) => {
    if (isConfigDocument(e.document.languageId, e.document.uri)) {
      void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    }
  });

  // The file-system checks (APP's module exists and defines its callable) go stale when Python files change:
  // ask the client to tell us about *.py changes and re-validate the open configs then (debounced).
  // Registered here because the config features are the only users of these two handlers so far.
  connection.onInitialized(() => {
    if (!canWatchFiles) return;
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.py' }],
    });
  });
  connection.onDidChangeWatchedFiles(() => {
    clearTimeout(revalidateTimer);
    revalidateTimer = setTimeout(() => documents.all().forEach(publish), 150);
  });

  connection.onCompletion(async (params) => {
    const doc = configDocument(params.textDocument.uri);
    if (!doc) return [];
    const place = documentPlace(doc.uri, workspaceFolders);
    // APP's candidates: modules relative to the config's folder (what the runtime imports), else the workspace.
    const root = place.configDir ?? place.workspaceDir;
    return completeAt(doc.getText(), params.position, {
      modulesDefining: async (callable) => (root ? modulesDefining(root, callable) : []),
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
    // A missing APP is filled in with a module of the config's folder that defines `application`, if any
    // (a `wsgi` module first: that is where Django and most tutorials put it).
    let appModule: string | undefined;
    const configDir = documentPlace(doc.uri, workspaceFolders).configDir;
    if (configDir && !parsed.entries.some((e) => e.key === 'APP')) {
      const modules = await modulesDefining(configDir, 'application');
      appModule = modules.find((m) => /(^|\.)wsgi$/.test(m)) ?? modules[0];
    }
    return codeActions(doc.uri, doc.getText(), parsed, problems, params.range, appModule);
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
      return {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: ['='] },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        documentFormattingProvider: true,
        documentSymbolProvider: true,
      };
    },
  };
}
