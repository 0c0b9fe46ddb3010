/**
 * The HTML shell of our webview panels (live metrics, one request): a strict Content-Security-Policy (nothing
 * but our own bundled script, with a fresh nonce, and our own stylesheet), the bundle from dist/, the body
 * each panel lays out. One place, so a panel cannot forget the policy.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** A fresh nonce per page load for the Content-Security-Policy's script-src. */
export function webviewNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The page: `script` is a bundle in dist/ (webview.js, request.js); `body` the panel's own markup. */
export function webviewPage(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  page: { script: string; title: string; body: string },
): string {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
  const n = webviewNonce();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${n}' ${webview.cspSource}`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${page.title}</title>
</head>
<body>
${page.body}
<script nonce="${n}" src="${script}"></script>
</body>
</html>`;
}
