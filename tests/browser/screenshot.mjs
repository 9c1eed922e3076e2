// A screenshot of one element of a built page, as a reader's browser shows it at a given width:
//
//   node tests/browser/screenshot.mjs --root _build/html --page book/04-networks.html \
//        --selector '#thm-network-rate' --width 1280 --cache .cache/browser --out artifacts/issue-14/thm.png
//
// For notes and reviews (the issues' before/after pictures); no test depends on it.
import { CHROMIUM, launch, loadAllImages, loadDependencies, parseArguments, serve, waitForMath } from './browser.mjs';

async function main() {
  const options = parseArguments(process.argv.slice(2), ['root', 'page', 'selector', 'width', 'cache', 'out']);
  const { chromium, mathjaxDirectory } = loadDependencies(options.cache);
  const server = await serve(options.root);
  const browser = await launch(chromium, {
    origin: server.origin, mathjaxDirectory, executablePath: CHROMIUM,
    viewport: { width: Number(options.width), height: 900 },
  });
  try {
    const tab = await browser.context.newPage();
    await tab.goto(`${server.origin}/${options.page}`, { waitUntil: 'load' });
    await loadAllImages(tab);
    await waitForMath(tab);
    const element = tab.locator(options.selector).first();
    await element.scrollIntoViewIfNeeded();
    await tab.waitForTimeout(300);
    await element.screenshot({ path: options.out });
    console.log(`wrote ${options.out}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
