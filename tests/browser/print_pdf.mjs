// Print the single-page HTML build of the book to PDF with headless Chromium (`make pdf`).
//
//   node tests/browser/print_pdf.mjs --root _build/singlehtml --page book.html \
//        --cache .cache/browser --out _build/pdf/length-and-direction.pdf
//
// The page is served locally, MathJax comes from the npm package (the machine may be offline),
// and the PDF is printed only after every image is decoded and every formula typeset: a formula
// left as TeX stops the print with an error instead of reaching the PDF.
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, launch, loadAllImages, loadDependencies, parseArguments, serve, waitForMath } from './browser.mjs';

async function main() {
  const options = parseArguments(process.argv.slice(2), ['root', 'page', 'cache', 'out']);
  const { chromium, mathjaxDirectory } = loadDependencies(options.cache);
  const server = await serve(options.root);
  const browser = await launch(chromium, {
    origin: server.origin, mathjaxDirectory, executablePath: CHROMIUM,
  });
  try {
    const page = await browser.context.newPage();
    const response = await page.goto(`${server.origin}/${options.page}`, { waitUntil: 'load' });
    if (!response || response.status() !== 200) throw new Error(`${options.page}: HTTP ${response && response.status()}`);
    await loadAllImages(page);
    if (!(await waitForMath(page, 120000))) throw new Error(`${options.page} has no math: is it the whole book?`);
    const untypeset = await page.evaluate(
      () => [...document.querySelectorAll('.math')].filter((m) => !m.querySelector('mjx-container')).length);
    const broken = await page.evaluate(() => [...document.images].filter((i) => !i.naturalWidth).map((i) => i.src));
    if (untypeset) throw new Error(`${untypeset} formulas were not typeset`);
    if (broken.length) throw new Error(`images that did not load: ${broken.join(', ')}`);
    // print folded code (e.g. the verification appendix's) unfolded, and wrap long code lines
    await page.evaluate(() => document.querySelectorAll('details').forEach((details) => { details.open = true; }));
    await page.addStyleTag({ content: '@media print { pre { white-space: pre-wrap !important; overflow-wrap: anywhere; } }' });
    await page.emulateMedia({ media: 'print' });
    fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    await page.pdf({
      path: options.out, format: 'A4', printBackground: true, outline: true, tagged: true,
      margin: { top: '16mm', bottom: '16mm', left: '14mm', right: '14mm' },
      displayHeaderFooter: true, headerTemplate: '<span></span>',
      footerTemplate: '<div style="font-size:8px;width:100%;text-align:center;"><span class="pageNumber"></span></div>',
    });
    console.log(`wrote ${options.out} (${(fs.statSync(options.out).size / 1e6).toFixed(1)} MB)`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => { console.error(`print_pdf: ${error.message}`); process.exit(1); });
