/**
 * Makes sure what a suite loads is up to date with the sources, so `npm run test:host` / `test:ui` alone never test
 * an old build: the host suite loads the working tree's package.json + dist/ (extensionDevelopmentPath), the UI
 * suite installs dist/server3-free-threads.vsix (what users get). NO_REBUILD=1 skips this (e.g. while someone
 * else's half-written source breaks the build).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './codeServer';

export const VSIX_PATH = path.join(REPO_ROOT, 'dist', 'server3-free-threads.vsix');
const BUNDLE = path.join(REPO_ROOT, 'dist', 'extension.js');

/** Inputs of the bundles and of the .vsix. */
const SOURCES = [
  'package.json',
  'language-configuration.json',
  '.vscodeignore',
  'syntaxes',
  'extension/src',
  'extension/webview',
  'extension/media',
  'server-runtime/src',
  'server-runtime/python/Server_3_free_threads',
];

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(p)) {
    if (entry === '__pycache__') continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry)));
  }
  return newest;
}

function sourcesNewerThan(file: string): boolean {
  if (!fs.existsSync(file)) return true;
  const built = fs.statSync(file).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(REPO_ROOT, s)) > built);
}

function npmRun(script: string): void {
  if (process.env.NO_REBUILD === '1') {
    console.log(`[build] NO_REBUILD=1: using the existing build although \`npm run ${script}\` looks due`);
    return;
  }
  console.log(`[build] npm run ${script} (the build is missing or older than its sources)`);
  execFileSync('npm', ['run', script], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** dist/extension.js (and the rest of `npm run build`) no older than the sources. */
export function ensureBuild(): void {
  if (sourcesNewerThan(BUNDLE)) npmRun('build');
}

/** Only the vsce half of `npm run package`, when dist/ is already fresh (saves a second tsc after npm test's build). */
function vscePackageOnly(): void {
  console.log('[build] node scripts/package.mjs (the .vsix is older than dist/ or its sources)');
  execFileSync('node', [path.join(REPO_ROOT, 'scripts', 'package.mjs')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

/** dist/server3-free-threads.vsix no older than the sources and bundles. Returns its path. */
export function ensureVsix(): string {
  if (sourcesNewerThan(BUNDLE)) npmRun('package');
  else if (sourcesNewerThan(VSIX_PATH) || fs.statSync(BUNDLE).mtimeMs > fs.statSync(VSIX_PATH).mtimeMs) {
    if (process.env.NO_REBUILD === '1') console.log('[build] NO_REBUILD=1: using the existing .vsix');
    else vscePackageOnly();
  }
  return VSIX_PATH;
}
