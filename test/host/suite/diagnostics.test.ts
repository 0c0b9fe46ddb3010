/**
 * The config language in a real VS Code: a broken config opened in the editor gets the language server's
 * diagnostics (vscode.languages.getDiagnostics), they follow edits, and a quick fix applied through VS Code's
 * own code-action API repairs the file.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { waitFor, workspaceDir } from './helpers';

const BROKEN = 'HOST=0.0.0.0\nport=8000\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMIAN=localhost\n';

/** `line:start-end severity code` of the server3 diagnostics, sorted. */
function brief(uri: vscode.Uri): string[] {
  const severity = ['error', 'warning', 'info', 'hint'];
  return vscode.languages
    .getDiagnostics(uri)
    .filter((d) => d.source === 'server3')
    .map((d) => {
      const code = typeof d.code === 'object' ? d.code.value : d.code;
      const r = d.range;
      return `${r.start.line}:${r.start.character}-${r.end.character} ${severity[d.severity]} ${code}`;
    })
    .sort();
}

async function expectDiagnostics(uri: vscode.Uri, expected: string[], what: string): Promise<void> {
  const want = [...expected].sort();
  const ok = await waitFor(() => JSON.stringify(brief(uri)) === JSON.stringify(want), 15_000);
  assert.ok(ok, `${what}: expected ${JSON.stringify(want)}, VS Code shows ${JSON.stringify(brief(uri))}`);
}

describe('config diagnostics in VS Code', () => {
  let file: string;
  let uri: vscode.Uri;

  before(() => {
    file = path.join(workspaceDir(), 'broken.server3');
    fs.writeFileSync(file, BROKEN);
    uri = vscode.Uri.file(file);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    fs.rmSync(file, { force: true });
  });

  it('a broken config shows exact diagnostics from the language server', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.languageId, 'server3-config');
    await vscode.window.showTextDocument(doc);
    await expectDiagnostics(
      uri,
      [
        '0:0-0 error missing-required',
        '0:0-0 error missing-required',
        '0:5-12 warning non-loopback-host',
        '1:0-4 error wrong-case-key',
        '4:0-6 warning unknown-key',
      ],
      'on open',
    );
    const messages = vscode.languages.getDiagnostics(uri).map((d) => d.message);
    assert.ok(
      messages.some((m) => m.includes('did you mean DOMAIN?')),
      messages.join('\n'),
    );
  });

  it('diagnostics follow edits, and the quick fixes repair the file', async () => {
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor && editor.document.uri.fsPath === file, 'broken.server3 is not the active editor');
    // Fix the host by typing, like a user would.
    await editor.edit((e) => e.replace(new vscode.Range(0, 5, 0, 12), '127.0.0.1'));
    await expectDiagnostics(
      uri,
      [
        '0:0-0 error missing-required',
        '0:0-0 error missing-required',
        '1:0-4 error wrong-case-key',
        '4:0-6 warning unknown-key',
      ],
      'after fixing HOST',
    );
    // The rest through the server's quick fixes, fetched and applied with VS Code's own commands.
    for (const [line, title] of [
      [1, 'Change port to PORT'],
      [4, 'Change DOMIAN to DOMAIN'],
    ] as const) {
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        new vscode.Range(line, 0, line, 0),
      );
      const action = actions.find((a) => a.title === title);
      assert.ok(action?.edit, `no "${title}" among ${actions.map((a) => a.title).join(' | ')}`);
      assert.ok(await vscode.workspace.applyEdit(action.edit));
    }
    await expectDiagnostics(uri, [], 'after the quick fixes');
    assert.equal(
      editor.document.getText(),
      'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\n',
    );
  });
});
