// Open pages of the built book in headless Chromium and write down what a reader sees.
//
//   node tests/browser/inspect_pages.mjs --root _build/html --pages book/intro.html,book/02-least-squares.html \
//        --cache .cache/browser --screenshots artifacts/screenshots --out artifacts/browser-report.json
//
// For every page, in the light and then the dark theme, it records the facts that
// tests/test_published_pages.py judges (math typeset, images loaded and opaque, theorem and proof
// boxes, error output, links, launch buttons) and saves a full-page screenshot; in the dark theme
// it also saves a screenshot of every figure of a cell output, so that the test can see whether
// the figure stays readable on the dark page. It judges nothing itself.
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, launch, loadAllImages, loadDependencies, parseArguments, serve, waitForMath } from './browser.mjs';

// Runs in the page: the facts of one page.
function collectFacts() {
  const outsideCode = 'pre, code, script, style, mjx-container, .highlight, textarea, kbd, samp, mjx-assistive-mml';
  // a dollar before a non-blank, a TeX delimiter, or a TeX command: none belongs in typeset prose
  const rawMath = /\$\S|\\\(|\\\)|\\\[|\\\]|\\[a-zA-Z]{2,}/;
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && node.parentElement.closest(outsideCode)) continue;
    if (rawMath.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 160));
  }
  const maths = [...document.querySelectorAll('.math')];
  const images = [...document.images].map((image) => {
    const fact = {
      src: image.currentSrc || image.src, complete: image.complete, naturalWidth: image.naturalWidth,
      inCellOutput: Boolean(image.closest('.cell_output')), transparentPixels: null, pixels: null,
    };
    if (image.complete && image.naturalWidth > 0) {
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let transparent = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] < 255) transparent += 1;
      fact.transparentPixels = transparent;
      fact.pixels = data.length / 4;
    }
    return fact;
  });
  const boxes = [...document.querySelectorAll('div.proof')].map((box) => ({
    id: box.id, classes: [...box.classList],
    title: (box.querySelector('.admonition-title') || {}).textContent?.trim().replace(/\s+/g, ' ') || '',
  }));
  const errors = [...document.querySelectorAll(
    '.output.stderr, .output.traceback, .output.error, .system-message, .problematic, mjx-merror',
  )].map((element) => ({ kind: element.tagName.toLowerCase() + '.' + [...element.classList].join('.'),
    text: element.textContent.trim().slice(0, 300) }));
  return {
    title: document.title,
    theme: document.documentElement.dataset.theme || '',
    background: getComputedStyle(document.body).backgroundColor,
    rawMath: raw,
    mathElements: maths.length,
    typesetMathElements: maths.filter((element) => element.querySelector('mjx-container')).length,
    images,
    boxes,
    errors,
    links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
  };
}

function screenshotName(page) {
  return page.replace(/\.html$/, '').replace(/[\\/]/g, '__');
}

async function inspect(context, origin, page, screenshots) {
  const tab = await context.newPage();
  const pageErrors = [];
  const brokenResources = [];
  tab.on('pageerror', (error) => pageErrors.push(String(error)));
  tab.on('response', (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400) {
      brokenResources.push(`${response.status()} ${response.url()}`);
    }
  });
  const response = await tab.goto(`${origin}/${page}`, { waitUntil: 'load' });
  await loadAllImages(tab);
  let mathjax = 'no math on the page';
  try {
    if (await waitForMath(tab)) mathjax = 'typeset';
  } catch (error) {
    mathjax = `MathJax did not finish: ${error.message.split('\n')[0]}`;
  }
  const name = screenshotName(page);
  const light = await tab.evaluate(collectFacts);
  light.screenshot = path.join(screenshots, `${name}-light.png`);
  await tab.screenshot({ path: light.screenshot, fullPage: true });

  // the theme's dark mode: pydata-sphinx-theme styles everything from html[data-theme=dark]
  await tab.evaluate(() => { document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'; });
  await tab.waitForTimeout(300);
  const dark = await tab.evaluate(collectFacts);
  dark.screenshot = path.join(screenshots, `${name}-dark.png`);
  await tab.screenshot({ path: dark.screenshot, fullPage: true });
  dark.figureScreenshots = [];
  const outputs = tab.locator('.cell_output img');
  for (let i = 0; i < await outputs.count(); i += 1) {
    const file = path.join(screenshots, 'figures', `${name}-${i + 1}-dark.png`);
    await outputs.nth(i).screenshot({ path: file });
    dark.figureScreenshots.push(file);
  }
  await tab.close();
  return { page, status: response ? response.status() : null, mathjax, pageErrors, brokenResources, light, dark };
}

async function main() {
  const options = parseArguments(process.argv.slice(2), ['root', 'pages', 'cache', 'screenshots', 'out']);
  const { chromium, mathjaxDirectory } = loadDependencies(options.cache);
  fs.mkdirSync(path.join(options.screenshots, 'figures'), { recursive: true });
  const server = await serve(options.root);
  const browser = await launch(chromium, {
    origin: server.origin, mathjaxDirectory, executablePath: CHROMIUM,
  });
  const report = { chromium: browser.context.browser()?.version() || '', pages: [] };
  try {
    for (const page of options.pages.split(',')) {
      report.pages.push(await inspect(browser.context, server.origin, page, options.screenshots));
    }
  } finally {
    await browser.close();
    await server.close();
  }
  report.blockedRequests = [...new Set(browser.blocked)];
  fs.writeFileSync(options.out, JSON.stringify(report, null, 1));
}

main().catch((error) => { console.error(error); process.exit(1); });
