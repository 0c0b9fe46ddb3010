/**
 * The README inside the .vsix (scripts/marketplace-readme.mjs, run by `npm run package`): VS Code's extension page
 * loads only https: and data: images and nothing from the extension's folder, so every image must be inlined as a
 * PNG data: URI and every link must work without the repository. A README that breaks either rule fails to package.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

interface ReadmeModule {
  renderMarketplaceReadme(sourcePath: string): string;
  anchorOf(heading: string): string;
}

// The packaging scripts are ES modules; the tests are compiled to CommonJS: load it with a real import().
const load = () =>
  new Function('url', 'return import(url)')(
    pathToFileURL(path.join(repoRoot, 'scripts', 'marketplace-readme.mjs')).href,
  ) as Promise<ReadmeModule>;

describe('the README of the .vsix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-readme-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('extension/README.md: every image a PNG data: URI, every link an anchor of its own, https: or command:', async () => {
    const { renderMarketplaceReadme, anchorOf } = await load();
    const source = path.join(repoRoot, 'extension', 'README.md');
    const text = renderMarketplaceReadme(source);
    const images = [...text.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.equal(images.length, [...fs.readFileSync(source, 'utf8').matchAll(/!\[/g)].length);
    assert.ok(images.length >= 3, 'the README lost its screenshots');
    for (const src of images) {
      assert.match(src, /^data:image\/png;base64,/);
      const png = Buffer.from(src.slice(src.indexOf(',') + 1), 'base64');
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'not a PNG');
    }
    const anchors = new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
    const links = [...text.matchAll(/(?<!!)\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    for (const link of links)
      assert.ok(link.startsWith('#') ? anchors.has(link.slice(1)) : /^(https|command):/.test(link), link);
    assert.ok(!text.includes('example.invalid'), 'a placeholder host is back');
  });

  test('a relative link, a missing image or an SVG fails the packaging with what to fix', async () => {
    const { renderMarketplaceReadme } = await load();
    const write = (text: string) => {
      const file = path.join(dir, 'README.md');
      fs.writeFileSync(file, text);
      return file;
    };
    assert.throws(
      () => renderMarketplaceReadme(write('# A\n\n[docs](docs/config.md)\n')),
      /link "docs" -> docs\/config\.md/,
    );
    assert.throws(() => renderMarketplaceReadme(write('# A\n\n[b](#b)\n')), /link "b" -> #b/);
    assert.throws(() => renderMarketplaceReadme(write('# A\n\n![x](x.svg)\n')), /only PNG/);
    assert.throws(() => renderMarketplaceReadme(write('# A\n\n![x](missing.png)\n')), /does not exist/);
    assert.equal(
      renderMarketplaceReadme(
        write('# Start here\n\n[go](#start-here) [web](https://peps.python.org/pep-3333/)\n'),
      ).length > 0,
      true,
    );
  });
});
