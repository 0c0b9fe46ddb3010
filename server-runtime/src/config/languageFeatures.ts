/**
 * The config language's features (diagnostics, completion, hover, code actions, formatting, symbols).
 * Placeholder: the config-language issue fills this in.
 */
import type {
  Connection,
  InitializeParams,
  ServerCapabilities,
  TextDocuments,
} from 'vscode-languageserver/node';
import { TextDocumentSyncKind } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';

export interface LanguageFeatures {
  capabilities(params: InitializeParams): ServerCapabilities;
}

export function registerLanguageFeatures(
  _connection: Connection,
  _documents: TextDocuments<TextDocument>,
): LanguageFeatures {
  return { capabilities: () => ({ textDocumentSync: TextDocumentSyncKind.Incremental }) };
}
