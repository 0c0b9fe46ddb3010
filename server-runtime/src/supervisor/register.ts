/**
 * Wires the supervisor to the connection: the custom requests of protocol.ts.
 * Placeholder: the extension issue fills this in.
 */
import type { Connection, TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';

export interface SupervisorHandle {
  /** Graceful stop of every server (on LSP shutdown). */
  stopAll(): Promise<void>;
  /** Immediate kill of every server (on exit): nothing may outlive the editor. */
  killAll(): void;
}

export function registerSupervisor(
  _connection: Connection,
  _documents: TextDocuments<TextDocument>,
): SupervisorHandle {
  return { stopAll: async () => undefined, killAll: () => undefined };
}
