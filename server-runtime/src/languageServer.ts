/**
 * Entry of the server-runtime process, started by the extension over IPC (or by tests over stdio/IPC).
 * It is two things behind one LSP connection:
 *  - the language server of the config language (config/), and
 *  - the supervisor of the Python servers (supervisor/), driven by the custom requests of protocol.ts.
 */
import { createConnection, ProposedFeatures, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { registerLanguageFeatures } from './config/languageFeatures';
import { registerSupervisor } from './supervisor/register';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

const language = registerLanguageFeatures(connection, documents);
const supervisor = registerSupervisor(connection, documents);

connection.onInitialize((params) => ({
  capabilities: {
    ...language.capabilities(params),
  },
  serverInfo: { name: 'server3-runtime' },
}));

connection.onShutdown(() => supervisor.stopAll());
connection.onExit(() => supervisor.killAll());

documents.listen(connection);
connection.listen();
