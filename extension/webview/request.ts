/**
 * The request panel's browser script (bundled to dist/request.js): one request's waterfall (a bar per stage,
 * its width the stage's share of the request's time, placed after the stages before it) and its headers as
 * the runtime gives them (secrets redacted there). DOM ids are listed at the top of
 * extension/src/requestPanel.ts. Text only through textContent: header values are the client's, never HTML.
 */
import { STAGES, type FromRequestWebview, type ShownRequest, type ToRequestWebview } from './requestMessages';

declare function acquireVsCodeApi(): { postMessage(message: FromRequestWebview): void };

const vscode = acquireVsCodeApi();
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const title = byId<HTMLHeadingElement>('request-title');
const summary = byId<HTMLParagraphElement>('request-summary');
const waterfall = byId<HTMLDivElement>('waterfall');
const requestRows = byId<HTMLTableSectionElement>('request-header-rows');
const responseRows = byId<HTMLTableSectionElement>('response-header-rows');
const headersNote = byId<HTMLParagraphElement>('headers-note');
const copyButton = byId<HTMLButtonElement>('copy-curl');
const copied = byId<HTMLSpanElement>('copied');

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function cell(text: string, tag: 'td' | 'th' = 'td'): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}

function headerRows(body: HTMLTableSectionElement, headers: [string, string][]): void {
  body.replaceChildren(
    ...headers.map(([name, value]) => {
      const row = document.createElement('tr');
      row.dataset.header = name.toLowerCase();
      row.append(cell(name), cell(value));
      if (value === '[redacted]') row.classList.add('redacted');
      return row;
    }),
  );
}

function render(shown: ShownRequest): void {
  const r = shown.record;
  title.textContent = `${r.method} ${r.path}`;
  summary.textContent = [
    `${r.status}`,
    `${ms(r.totalMs)} ms`,
    r.thread,
    shown.server,
    `connection ${r.connection}`,
    `${r.bytesIn} B in, ${r.bytesOut} B out`,
    `route ${r.route}`,
  ].join(' · ');
  const values = STAGES.map((stage) => {
    const value = (r as unknown as Record<string, number | null | undefined>)[stage.field];
    return typeof value === 'number' ? value : undefined;
  });
  const total = Math.max(
    values.reduce<number>((sum, v) => sum + (v ?? 0), 0),
    0.001,
  );
  let dominant = 0;
  values.forEach((v, i) => {
    if ((v ?? 0) > (values[dominant] ?? 0)) dominant = i;
  });
  waterfall.dataset.dominant = STAGES[dominant].name;
  let offset = 0;
  waterfall.replaceChildren(
    ...STAGES.map((stage, i) => {
      const value = values[i];
      const row = document.createElement('div');
      row.className = 'stage';
      row.dataset.stage = stage.name;
      row.title = stage.meaning;
      if (i === dominant) row.classList.add('dominant');
      const name = document.createElement('span');
      name.className = 'stage-name';
      name.textContent = stage.name;
      const track = document.createElement('span');
      track.className = 'stage-track';
      const bar = document.createElement('span');
      bar.className = 'stage-bar';
      // Through the CSSOM (allowed by the panel's CSP, unlike a style attribute).
      bar.style.marginLeft = `${(offset / total) * 100}%`;
      bar.style.width = `${Math.max(((value ?? 0) / total) * 100, value ? 0.5 : 0)}%`;
      track.append(bar);
      const amount = document.createElement('span');
      amount.className = 'stage-ms';
      amount.textContent = value === undefined ? '–' : `${ms(value)} ms`;
      row.append(name, track, amount);
      offset += value ?? 0;
      return row;
    }),
  );
  const detail = shown.detail;
  headerRows(requestRows, detail?.requestHeaders ?? []);
  headerRows(responseRows, detail?.responseHeaders ?? []);
  headersNote.hidden = !!detail;
  headersNote.textContent = detail
    ? ''
    : 'The server no longer keeps this request (it keeps the last ones of each app thread), or it stopped: no headers.';
  copied.textContent = '';
}

window.addEventListener('message', (event: MessageEvent<ToRequestWebview>) => {
  const message = event.data;
  if (message.type === 'request') render(message.request);
  else if (message.type === 'copied') copied.textContent = message.text;
});
copyButton.addEventListener('click', () => vscode.postMessage({ type: 'copyCurl' }));
vscode.postMessage({ type: 'ready' });
