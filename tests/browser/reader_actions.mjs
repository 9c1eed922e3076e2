// What a reader does on the built book beyond reading a page, in headless Chromium:
//
//   node tests/browser/reader_actions.mjs --root _build/html --queries rayleigh,bisection \
//        --pages book/01-reparametrization.html,... --cache .cache/browser --out artifacts/reader-actions.json
//
// * searches the book (search.html?q=...) and records every result's title and snippet, once
//   Sphinx has fetched each result's page and cut the snippet from it;
// * on each page, clicks the words of every folded solution's title (where a reader clicks to
//   unfold it, "Solution to Exercise 1.2") and records whether the solution opened and whether
//   the page jumped elsewhere.
// It judges nothing itself: tests/test_published_pages.py does.
import fs from 'node:fs';
import { CHROMIUM, launch, loadDependencies, parseArguments, serve } from './browser.mjs';

// Runs in the page: the snippets on the search page once their number has stopped growing.
async function searchResults() {
  const results = () => [...document.querySelectorAll('#search-results ul.search li')];
  const finished = () => /finished|did not match/i.test(document.querySelector('#search-results p.search-summary')
    ?.textContent || document.querySelector('#search-results')?.textContent || '');
  let seen = -1;
  for (let waited = 0; waited < 30000; waited += 500) {
    const snippets = document.querySelectorAll('#search-results li p.context').length;
    if (finished() && snippets === seen) break;
    seen = finished() ? snippets : -1;
    await new Promise((done) => setTimeout(done, 500));
  }
  return {
    finished: finished(),
    results: results().map((item) => ({
      title: item.querySelector('a')?.textContent.trim() || '',
      href: item.querySelector('a')?.getAttribute('href') || '',
      snippet: item.querySelector('p.context')?.textContent || null,
    })),
  };
}

// Runs in the page: the n-th folded box (a solution), scrolled into view, and where on the screen
// the words of its title are that a reader clicks to unfold it.
function foldedBox(n) {
  const box = document.querySelectorAll('.admonition.dropdown')[n];
  if (!box) return null;
  box.scrollIntoView({ block: 'center' });
  const title = box.querySelector(':scope > .admonition-title');
  // the last run of text of the title outside the toggle button: "Exercise 1.2 (...)"
  const walker = document.createTreeWalker(title, NodeFilter.SHOW_TEXT);
  let words = null;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.textContent.trim() && !node.parentElement.closest('.toggle-button, mjx-assistive-mml')) words = node;
  }
  const range = document.createRange();
  if (words) range.selectNodeContents(words);
  const rect = (words ? range : title).getBoundingClientRect();
  const content = box.querySelector(':scope > :not(.admonition-title)');
  return {
    id: box.id, title: title.textContent.trim().replace(/\s+/g, ' '),
    clickedOn: words ? words.textContent.trim() : '', inLink: Boolean(words && words.parentElement.closest('a[href]')),
    x: rect.left + rect.width / 2, y: rect.top + rect.height / 2, href: window.location.href,
    open: Boolean(content && content.getClientRects().length && !box.classList.contains('toggle-hidden')),
  };
}

// Open a page and wait until sphinx-togglebutton has folded its boxes (it runs once the document is
// parsed; images need not have loaded). Generous time: the machine may be busy.
async function open(tab, url) {
  await tab.goto(url, { waitUntil: 'domcontentloaded', timeout: 120000 });
  await tab.waitForFunction(() => !document.querySelector('.admonition.dropdown')
    || document.querySelector('.admonition.dropdown .toggle-button'), null, { timeout: 60000 });
}

async function clickEverySolutionTitle(context, origin, page) {
  const tab = await context.newPage();
  const url = `${origin}/${page}`;
  const clicks = [];
  await open(tab, url);
  for (let n = 0; ; n += 1) {
    // a click that jumped elsewhere must not change the next one: start again from the page
    if (await tab.evaluate(() => window.location.href) !== url) await open(tab, url);
    const before = await tab.evaluate(foldedBox, n);
    if (!before) break;
    await tab.mouse.click(before.x, before.y);
    await tab.waitForTimeout(300);
    const after = await tab.evaluate((i) => {
      const box = document.querySelectorAll('.admonition.dropdown')[i];
      const content = box.querySelector(':scope > :not(.admonition-title)');
      return { href: window.location.href,
        open: Boolean(content && content.getClientRects().length && !box.classList.contains('toggle-hidden')) };
    }, n);
    clicks.push({ id: before.id, title: before.title, clickedOn: before.clickedOn, inLink: before.inLink,
      openBefore: before.open, openAfter: after.open, jumped: after.href !== before.href, to: after.href });
  }
  await tab.close();
  return clicks;
}

async function main() {
  const options = parseArguments(process.argv.slice(2), ['root', 'queries', 'pages', 'cache', 'out']);
  const { chromium, mathjaxDirectory } = loadDependencies(options.cache);
  const server = await serve(options.root);
  const browser = await launch(chromium, { origin: server.origin, mathjaxDirectory, executablePath: CHROMIUM });
  const report = { searches: [], solutions: [] };
  try {
    for (const query of options.queries.split(',')) {
      const tab = await browser.context.newPage();
      const errors = [];
      tab.on('pageerror', (error) => errors.push(String(error)));
      await tab.goto(`${server.origin}/search.html?q=${encodeURIComponent(query)}`, { waitUntil: 'load', timeout: 120000 });
      report.searches.push({ query, errors, ...(await tab.evaluate(searchResults)) });
      await tab.close();
    }
    for (const page of options.pages.split(',')) {
      report.solutions.push({ page, clicks: await clickEverySolutionTitle(browser.context, server.origin, page) });
    }
  } finally {
    await browser.close();
    await server.close();
  }
  fs.writeFileSync(options.out, JSON.stringify(report, null, 1));
}

main().catch((error) => { console.error(error); process.exit(1); });
