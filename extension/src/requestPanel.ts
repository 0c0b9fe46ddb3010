/**
 * The request panel (viewType `server3.request`, one instance, reused for each request selected in the
 * Requests view): where one request's time went, stage by stage, and its headers as the runtime gives them
 * (Cookie, Authorization and other secrets redacted there). Same webview set-up as the metrics panel: strict
 * CSP (scripts only with the nonce, no inline styles), theme colours, the script and stylesheet from dist/.
 *
 * For UI tests, inside the webview frame (`iframe.webview` -> `iframe#active-frame`):
 *  - `#request-title`: "<METHOD> <path>"; `#request-summary`: "<status> · <total> ms · <thread> · ...";
 *  - `#waterfall` with `data-dominant="<stage>"` (the longest stage) and one `.stage[data-stage="<name>"]`
 *    per stage (handoff, read, queue, app, send, linger), each with `.stage-name`, `.stage-bar` and
 *    `.stage-ms` ("312 ms", or "–" for a linger not known yet); the dominant one also has class `dominant`;
 *  - `#request-headers` / `#response-headers` tables (bodies `#request-header-rows`, `#response-header-rows`,
 *    one `tr[data-header="<lower-case name>"]` each: name, value; `[redacted]` rows have class `redacted`);
 *    `#headers-note` shows when the server no longer keeps the request;
 *  - `#copy-curl` (Copy as curl) and `#copied` (says what was copied).
 */
import * as vscode from 'vscode';
import { webviewPage } from './webviewPage';
import type { Ctx } from './ctx';
import { curlCommand, redactedCount } from './curl';
import type { RequestEntry } from './requestsStore';
import type { FromRequestWebview, ShownRequest, ToRequestWebview } from '../webview/requestMessages';

export const REQUEST_VIEW_TYPE = 'server3.request';
export const REQUEST_PANEL_TITLE = 'Server 3: Request';

/** The curl command of one request and what was left out; fetches its headers from the server. */
export async function curlFor(
  ctx: Ctx,
  entry: RequestEntry,
  shown?: ShownRequest,
): Promise<string | undefined> {
  const info = ctx.get(entry.serverId);
  const baseUrl = info?.url ?? shown?.url;
  if (!baseUrl) return undefined;
  const detail =
    shown?.detail ??
    (await ctx
      .requestDetail({ id: entry.serverId, worker: entry.worker, thread: entry.thread, seq: entry.seq })
      .catch(() => null));
  const command = curlCommand({
    baseUrl,
    method: entry.method,
    path: entry.path,
    headers: detail?.requestHeaders,
  });
  const left = redactedCount(detail?.requestHeaders);
  const notes = [
    left ? `${left} redacted header${left > 1 ? 's' : ''} left out` : '',
    detail ? '' : 'no headers: the server no longer keeps this request',
  ].filter(Boolean);
  void vscode.env.clipboard.writeText(command);
  void vscode.window.setStatusBarMessage(
    `Server 3: copied the curl command${notes.length ? ` (${notes.join('; ')})` : ''}`,
    5000,
  );
  return command;
}

export class RequestPanel implements vscode.Disposable {
  private static current: RequestPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private shown: ShownRequest | undefined;
  private entry: RequestEntry | undefined;
  private loading: Promise<ShownRequest> | undefined;

  /** Opens (or reuses) the panel on one request; resolves once its headers were asked for. */
  static async show(ctx: Ctx, entry: RequestEntry): Promise<ShownRequest> {
    let current = RequestPanel.current;
    if (!current) {
      const panel = vscode.window.createWebviewPanel(
        REQUEST_VIEW_TYPE,
        REQUEST_PANEL_TITLE,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {
          enableScripts: true,
          retainContextWhenHidden: false,
          localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist')],
        },
      );
      current = RequestPanel.current = new RequestPanel(ctx, panel);
    } else {
      current.panel.reveal(undefined, true);
      // The same record again (a click both selects a row and runs its command): what is loaded, or loading.
      if (current.loading && JSON.stringify(current.entry) === JSON.stringify(entry)) return current.loading;
    }
    current.loading = current.load(entry);
    return current.loading;
  }

  /** The request shown now (for "Copy as curl" from the palette and for tests). */
  static currentRequest(): { entry: RequestEntry; shown: ShownRequest } | undefined {
    const c = RequestPanel.current;
    return c?.entry && c.shown ? { entry: c.entry, shown: c.shown } : undefined;
  }

  private constructor(
    private readonly ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
  ) {
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: FromRequestWebview) => this.onMessage(message)),
    );
  }

  private async load(entry: RequestEntry): Promise<ShownRequest> {
    this.entry = entry;
    const info = this.ctx.get(entry.serverId);
    const detail = await this.ctx
      .requestDetail({ id: entry.serverId, worker: entry.worker, thread: entry.thread, seq: entry.seq })
      .catch(() => null);
    const { serverId: _server, worker, ...record } = entry;
    const shown: ShownRequest = {
      record,
      worker,
      server: [this.ctx.label(entry.serverId), (info?.workers ?? 1) > 1 ? `worker ${worker}` : '']
        .filter(Boolean)
        .join(' · '),
      url: info?.url ?? '',
      detail,
    };
    if (this.entry !== entry) return shown; // another request was selected meanwhile
    this.shown = shown;
    this.post({ type: 'request', request: shown });
    return shown;
  }

  private onMessage(message: FromRequestWebview): void {
    if (message.type === 'ready' && this.shown) this.post({ type: 'request', request: this.shown });
    else if (message.type === 'copyCurl' && this.entry) {
      void curlFor(this.ctx, this.entry, this.shown).then((command) => {
        if (command) this.post({ type: 'copied', text: `Copied: ${command}` });
      });
    }
  }

  private post(message: ToRequestWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.ctx.extension.extensionUri, {
      script: 'request.js',
      title: REQUEST_PANEL_TITLE,
      body: `<header>
  <h1 id="request-title">Request</h1>
  <button id="copy-curl" type="button" aria-label="Copy as curl">Copy as curl</button>
  <span id="copied" class="hint" role="status"></span>
</header>
<p id="request-summary" class="hint"></p>
<h2>Where its time went</h2>
<div id="waterfall" role="list" aria-label="Stages of the request"></div>
<h2>Request headers</h2>
<p id="headers-note" class="hint" hidden></p>
<table id="request-headers" aria-label="Request headers">
  <thead><tr><th>Name</th><th>Value</th></tr></thead>
  <tbody id="request-header-rows"></tbody>
</table>
<h2>Response headers</h2>
<table id="response-headers" aria-label="Response headers">
  <thead><tr><th>Name</th><th>Value</th></tr></thead>
  <tbody id="response-header-rows"></tbody>
</table>`,
    });
  }

  dispose(): void {
    RequestPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
