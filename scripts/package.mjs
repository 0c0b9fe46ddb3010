// The vsce half of `npm run package` (after the build): writes dist/server3-free-threads.vsix.
// Why a staging copy: vsce lists every file under the folder (only the top node_modules/ is skipped) and then
// matches each against .vscodeignore; with .cache/code-server, .venv and .git that is ~30k files and 20-30 s.
// We copy the folder without those heavy, never-shipped trees to a temp dir and run vsce there; .vscodeignore
// still decides what ships (check with `npx vsce ls --no-dependencies`).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMarketplaceReadme } from './marketplace-readme.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'server3-free-threads.vsix');
const README = 'extension/README.md';
const NEVER_SHIPPED = new Set([
  'node_modules',
  '.cache',
  '.git',
  'out',
  '.test-artifacts',
  'bench',
  '.ruff_cache',
  '.stryker-tmp',
  'reports',
]);
const isHeavy = (name) => NEVER_SHIPPED.has(name) || name.startsWith('.venv');

const stage = mkdtempSync(join(tmpdir(), 'server3-vsix-'));
try {
  for (const name of readdirSync(root)) {
    if (isHeavy(name)) continue;
    cpSync(join(root, name), join(stage, name), {
      recursive: true,
      filter: (src) => !src.includes('__pycache__'),
    });
  }
  // The README with its images inlined and its links checked (scripts/marketplace-readme.mjs).
  writeFileSync(join(stage, README), renderMarketplaceReadme(join(root, README)));
  execFileSync(
    join(root, 'node_modules', '.bin', 'vsce'),
    [
      'package',
      '--no-dependencies',
      // The README shown in VS Code's extension page is written for users (extension/README.md; the repository's
      // README.md is for developers). Its images are inlined as data: URIs and its links point at sections of
      // itself (see scripts/marketplace-readme.mjs): no rewriting against a repository URL.
      '--readme-path',
      README,
      '--no-rewrite-relative-links',
      '--out',
      out,
    ],
    { cwd: stage, stdio: 'inherit' },
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}
