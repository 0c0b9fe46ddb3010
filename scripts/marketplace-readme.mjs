// The README of the .vsix (what VS Code's extension page shows), from extension/README.md. That page is a webview
// whose Content-Security-Policy is `img-src https: data:` and which loads nothing from the extension's folder, so
// the images are inlined as data: URIs (PNG only: the page and vsce refuse SVG), and every link must work without
// the repository: an anchor of the README itself, an https: page or a command: link. Anything else throws, so
// `npm run package` fails instead of shipping a broken page. Used by scripts/package.mjs and the unit tests.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const IMAGE = /!\[([^\]]*)\]\(([^)\s]+)\)/g;
const LINK = /(?<!!)\[([^\]]*)\]\(([^)\s]+)\)/g;

/** GitHub's (and VS Code's) heading anchors: lower case, punctuation dropped, spaces to dashes. */
export function anchorOf(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

export function renderMarketplaceReadme(sourcePath) {
  const source = readFileSync(sourcePath, 'utf8');
  const anchors = new Set([...source.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
  const problems = [];
  for (const [, text, target] of source.matchAll(LINK)) {
    const ok = target.startsWith('#')
      ? anchors.has(target.slice(1))
      : /^(https|command|mailto):/.test(target);
    if (!ok) problems.push(`link "${text}" -> ${target}: use an anchor of the README, https: or command:`);
  }
  const rendered = source.replace(IMAGE, (_, alt, target) => {
    if (!target.endsWith('.png')) {
      problems.push(`image ${target}: only PNG files can be inlined`);
      return '';
    }
    const file = resolve(dirname(sourcePath), target);
    try {
      return `![${alt}](data:image/png;base64,${readFileSync(file).toString('base64')})`;
    } catch {
      problems.push(`image ${target}: ${file} does not exist`);
      return '';
    }
  });
  if (problems.length) throw new Error(`${sourcePath}:\n  ${problems.join('\n  ')}`);
  return rendered;
}
