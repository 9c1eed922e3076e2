// Open pages of the built book in headless Chromium and write down what a reader sees.
//
//   node tests/browser/inspect_pages.mjs --root _build/html --pages book/intro.html,book/02-least-squares.html \
//        --cache .cache/browser --screenshots artifacts/screenshots --out artifacts/browser-report.json
//
// For every page, in the light and then the dark theme, it records the facts that
// tests/test_published_pages.py judges (math typeset, images loaded and opaque, theorem and proof
// boxes, error output, links, launch buttons, what overflows its box, axe-core's accessibility
// violations, the rendered size of every figure) and saves a full-page screenshot; in the dark
// theme it also saves a screenshot of every figure of a cell output, so that the test can see
// whether the figure stays readable on the dark page. Then it opens every page again at a phone's
// width (390 px) and records whether the page scrolls sideways. It judges nothing itself.
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, launch, loadAllImages, loadDependencies, parseArguments, serve, waitForMath } from './browser.mjs';

// The widths a reader's browser has: a desktop window and a phone.
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

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

// Runs in the page: every element of the article whose content does not fit its box. An element
// with `overflow` other than visible hides what does not fit (or scrolls it: a reader who does not
// see a scroll bar does not know to scroll); one with visible overflow that reaches past the
// article's column spills into the margin or off the screen. Returns the innermost such boxes.
function collectOverflow() {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const column = article.getBoundingClientRect();
  const slack = 1; // sub-pixel rounding of scrollWidth and of the boxes
  const describe = (element) => {
    const labelled = element.closest('[id]');
    const text = (element.querySelector('mjx-assistive-mml') || element).textContent.trim().replace(/\s+/g, ' ');
    const box = element.closest('.proof, .admonition, .cell, figure, table, section');
    return {
      tag: element.tagName.toLowerCase(), classes: [...element.classList].join(' '),
      near: labelled ? labelled.id : '', in: box ? (box.id || [...box.classList].join(' ')) : '',
      text: text.slice(0, 120),
    };
  };
  const clips = (value) => value !== 'visible';
  const clippedByAnAncestor = (element) => {
    for (let parent = element.parentElement; parent && parent !== article; parent = parent.parentElement) {
      if (clips(getComputedStyle(parent).overflowX)) return true;
    }
    return false;
  };
  // MathJax's hidden copy of each formula for screen readers is positioned absolutely and widens
  // its box's scroll width without being seen: leave it out of the measure
  const hideAssistive = document.createElement('style');
  hideAssistive.textContent = 'mjx-assistive-mml { display: none !important; }';
  document.head.append(hideAssistive);
  const found = [];
  for (const element of article.querySelectorAll('*')) {
    if (element.closest('mjx-assistive-mml, .visually-hidden, .sr-only, script, style, button, .headerlink')) continue;
    // MathJax clips the pieces of a stretched delimiter by design: judge a formula by its container
    const formula = element.closest('mjx-container');
    if (formula && formula !== element) continue;
    // a folded solution or dropdown hides its content on purpose until the reader opens it
    if (element.matches('.dropdown:not(.toggle-shown), details:not([open])')) continue;
    const style = getComputedStyle(element);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    // overflow does not apply to inline boxes (their clientWidth is 0)
    const isBox = style.display !== 'inline';
    const hiddenX = isBox && clips(style.overflowX) && element.scrollWidth > element.clientWidth + slack;
    // a box that scrolls sideways also clips vertically: glyphs that touch its top or bottom edge are cut
    const hiddenY = isBox && clips(style.overflowY) && element.scrollHeight > element.clientHeight + slack;
    const spills = (rect.right > column.right + slack || rect.left < column.left - slack) && !clippedByAnAncestor(element);
    if (hiddenX || hiddenY || spills) {
      // the source of a code cell may scroll sideways, with its scroll bar in sight (Python's
      // indentation must not be broken); an output, a formula or a table may not
      const code = element.tagName === 'PRE' && !element.closest('.cell_output, .output')
        && ['auto', 'scroll'].includes(style.overflowX) && !hiddenY;
      found.push({
        element, ...describe(element),
        kind: code ? 'code that scrolls' : hiddenX ? 'hidden or scrolled sideways' : hiddenY ? 'cut at the top or bottom' : 'past the column',
        overflowX: style.overflowX,
        contentWidth: hiddenX ? element.scrollWidth : Math.round(rect.width),
        boxWidth: hiddenX ? element.clientWidth : Math.round(column.width),
        by: Math.round(hiddenX ? element.scrollWidth - element.clientWidth
          : hiddenY ? element.scrollHeight - element.clientHeight : Math.max(rect.right - column.right, column.left - rect.left)),
      });
    }
  }
  hideAssistive.remove();
  // keep the innermost boxes: an ancestor that overflows only because its child does adds nothing
  const innermost = found.filter((outer) => !found.some((inner) => inner !== outer && outer.element.contains(inner.element)));
  return innermost.map(({ element, ...fact }) => fact);
}

// Runs in the page: what a keyboard or screen-reader user meets that axe-core does not count.
function collectAccessibility() {
  const ids = {};
  for (const element of document.querySelectorAll('[id]')) ids[element.id] = (ids[element.id] || 0) + 1;
  const focusable = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
    .filter((element) => element.tabIndex >= 0 && !element.disabled && element.getClientRects().length);
  return {
    duplicateIds: Object.entries(ids).filter(([, count]) => count > 1).map(([id, count]) => `${id} x${count}`),
    tabStops: focusable.length,
    formulaTabStops: focusable.filter((element) => element.closest('mjx-container')).length,
    figures: [...document.querySelectorAll('.cell_output img, figure img')].map((image) => {
      const rect = image.getBoundingClientRect();
      const link = image.closest('a[href]');
      return {
        src: image.currentSrc || image.src, alt: image.getAttribute('alt'), naturalWidth: image.naturalWidth,
        renderedWidth: rect.width, inCellOutput: Boolean(image.closest('.cell_output')),
        opensFullImage: Boolean(link && new URL(link.href).pathname === new URL(image.currentSrc || image.src).pathname),
      };
    }),
  };
}

// axe-core's violations of WCAG 2.1 A and AA on the whole page, with the elements they concern.
async function runAxe(tab, axeSource) {
  await tab.addScriptTag({ content: axeSource });
  return tab.evaluate(async () => {
    const results = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return results.violations.map((violation) => ({
      id: violation.id, impact: violation.impact, help: violation.help, count: violation.nodes.length,
      nodes: violation.nodes.slice(0, 5).map((node) => ({ target: node.target.join(' '), summary: node.failureSummary })),
    }));
  });
}

function screenshotName(page) {
  return page.replace(/\.html$/, '').replace(/[\\/]/g, '__');
}

async function inspect(context, origin, page, screenshots, axeSource) {
  const tab = await context.newPage();
  const pageErrors = [];
  const brokenResources = [];
  tab.on('pageerror', (error) => pageErrors.push(String(error)));
  tab.on('response', (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400) {
      brokenResources.push(`${response.status()} ${response.url()}`);
    }
  });
  const response = await tab.goto(`${origin}/${page}`, { waitUntil: 'load', timeout: 120000 });
  await loadAllImages(tab);
  let mathjax = 'no math on the page';
  try {
    if (await waitForMath(tab)) mathjax = 'typeset';
  } catch (error) {
    mathjax = `MathJax did not finish: ${error.message.split('\n')[0]}`;
  }
  const name = screenshotName(page);
  const light = await tab.evaluate(collectFacts);
  light.overflow = await tab.evaluate(collectOverflow);
  Object.assign(light, await tab.evaluate(collectAccessibility));
  light.axe = await runAxe(tab, axeSource);
  light.screenshot = path.join(screenshots, `${name}-light.png`);
  await tab.screenshot({ path: light.screenshot, fullPage: true });

  // the theme's dark mode: pydata-sphinx-theme styles everything from html[data-theme=dark]
  await tab.evaluate(() => { document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'; });
  await tab.waitForTimeout(300);
  const dark = await tab.evaluate(collectFacts);
  dark.axe = await runAxe(tab, axeSource);
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

// Runs in the page: every numbered display's equation number and the box of its formula, so that the
// test can see whether the number sits on top of the formula (a phone's column is too narrow for both
// on one line: the style sheet puts the number on a line of its own there).
function collectEquationNumbers() {
  return [...document.querySelectorAll('div.math > span.eqno')].map((number) => {
    const display = number.parentElement;
    const formula = display.querySelector('mjx-container');
    const box = (element) => {
      const rect = element.getBoundingClientRect();
      return { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
    };
    return { id: display.id || '', text: number.textContent.trim(), number: box(number),
             formula: formula ? box(formula) : null };
  });
}

// The page at a phone's width: does the page itself scroll sideways, and which boxes are too wide?
async function inspectOnAPhone(context, origin, page, screenshots) {
  const tab = await context.newPage();
  await tab.setViewportSize(PHONE);
  await tab.goto(`${origin}/${page}`, { waitUntil: 'load', timeout: 120000 });
  await loadAllImages(tab);
  try { await waitForMath(tab); } catch { /* the desktop pass records MathJax's failures */ }
  const phone = await tab.evaluate(() => ({
    viewportWidth: window.innerWidth,
    pageWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  }));
  phone.overflow = await tab.evaluate(collectOverflow);
  phone.equationNumbers = await tab.evaluate(collectEquationNumbers);
  phone.screenshot = path.join(screenshots, `${screenshotName(page)}-phone.png`);
  await tab.screenshot({ path: phone.screenshot, fullPage: true });
  await tab.close();
  return phone;
}

async function main() {
  const options = parseArguments(process.argv.slice(2), ['root', 'pages', 'cache', 'screenshots', 'out']);
  const { chromium, mathjaxDirectory, axeSource } = loadDependencies(options.cache);
  fs.mkdirSync(path.join(options.screenshots, 'figures'), { recursive: true });
  const server = await serve(options.root);
  const browser = await launch(chromium, {
    origin: server.origin, mathjaxDirectory, executablePath: CHROMIUM, viewport: DESKTOP,
  });
  const report = { chromium: browser.context.browser()?.version() || '', pages: [] };
  try {
    for (const page of options.pages.split(',')) {
      const entry = await inspect(browser.context, server.origin, page, options.screenshots, axeSource);
      entry.phone = await inspectOnAPhone(browser.context, server.origin, page, options.screenshots);
      report.pages.push(entry);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  report.blockedRequests = [...new Set(browser.blocked)];
  fs.writeFileSync(options.out, JSON.stringify(report, null, 1));
}

main().catch((error) => { console.error(error); process.exit(1); });
