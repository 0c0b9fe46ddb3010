// Bundles the extension (VS Code client), the language server / supervisor and the webview scripts (metrics
// panel, request panel) with esbuild, so the .vsix ships a few small files instead of node_modules. `--watch`
// rebuilds on change. A missing entry point or stylesheet fails the build (a .vsix without one of them would
// install and then not work).
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
    entryPoints: ['server-runtime/src/languageServer.ts'],
    outfile: 'dist/languageServer.js',
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
];
const STYLESHEET = 'extension/webview/style.css';

const missing = [...targets.map((t) => t.entryPoints[0]), STYLESHEET].filter((file) => !existsSync(file));
if (missing.length) {
  console.error(`build: missing ${missing.join(', ')} (an entry point of scripts/build.mjs)`);
  process.exit(1);
}

for (const t of targets) {
  if (watch) await (await esbuild.context({ ...common, ...t })).watch();
  else await esbuild.build({ ...common, ...t });
}

// The metrics panel's stylesheet: served from dist/ like the script (the webview's CSP allows only
// webview.cspSource, so it must be a file, not an inline <style>).
mkdirSync('dist', { recursive: true });
copyFileSync(STYLESHEET, 'dist/webview.css');
