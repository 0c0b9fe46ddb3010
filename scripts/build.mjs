// Bundles the extension (VS Code client), the language server / supervisor and the webview scripts (metrics
// panel, request panel) with esbuild, so the .vsix ships a few small files instead of node_modules. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, minify: !watch, sourcemap: watch, logLevel: 'info' };
const targets = [
  {
    entryPoints: ['extension/src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    entryPoints: ['server-runtime/src/server.ts'],
    outfile: 'dist/server.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    entryPoints: ['extension/webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    entryPoints: ['extension/webview/request.ts'],
    outfile: 'dist/request.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
].filter((t) => existsSync(t.entryPoints[0]));

for (const t of targets) {
  if (watch) await (await esbuild.context({ ...common, ...t })).watch();
  else await esbuild.build({ ...common, ...t });
}

// The metrics panel's stylesheet: served from dist/ like the script (the webview's CSP allows only
// webview.cspSource, so it must be a file, not an inline <style>).
if (existsSync('extension/webview/style.css')) {
  mkdirSync('dist', { recursive: true });
  copyFileSync('extension/webview/style.css', 'dist/webview.css');
}
