// Print the single-page HTML build of the book to PDF with headless Chromium (`make pdf`).
//
//   node tests/browser/print_pdf.mjs --root _build/singlehtml --page book.html \
//        --cache .cache/browser --out _build/pdf/length-and-direction.pdf
//
// The page is served locally, MathJax comes from the npm package (the machine may be offline),
// and the PDF is printed only after every image is decoded and every formula typeset: a formula
// left as TeX stops the print with an error instead of reaching the PDF.
//
// Beside the PDF it writes <out>.formulas.json: every displayed formula as MathJax read it (its TeX),
// with the width it needs and the width its box gives it in the printed layout, so that
// tests/test_pdf.py can compare the printed formulas with the sources. In print, a formula never
// scrolls or clips (a formula too wide would run into the margin, where the test finds its glyphs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, launch, loadAllImages, loadDependencies, parseArguments, serve, waitForMath } from './browser.mjs';

// A4 with these margins; at 96 CSS px to the inch the printed column is 182 mm = 688 px wide.
const PAGE = { format: 'A4', widthMm: 210, margin: { top: '16mm', bottom: '16mm', left: '14mm', right: '14mm' } };
const COLUMN_PX = Math.floor(((PAGE.widthMm - 28) / 25.4) * 96);

// Runs in the page: split each line of a code box into a block with a hanging indent, so that a
// line too long for the column wraps to the right of its own indentation, never to the margin
// (which would break Python's indentation). The text of the box is unchanged.
function wrapCodeLines() {
  for (const pre of document.querySelectorAll('div.highlight pre')) {
    const lines = [[]];
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const cls = node.parentElement === pre ? '' : node.parentElement.className;
      node.textContent.split('\n').forEach((piece, i) => {
        if (i > 0) lines.push([]);
        if (piece) lines[lines.length - 1].push([cls, piece]);
      });
    }
    if (lines.length && !lines[lines.length - 1].length) lines.pop();
    pre.replaceChildren(...lines.map((pieces) => {
      const line = document.createElement('span');
      line.className = 'code-line';
      const text = pieces.map(([, piece]) => piece).join('');
      const indent = text.length - text.trimStart().length;
      line.style.paddingLeft = `${indent + 4}ch`;
      line.style.textIndent = `-${indent + 4}ch`;
      for (const [cls, piece] of pieces) {
        const span = document.createElement('span');
        if (cls) span.className = cls;
        span.textContent = piece;
        line.append(span);
      }
      line.append('\n');
      return line;
    }));
  }
}

// The words of a heading or a link, as pdftotext prints them: no numbering, one space between words,
// a word hyphenated at the end of a line joined again.
const words = (text) => text.replace(/^[\d.]+\s+/, '').replace(/[\u00a0\s]+/g, ' ').replace(/- /g, '-').trim()
  .toLowerCase();

/** The page (from 1) on which each title of `titles` starts a page of the PDF, or 0 when none does. */
function pagesOf(pdf, titles) {
  const pages = execFileSync('pdftotext', ['-layout', pdf, '-'], { maxBuffer: 1 << 28 }).toString().split('\f');
  let from = 1; // the contents are on the first page: a chapter starts after it
  return titles.map((title) => {
    const wanted = words(title);
    for (let page = from; page < pages.length; page += 1) {
      const top = words(pages[page].split('\n').filter((line) => line.trim()).slice(0, 3).join(' '));
      if (top.includes(wanted)) { from = page + 1; return page + 1; }
    }
    return 0;
  });
}

// Runs in the page: the titles of the printed table of contents (sphinx-book-theme's #jb-print-toc).
function contentsTitles() {
  return [...document.querySelectorAll('#jb-print-toc a')].map((link) => link.textContent);
}

// The first print's style sheet: only the headings (the chapters' titles among them) painted.
const HEADINGS_ONLY = 'body * { visibility: hidden !important; } '
  + ':is(h1, h2, h3, h4, h5, h6), :is(h1, h2, h3, h4, h5, h6) * { visibility: visible !important; }';

// Runs in the page: write each page number beside its title in the table of contents (again:
// the numbers of an earlier call are replaced).
function numberTheContents(numbers) {
  document.querySelectorAll('#jb-print-toc .toc-page-number').forEach((number) => number.remove());
  [...document.querySelectorAll('#jb-print-toc a')].forEach((link, i) => {
    if (!numbers[i]) return;
    const number = document.createElement('span');
    number.className = 'toc-page-number';
    number.textContent = String(numbers[i]);
    link.append(number);
  });
}

// Runs in the page (print layout): every displayed formula, its TeX, and whether it fits its box.
function measureDisplayedFormulas() {
  return [...window.MathJax.startup.document.math].filter((item) => item.display).map((item) => {
    const container = item.typesetRoot;
    const math = container.querySelector('mjx-math') || container;
    const box = container.closest('div.math') || container.parentElement;
    const number = box.querySelector('.eqno');
    const formula = math.getBoundingClientRect();
    const room = box.getBoundingClientRect();
    const label = number ? number.getBoundingClientRect() : null;
    return {
      tex: item.math, number: number ? number.firstChild.textContent.trim() : '',
      needed: Math.ceil(formula.width), available: Math.floor(room.width),
      pastTheBox: Math.max(0, Math.ceil(formula.right - room.right), Math.ceil(room.left - formula.left)),
      overNumber: Boolean(label && formula.right > label.left + 1 && formula.left < label.right
        && formula.bottom > label.top && formula.top < label.bottom),
    };
  });
}

async function main() {
  const options = parseArguments(process.argv.slice(2), ['root', 'page', 'cache', 'out']);
  const { chromium, mathjaxDirectory } = loadDependencies(options.cache);
  const server = await serve(options.root);
  const browser = await launch(chromium, {
    origin: server.origin, mathjaxDirectory, executablePath: CHROMIUM,
  });
  try {
    const page = await browser.context.newPage();
    const response = await page.goto(`${server.origin}/${options.page}`, { waitUntil: 'load', timeout: 180000 });
    if (!response || response.status() !== 200) throw new Error(`${options.page}: HTTP ${response && response.status()}`);
    await loadAllImages(page);
    if (!(await waitForMath(page, 120000))) throw new Error(`${options.page} has no math: is it the whole book?`);
    const untypeset = await page.evaluate(
      () => [...document.querySelectorAll('.math')].filter((m) => !m.querySelector('mjx-container')).length);
    const broken = await page.evaluate(() => [...document.images].filter((i) => !i.naturalWidth).map((i) => i.src));
    if (untypeset) throw new Error(`${untypeset} formulas were not typeset`);
    if (broken.length) throw new Error(`images that did not load: ${broken.join(', ')}`);
    // print folded code (e.g. the verification appendix's) unfolded, and wrap long code lines
    // with a hanging indent (the print style sheet, _static/print.css, does the rest)
    await page.evaluate(() => document.querySelectorAll('details').forEach((details) => { details.open = true; }));
    await page.evaluate(wrapCodeLines);
    await page.emulateMedia({ media: 'print' });
    // lay the page out at the printed column's width to measure what the PDF will show
    await page.setViewportSize({ width: COLUMN_PX, height: 1000 });
    await page.waitForTimeout(500);
    const formulas = await page.evaluate(measureDisplayedFormulas);
    fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    fs.writeFileSync(options.out.replace(/\.pdf$/, '') + '.formulas.json',
      JSON.stringify({ columnPx: COLUMN_PX, formulas }, null, 1));
    const print = () => page.pdf({
      path: options.out, format: PAGE.format, printBackground: true, outline: true, tagged: true,
      margin: PAGE.margin,
      displayHeaderFooter: true, headerTemplate: '<span></span>',
      footerTemplate: '<div style="font-size:8px;width:100%;text-align:center;"><span class="pageNumber"></span></div>',
    });
    // print twice: the first print tells on which page each chapter starts (every chapter starts a
    // page), the second has those numbers in its table of contents (the contents keep their lines).
    // The first print paints the headings only (everything else `visibility: hidden`, which keeps
    // every box where it is, so the pages break where they do in the second): a third of the time
    // of a whole print. The second print is read again: should a chapter start on another page than
    // its number says, the contents are numbered again and the book printed once more.
    const titles = await page.evaluate(contentsTitles);
    const headingsOnly = await page.addStyleTag({ content: HEADINGS_ONLY });
    await print();
    await headingsOnly.evaluate((style) => style.remove());
    let numbers = pagesOf(options.out, titles);
    for (let attempt = 1; ; attempt += 1) {
      const missing = titles.filter((title, i) => !numbers[i]);
      if (missing.length) throw new Error(`no page of the PDF starts with ${missing.join('; ')}`);
      await page.evaluate(numberTheContents, numbers);
      await print();
      const printed = pagesOf(options.out, titles);
      if (printed.every((number, i) => number === numbers[i])) break;
      if (attempt === 2) throw new Error(`the contents give the pages ${numbers}, the PDF ${printed}`);
      console.log(`print_pdf: the chapters start on pages ${printed}, not ${numbers}: printing again`);
      numbers = printed;
    }
    console.log(`wrote ${options.out} (${(fs.statSync(options.out).size / 1e6).toFixed(1)} MB)`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => { console.error(`print_pdf: ${error.message}`); process.exit(1); });
