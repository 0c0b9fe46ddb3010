/**
 * "Copy as curl": one request of the Requests view as a command line for a POSIX shell. Plain Node (no
 * `vscode`), unit tested in test/unit/curl.test.ts.
 *
 * - Every argument is single-quoted; a single quote inside becomes '\'' (close, escaped quote, reopen), the
 *   only quoting with no special characters inside it, whatever the shell (sh, bash, zsh, dash).
 * - Header values the runtime redacted (Cookie, Authorization, tokens: request_log.py) are left out, header
 *   and all: a placeholder sent as a real value would be worse than none.
 * - Headers curl works out by itself from the command line (Host from the URL, Content-Length, the
 *   connection's own) are left out too; the runtime does not keep bodies, so there is no --data.
 * - The runtime drops the query string from the path it records, so the URL has none.
 */

/** The value request_log.redact puts in place of a secret. */
export const REDACTED = '[redacted]';

/** Headers curl sets from its own arguments, or that belong to one connection, not to the request. */
const LEFT_OUT = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'expect',
]);

/** `it's` -> `'it'\''s'`: safe as one argument in any POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface CurlRequest {
  /** The server's URL, e.g. "http://127.0.0.1:8000" (ServerInfo.url). */
  baseUrl: string;
  method: string;
  /** The path as the runtime recorded it (starts with /). */
  path: string;
  /** Request headers as the runtime gives them (secrets already redacted); none when no longer kept. */
  headers?: [string, string][];
}

/** The request's URL: the server's address and the path (a path is never read as a host, even "//x"). */
export function requestUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}

/** The headers that go on the command line: not redacted, not curl's own, no line breaks. */
export function curlHeaders(headers: [string, string][] = []): [string, string][] {
  return headers.filter(
    ([name, value]) =>
      value !== REDACTED &&
      !LEFT_OUT.has(name.toLowerCase()) &&
      !/[\r\n]/.test(name + value) &&
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name),
  );
}

export function curlCommand(request: CurlRequest): string {
  const args = ['curl'];
  const method = request.method.toUpperCase();
  // HEAD with -X would wait for a body that never comes; curl's own --head does not.
  if (method === 'HEAD') args.push('--head');
  else if (method !== 'GET' && /^[A-Z]+$/.test(method)) args.push('-X', shellQuote(method));
  for (const [name, value] of curlHeaders(request.headers)) args.push('-H', shellQuote(`${name}: ${value}`));
  args.push(shellQuote(requestUrl(request.baseUrl, request.path)));
  return args.join(' ');
}

/** How many headers were left out because the runtime redacted them (said to the user after copying). */
export function redactedCount(headers: [string, string][] = []): number {
  return headers.filter(([, value]) => value === REDACTED).length;
}
