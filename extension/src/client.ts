/**
 * The language client: starts dist/languageServer.js (language server + supervisor) over Node IPC. The config
 * language features use it directly; the Server 3 commands use the custom requests of protocol.ts.
 */
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';

export const CONFIG_LANGUAGE_ID = 'server3-config';

export function createClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath('dist/languageServer.js');
  const serverOptions: ServerOptions = { module, transport: TransportKind.ipc };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: CONFIG_LANGUAGE_ID }],
    synchronize: { configurationSection: 'server3' },
  };
  return new LanguageClient('server3', 'Server 3 Language Server', serverOptions, clientOptions);
}
