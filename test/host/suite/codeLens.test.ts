/**
 * Run from where you are, in the real extension host: the code lens of a config reads its server's live state
 * (Start; Stop · Restart · Open · N req/s; the failure and its fixes), its commands work, the context keys that
 * show Stop/Restart/Open only while a server runs follow, and the menus are contributed with those keys.
 * Also the quiet side of auto-restart: a saved config with errors restarts nothing and says so in the status bar,
 * and a "fix it and save" notice closes once the fix is saved.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isPortOpen } from '../../harness/freePort';
import { EXTENSION_ID, httpGet, log, waitFor, workspaceDir } from './helpers';

interface Api {
  contextKeys(): { 'server3.serverRunning': boolean; 'server3.activeConfigs': string[] } | undefined;
  fixNotices(): string[];
  statusBarText(): string;
}

const api = (): Api => vscode.extensions.getExtension<Api>(EXTENSION_ID)!.exports;

async function lensTitles(uri: vscode.Uri): Promise<string[]> {
  const lenses =
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  return lenses.map((l) => l.command?.title ?? '');
}

async function lensCommand(uri: vscode.Uri, title: RegExp): Promise<vscode.Command> {
  const lenses =
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  const lens = lenses.find((l) => title.test(l.command?.title ?? ''));
  assert.ok(
    lens?.command,
    `no code lens ${title}; they are ${JSON.stringify(lenses.map((l) => l.command?.title))}`,
  );
  return lens.command;
}

/** Waits until the lens titles satisfy `check`; fails with what they were. */
async function waitForLenses(uri: vscode.Uri, check: (titles: string[]) => boolean, ms = 20_000) {
  let titles: string[] = [];
  const ok = await waitFor(async () => check((titles = await lensTitles(uri))), ms, 200);
  assert.ok(ok, `the code lenses never matched; they are ${JSON.stringify(titles)}`);
  return titles;
}

const run = (c: vscode.Command) => vscode.commands.executeCommand(c.command, ...(c.arguments ?? []));

describe('code lens, context keys and menus', function () {
  this.timeout(90_000);
  const configFile = () => path.join(workspaceDir(), '.config_server');
  const uri = () => vscode.Uri.file(configFile());
  let original = '';
  let port = 0;

  before(async () => {
    original = fs.readFileSync(configFile(), 'utf8');
    port = Number(/^PORT\s*=\s*(\d+)/m.exec(original)?.[1]);
    await vscode.window.showTextDocument(uri());
  });
  after(async () => {
    await vscode.commands.executeCommand('server3.stop', uri()).then(undefined, () => undefined);
    fs.writeFileSync(configFile(), original);
    await waitFor(async () => !(await isPortOpen(port)), 10_000);
  });

  it('reads Start, then Stop · Restart · Open · N req/s, and Stop from the lens stops it', async () => {
    assert.deepEqual(await waitForLenses(uri(), (t) => t.length === 1), ['$(play) Start']);
    assert.deepEqual(api().contextKeys(), { 'server3.serverRunning': false, 'server3.activeConfigs': [] });
    await run(await lensCommand(uri(), /Start$/));
    assert.ok(await waitFor(() => isPortOpen(port), 20_000), 'the lens did not start the server');
    const running = await waitForLenses(uri(), (t) => t[0] === '$(debug-stop) Stop');
    assert.deepEqual(running.slice(0, 3), [
      '$(debug-stop) Stop',
      '$(debug-restart) Restart',
      `$(globe) Open http://127.0.0.1:${port}`,
    ]);
    assert.deepEqual(api().contextKeys(), {
      'server3.serverRunning': true,
      'server3.activeConfigs': [uri().path],
    });
    // Traffic shows as a rate (the lens takes the metrics stream while this editor is visible).
    const rate = (t: string[]) => Number(/^\$\(pulse\) ([0-9.]+) req\/s$/.exec(t[3] ?? '')?.[1] ?? 0);
    let rated: string[] = [];
    const measured = await waitFor(async () => {
      await httpGet(`http://127.0.0.1:${port}/`); // keep traffic flowing until a snapshot shows it
      return rate((rated = await lensTitles(uri()))) > 0;
    }, 20_000);
    assert.ok(measured, `no request rate in the lens: ${JSON.stringify(rated)}`);
    log(`      lenses while running: ${JSON.stringify(rated)}`);
    const open = await lensCommand(uri(), /Open http/);
    assert.deepEqual([open.command, open.arguments], ['server3.openBrowser', [uri().toString()]]);
    await run(await lensCommand(uri(), /Stop$/));
    assert.ok(
      await waitFor(async () => !(await isPortOpen(port)), 10_000),
      'the lens did not stop the server',
    );
    assert.deepEqual(await waitForLenses(uri(), (t) => t.length === 1), ['$(play) Start']);
    assert.deepEqual(api().contextKeys(), { 'server3.serverRunning': false, 'server3.activeConfigs': [] });
  });

  it('a taken port: the lens shows the failure, Use Port N and Set PORT=N; Set PORT writes it and it runs', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await vscode.commands.executeCommand('server3.start', uri());
      const failed = await waitForLenses(uri(), (t) => t[0]?.startsWith('$(error)'));
      log(`      lenses after a failed start: ${JSON.stringify(failed)}`);
      assert.match(failed[0], /in use/);
      const use = failed.find((t) => /^Use Port \d+$/.test(t));
      const set = failed.find((t) => /^Set PORT=\d+ in the Config$/.test(t));
      assert.ok(use && set, `no port fixes in ${JSON.stringify(failed)}`);
      assert.equal(failed.at(-1), '$(play) Start');
      const free = Number(/\d+/.exec(set)![0]);
      await run(await lensCommand(uri(), /^Set PORT=/));
      assert.match(fs.readFileSync(configFile(), 'utf8'), new RegExp(`^PORT=${free}$`, 'm'));
      assert.ok(await waitFor(() => isPortOpen(free), 20_000), `not serving on the written port ${free}`);
      await waitForLenses(uri(), (t) => t[2] === `$(globe) Open http://127.0.0.1:${free}`);
      await vscode.commands.executeCommand('server3.stop', uri());
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      fs.writeFileSync(configFile(), original);
    }
  });

  it('a saved config with errors restarts nothing: the server keeps serving, the status bar says so quietly', async () => {
    await vscode.commands.executeCommand('server3.start', uri());
    assert.ok(await waitFor(() => isPortOpen(port), 20_000));
    const pid = (await vscode.commands.executeCommand<{ pid?: number }>('server3.start', uri()))?.pid;
    // What auto-save writes while someone is typing "PORT=80": a half-typed value, saved.
    fs.writeFileSync(configFile(), original.replace(/^PORT=.*$/m, 'PORT=8x'));
    const titles = await waitForLenses(uri(), (t) => t.some((x) => x.startsWith('$(warning) Not restarted')));
    log(`      lenses after a broken save: ${JSON.stringify(titles)}`);
    assert.match(api().statusBarText(), /not restarted/);
    assert.deepEqual(api().fixNotices(), [], 'a refused auto-restart must not raise a notice');
    assert.equal((await httpGet(`http://127.0.0.1:${port}/`)).status, 200, 'the old server stopped serving');
    const same = await vscode.commands.executeCommand<{ pid?: number }>('server3.start', uri());
    assert.equal(same?.pid, pid, 'the server was restarted');
    fs.writeFileSync(configFile(), original);
    await waitForLenses(
      uri(),
      (t) => t[0] === '$(debug-stop) Stop' && !t.some((x) => x.startsWith('$(warning)')),
    );
    assert.doesNotMatch(api().statusBarText(), /not restarted/);
    await vscode.commands.executeCommand('server3.stop', uri());
  });

  it('an app that does not import: a "fix it and save" notice, closed once the fix is saved', async () => {
    const wsgi = path.join(workspaceDir(), 'hello', 'wsgi.py');
    const source = fs.readFileSync(wsgi, 'utf8');
    try {
      fs.writeFileSync(wsgi, source + '\nthis is not python\n');
      await vscode.commands.executeCommand('server3.start', uri());
      const failed = await waitForLenses(uri(), (t) => t[0]?.startsWith('$(error)'));
      assert.ok(
        failed.some((t) => /^Open hello\/wsgi\.py:\d+$/.test(t)),
        JSON.stringify(failed),
      );
      assert.deepEqual(api().fixNotices(), [uri().toString()]);
      fs.writeFileSync(wsgi, source);
      assert.ok(await waitFor(() => isPortOpen(port), 20_000), 'saving the fix did not start the server');
      assert.ok(
        await waitFor(() => api().fixNotices().length === 0, 5000),
        'the notice stayed after the fix',
      );
    } finally {
      fs.writeFileSync(wsgi, source);
      await vscode.commands.executeCommand('server3.stop', uri());
    }
  });

  it('menus: Start/Stop in the editor title and Start in the explorer for configs; Stop, Restart, Open only while one runs', () => {
    const menus = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.menus as Record<
      string,
      { command: string; when?: string }[]
    >;
    const when = (menu: string, command: string) =>
      menus[menu].find((m) => m.command === command)?.when ?? '';
    // The host gives the when clauses as VS Code parsed them: keys and values may come back quoted.
    const key = (name: string) => `'?${name.replace(/\./g, '\\.')}'?`;
    assert.match(
      when('editor/title', 'server3.startConfig'),
      new RegExp(`resourcePath not in ${key('server3.activeConfigs')}`),
    );
    assert.match(
      when('editor/title', 'server3.stopConfig'),
      new RegExp(`resourcePath in ${key('server3.activeConfigs')}`),
    );
    assert.match(
      when('explorer/context', 'server3.startConfig'),
      new RegExp(`resourceLangId == ${key('server3-config')}`),
    );
    for (const command of ['server3.stop', 'server3.restart', 'server3.openBrowser'])
      assert.match(when('commandPalette', command), /^server3\.serverRunning$/, command);
    for (const command of ['server3.stop', 'server3.restart'])
      assert.match(when('view/title', command), /server3\.serverRunning/, command);
  });
});
