/**
 * Interpreter discovery inside the real extension host: "Server 3: Select Interpreter" offers the
 * free-threaded CPython 3.13t (built by scripts/setup.sh; run.ts passes its cache folder on), marked as such.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { log } from './helpers';

interface Found {
  command: string;
  version: string;
  freeThreaded?: boolean;
}

describe('interpreters', function () {
  this.timeout(30_000);

  it('server3.listInterpreters finds the free-threaded build and the default python3', async () => {
    const found = (await vscode.commands.executeCommand<Found[]>('server3.listInterpreters')) ?? [];
    log(
      `      found: ${found.map((i) => `${i.command} ${i.version}${i.freeThreaded ? 't' : ''}`).join(', ')}`,
    );
    const free = found.filter((i) => i.freeThreaded);
    assert.ok(
      free.some((i) => /python3\.13t$/.test(i.command) && i.version.startsWith('3.13.')),
      JSON.stringify(found),
    );
    assert.ok(
      found.some((i) => !i.freeThreaded),
      'no regular interpreter listed',
    );
    assert.ok(
      found.indexOf(free[0]) < found.findIndex((i) => !i.freeThreaded),
      'free-threaded ones come first',
    );
  });
});
