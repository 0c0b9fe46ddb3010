// Renders the extension's icon, extension/media/icon.svg (drawn for this project), to the PNG that package.json's
// `icon` needs (the marketplace takes no SVG there), with Debian's Chromium and playwright-core, offline. Run after
// editing the SVG (`npm run build` first: it uses the test harness's Chromium launcher):
//   node scripts/render-icons.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { launchChromium } = require(join(root, 'out/test/harness/browser.js'));

const IMAGES = [{ svg: 'extension/media/icon.svg', png: 'extension/media/icon.png', size: 128 }];

const browser = await launchChromium();
try {
  for (const { svg, png, size } of IMAGES) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const markup = readFileSync(join(root, svg), 'utf8');
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${markup.replace(/<svg /, `<svg style="display:block;width:${size}px;height:${size}px" `)}</body></html>`,
    );
    await page.screenshot({ path: join(root, png), omitBackground: true });
    await page.close();
    console.log(`wrote ${png} (${size}x${size})`);
  }
} finally {
  await browser.close();
}
