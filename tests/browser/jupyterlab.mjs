// Open the chapters in a running JupyterLab, as a student does, and write down what they see.
//
//   node tests/browser/jupyterlab.mjs --url http://127.0.0.1:PORT/ --token TOKEN \
//        --notebooks 01-reparametrization.ipynb,02-least-squares.ipynb --cache .cache/browser \
//        --screenshots artifacts/jupyterlab --out artifacts/jupyterlab-report.json [--workspace NAME]
//
// tests/test_jupyterlab.py starts JupyterLab (with --LabApp.expose_app_in_browser=True, so that
// the page's `window.jupyterapp` tells when the kernel is idle) and judges the record. It loads
// JupyterLab once; for every notebook it opens it, clicks Run > Run All Cells, waits for the
// kernel to finish, scrolls through every cell (JupyterLab renders cells as they come
// into view), records the error outputs, the figures, the text of the rendered markdown and
// what is left of MyST markup in it, the theorem, exercise and admonition boxes; then, for every
// explorer (a widget that shows an image), it records its sliders' readouts and the values the
// kernel holds for them, moves a slider with the keyboard and records the explorer again; it
// stops the kernel and closes the notebook without saving.
// It judges nothing itself.
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, launch, loadDependencies, parseArguments } from './browser.mjs';

const RUN_TIMEOUT = 900000; // a chapter runs in well under a minute on 2 quiet cores; a busy machine is slower
const SETTLE_MS = 1500; // a rendered page is settled once nothing changed for this long
const SETTLE_CAP_MS = 15000;

const options = parseArguments(process.argv.slice(2), ['url', 'token', 'notebooks', 'cache', 'screenshots', 'out']);
const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
const notebooks = options.notebooks.split(',').filter(Boolean);
// a workspace of this page's own (optional): two pages that run chapters side by side in one
// JupyterLab do not share (and overwrite) one workspace's layout
const workspace = options.workspace ? `workspaces/${encodeURIComponent(options.workspace)}` : '';
fs.mkdirSync(options.screenshots, { recursive: true });

// --- in the page -------------------------------------------------------------------------------

// The notebook panel in front, once its file is loaded and its kernel is ready.
async function notebookReady() {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await panel.revealed;
  return panel.content.model.cells.length;
}

// Whether Run All has finished: the kernel is idle and every code cell ran, or one failed (then
// JupyterLab stops, and the cells after it keep no execution count).
function runFinished() {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  let pending = false;
  let failed = false;
  for (const cell of panel.content.model.cells) {
    if (cell.type !== 'code') continue;
    if (cell.executionCount === null) pending = true;
    for (let i = 0; i < cell.outputs.length; i += 1) if (cell.outputs.get(i).type === 'error') failed = true;
  }
  return failed || !pending;
}

// What the cells' models hold after the run: errors, stderr, images, widgets, text outputs.
function outputFacts() {
  const panel = window.jupyterapp.shell.currentWidget;
  const facts = [];
  let index = 0;
  for (const cell of panel.content.model.cells) {
    const fact = { index, type: cell.type, executionCount: cell.type === 'code' ? cell.executionCount : null,
      errors: [], stderr: [], images: 0, widgets: 0, texts: [] };
    if (cell.type === 'code') {
      for (let i = 0; i < cell.outputs.length; i += 1) {
        const output = cell.outputs.get(i).toJSON();
        if (output.output_type === 'error') fact.errors.push(`${output.ename}: ${output.evalue}`);
        else if (output.output_type === 'stream' && output.name === 'stderr') fact.stderr.push(String(output.text).slice(0, 500));
        else if (output.output_type === 'stream') fact.texts.push(String(output.text).slice(0, 200));
        else {
          const data = output.data || {};
          if (data['image/png'] || data['image/svg+xml']) fact.images += 1;
          else if (data['application/vnd.jupyter.widget-view+json']) fact.widgets += 1;
          else if (data['text/plain']) fact.texts.push(String(data['text/plain']).slice(0, 200));
        }
      }
    }
    facts.push(fact);
    index += 1;
  }
  return facts;
}

// What the rendered cells show: the text of every markdown cell, the MyST left raw in it, the
// references left unresolved, jupyterlab-myst's warnings, the boxes of statements, the images.
function renderedFacts() {
  const panel = window.jupyterapp.shell.currentWidget;
  // what a student would see of MyST or LaTeX that was not rendered; the text they are matched
  // against is everything outside typeset math, code and code blocks included: jupyterlab-myst
  // shows an unknown directive's body in a <pre>, and the notebooks' markdown has no code that
  // holds a $, a brace role or a TeX command
  const rawPatterns = [
    /\{(?:prf:\w+|cite(?::\w+)?|numref|ref|eq|doc|exercise|solution(?:-start|-end)?|admonition|figure|math)\}/,
    /```|:::/, /\([a-z]+-[\w-]+\)=/, /:(?:label|class|name|nonumber|dropdown):/, /\\[A-Za-z]+/,
    /Unknown Directive/,
  ];
  const cells = panel.content.widgets.map((widget, index) => {
    const node = widget.node;
    const fact = { index, type: widget.model.type, rendered: true, raw: [], dollars: [], text: '' };
    if (widget.model.type === 'markdown') {
      const myst = node.querySelector('.myst');
      // rendered: jupyterlab-myst drew it (a solution-end is an empty box, but a box)
      fact.rendered = Boolean(widget.rendered && myst && myst.childElementCount);
      // what is on the screen: jupyterlab-myst's rendering, or else JupyterLab's own markdown
      const shown = myst || node.querySelector('.jp-MarkdownOutput');
      if (shown) {
        // the text outside typeset math (KaTeX keeps its TeX source in an annotation)
        const walker = document.createTreeWalker(shown, NodeFilter.SHOW_TEXT);
        const parts = [];
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
          if (text.parentElement.closest('.katex, .katex-display, mjx-container')) continue;
          parts.push(text.nodeValue);
        }
        fact.text = parts.join('');
        fact.raw = rawPatterns.map((pattern) => (fact.text.match(pattern) || [null])[0]).filter(Boolean);
        fact.dollars = (fact.text.match(/.{0,30}\$.{0,30}/g) || []);
      }
    }
    return fact;
  });
  const notebook = panel.content.node;
  return {
    cells,
    unresolved: [...notebook.querySelectorAll('span[title="Cross Reference Not Found"], span[title="Citation Not Found"]')]
      .map((span) => span.textContent.trim()),
    // jupyterlab-myst marks what it could not render (a formula KaTeX rejects, a reference or a
    // citation it cannot find, an inline expression) with a yellow warning span; the book's
    // labels replace only the references and citations
    warnings: [...notebook.querySelectorAll('.myst span.text-yellow-600:not([data-book-label])')]
      .map((span) => ({ text: span.textContent.trim().slice(0, 100), title: (span.title || '').slice(0, 200) })),
    relabelled: [...notebook.querySelectorAll('[data-book-label]')].map((element) => ({
      label: element.dataset.bookLabel, text: element.textContent.trim() })),
    boxes: [...notebook.querySelectorAll('aside.myst-proof')].map((box) => ({
      id: box.id, title: (box.querySelector('.myst-proof-title') || {}).textContent?.trim().replace(/\s+/g, ' ') || '' })),
    exercises: [...notebook.querySelectorAll('aside.myst-exercise[id]')].map((box) => ({
      id: box.id, title: (box.querySelector('.myst-exercise-title') || {}).textContent?.trim().replace(/\s+/g, ' ') || '' })),
    admonitions: notebook.querySelectorAll('aside.myst-admonition, .myst-admonition').length,
    images: [...notebook.querySelectorAll('.jp-OutputArea-output img')].map((image) => ({
      widget: Boolean(image.closest('.widget-image, .jupyter-widgets')), complete: image.complete,
      naturalWidth: image.naturalWidth })),
  };
}

// The values the kernel holds for the controls of the explorer that a cell displayed (its value,
// Out[executionCount]): [description, value] for every control, in order. A value the browser
// rounded and sent back (a log slider turns 20 into 10**1.3 = 19.9526) shows here, while the
// readout still reads 20. Run silently, outside any cell: nothing is added to the notebook.
async function kernelControls(executionCount) {
  const code = `
def _length_direction_controls(value):
    import json, ipywidgets
    found = []
    def walk(widget):
        if isinstance(widget, ipywidgets.ValueWidget) and hasattr(widget, "description"):
            found.append([widget.description, widget.value])
        for child in getattr(widget, "children", ()):
            walk(child)
    walk(value)
    print(json.dumps(found, default=str))
_length_direction_controls(Out.get(${executionCount}))
del _length_direction_controls
`;
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code, silent: false, store_history: false });
  let stdout = '';
  let error = null;
  future.onIOPub = (message) => {
    if (message.header.msg_type === 'stream' && message.content.name === 'stdout') stdout += message.content.text;
    else if (message.header.msg_type === 'error') error = `${message.content.ename}: ${message.content.evalue}`;
  };
  await future.done;
  return error ? { error } : JSON.parse(stdout);
}

// --- in node -----------------------------------------------------------------------------------

async function settle(page) {
  // wait until the notebook's DOM has not changed for SETTLE_MS (renders, relabelling, widgets),
  // at most SETTLE_CAP_MS (a blinking cursor or a spinner never stops changing)
  await page.evaluate(([quiet, cap]) => new Promise((resolve) => {
    let timer = setTimeout(done, quiet);
    const deadline = setTimeout(done, cap);
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, quiet); });
    function done() { observer.disconnect(); clearTimeout(timer); clearTimeout(deadline); resolve(); }
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  }), [SETTLE_MS, SETTLE_CAP_MS]);
}

// JupyterLab renders a markdown cell when it comes into view: bring every cell into view once.
async function scrollThrough(page, panel) {
  await page.evaluate(async (selector) => {
    for (const cell of document.querySelectorAll(`${selector} .jp-Cell`)) {
      cell.scrollIntoView({ block: 'start' });
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  }, panel);
  await settle(page);
  // jupyterlab-myst renders the whole notebook again whenever a cell renders, and the labels come
  // after each rendering: give a busy machine time to finish before anything is recorded
  await page.waitForFunction((selector) => !document.querySelector(
    `${selector} span[title="Cross Reference Not Found"], ${selector} span[title="Citation Not Found"]`),
  panel, { timeout: 30000 }).catch(() => null);
}

// Scroll a box into view and take its screenshot (file(id) names it). jupyterlab-myst renders the
// whole notebook again when a cell renders, which can replace the box between finding it and taking
// it (more often on a busy machine): then the box is found again, up to three times.
async function screenshotOf(page, locator, file) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await locator.scrollIntoViewIfNeeded();
      await settle(page);
      const name = file(await locator.getAttribute('id'));
      await locator.screenshot({ path: name });
      return name;
    } catch (error) {
      if (attempt >= 3 || !/not attached to the DOM/.test(String(error))) throw error;
      await settle(page);
    }
  }
}

async function clickMenu(page, menu, item) {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: new RegExp(`^${menu}$`) }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${item}$`) }).first().click();
}

// Move the first slider of an explorer one step with the keyboard; the explorer before and after.
async function exploreOnce(page, explorer, stem, number) {
  const image = explorer.locator('img.widget-image').first();
  await explorer.scrollIntoViewIfNeeded();
  await settle(page);
  const slider = explorer.locator('.widget-slider').first();
  // every slider as it reads on the screen: [label, readout]
  const readouts = () => explorer.locator('.widget-slider').evaluateAll((sliders) => sliders.map((element) => [
    (element.querySelector('.widget-label') || {}).textContent?.trim() || '',
    (element.querySelector('.widget-readout') || {}).textContent?.trim() || '']));
  // the execution count of the cell that displayed the explorer
  const executionCount = await explorer.evaluate((node) => window.jupyterapp.shell.currentWidget.content.widgets
    .find((cell) => cell.node.contains(node)).model.executionCount);
  const fact = {
    executionCount,
    slidersBefore: await readouts(),
    kernelBefore: await page.evaluate(kernelControls, executionCount),
    sliders: await explorer.locator('.widget-slider').count(),
    label: (await slider.locator('.widget-label').first().textContent()).trim(),
    readoutBefore: (await slider.locator('.widget-readout').first().textContent()).trim(),
    naturalWidthBefore: await image.evaluate((img) => img.naturalWidth),
    srcBefore: await image.getAttribute('src'),
    before: path.join(options.screenshots, `${stem}-explorer-${number}-before.png`),
    after: path.join(options.screenshots, `${stem}-explorer-${number}-after.png`),
  };
  await explorer.screenshot({ path: fact.before });
  const pixelsBefore = await image.screenshot();
  await slider.locator('.noUi-handle').first().focus();
  await page.keyboard.press('ArrowRight');
  // the new value goes to the kernel, which draws and sends a new image
  try {
    await page.waitForFunction(([element, src]) => element.getAttribute('src') !== src && element.complete,
      [await image.elementHandle(), fact.srcBefore], { timeout: 60000 });
  } catch (error) {
    fact.waitError = String(error).split('\n')[0];
  }
  await settle(page);
  fact.readoutAfter = (await slider.locator('.widget-readout').first().textContent()).trim();
  fact.slidersAfter = await readouts();
  fact.kernelAfter = await page.evaluate(kernelControls, executionCount);
  fact.naturalWidthAfter = await image.evaluate((img) => img.naturalWidth);
  fact.srcAfter = await image.getAttribute('src');
  fact.imageChanged = !pixelsBefore.equals(await image.screenshot());
  await explorer.screenshot({ path: fact.after });
  // the explorer's own place for the error of a failed redraw
  fact.messages = (await explorer.locator('.jp-OutputArea-output').allTextContents()).map((t) => t.trim()).filter(Boolean);
  return fact;
}

// Open one chapter in the JupyterLab page, run it all, record it, stop its kernel and close it.
async function inspect(page, notebook, entry) {
  const stem = path.basename(notebook, '.ipynb');
  const started = Date.now();
  entry.phases = {};
  const phase = (name) => { entry.phases[name] = (Date.now() - started) / 1000; };
  await page.evaluate(async (file) => {
    await window.jupyterapp.commands.execute('docmanager:open', { path: file, factory: 'Notebook' });
  }, notebook); // (the widget it returns cannot come back to node)
  await page.waitForFunction((file) => {
    const widget = window.jupyterapp.shell.currentWidget;
    return widget && widget.context && widget.context.path === file && widget.sessionContext;
  }, notebook, { timeout: 120000 });
  entry.cellCount = await page.evaluate(notebookReady);
  phase('ready');
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden)';
  entry.kernel = await page.evaluate(() => window.jupyterapp.shell.currentWidget.sessionContext.kernelDisplayName);

  const runStarted = Date.now();
  await clickMenu(page, 'Run', 'Run All Cells');
  await page.waitForFunction(runFinished, null, { timeout: RUN_TIMEOUT, polling: 250 });
  entry.runSeconds = (Date.now() - runStarted) / 1000;
  entry.outputs = await page.evaluate(outputFacts);
  phase('run');

  await scrollThrough(page, panel);
  Object.assign(entry, await page.evaluate(renderedFacts));
  phase('scrolled');
  await page.locator(`${panel} .jp-Cell`).first().evaluate((cell) => cell.scrollIntoView({ block: 'start' }));
  await settle(page);
  entry.screenshot = path.join(options.screenshots, `${stem}.png`);
  await page.screenshot({ path: entry.screenshot });

  // the first theorem (or else the first statement) of the chapter, as a box
  const theorem = page.locator(`${panel} aside.myst-proof[id^="thm-"]`).first();
  const box = (await theorem.count()) ? theorem : page.locator(`${panel} aside.myst-proof[id]`).first();
  if (await box.count()) {
    entry.boxScreenshot = await screenshotOf(page, box, (id) => path.join(options.screenshots, `${stem}-${id}.png`));
  }

  // the first proof and the first exercise of the chapter
  const proofs = page.locator(`${panel} aside.myst-proof`).filter({ has: page.locator('.myst-proof-title', { hasText: /^\s*Proof/ }) });
  for (const [name, boxes] of [['proof', proofs], ['exercise', page.locator(`${panel} aside.myst-exercise[id]`)]]) {
    const first = boxes.first();
    if (!(await first.count())) continue;
    entry[`${name}Screenshot`] = await screenshotOf(page, first,
      (id) => path.join(options.screenshots, `${stem}-${id || name}.png`));
  }

  phase('screenshots');
  entry.explorers = [];
  const explorers = page.locator(`${panel} .jp-OutputArea-output`).filter({ has: page.locator('img.widget-image') });
  for (let i = 0; i < await explorers.count(); i += 1) {
    entry.explorers.push(await exploreOnce(page, explorers.nth(i), stem, i + 1));
  }

  phase('explored');
  // stop this chapter's kernel and close it (without saving) before the next one opens
  await page.evaluate(async () => {
    const widget = window.jupyterapp.shell.currentWidget;
    await widget.sessionContext.shutdown();
    widget.dispose();
  });
  entry.seconds = (Date.now() - started) / 1000;
}

const { chromium, mathjaxDirectory } = loadDependencies(options.cache);
const origin = new URL(base).origin;
const browser = await launch(chromium, { origin, mathjaxDirectory, executablePath: CHROMIUM, viewport: { width: 1280, height: 900 } });
const report = { url: base, notebooks: [] };
try {
  const page = await browser.context.newPage();
  let current = report;
  report.pageErrors = [];
  page.on('pageerror', (error) => (current.pageErrors || report.pageErrors).push(String(error.stack || error).slice(0, 600)));
  const loading = Date.now();
  await page.goto(`${base}lab${workspace ? `/${workspace}` : ''}?reset&token=${options.token}`);
  await page.waitForFunction(() => window.jupyterapp && window.jupyterapp.shell, null, { timeout: 120000 });
  await page.evaluate(() => window.jupyterapp.restored);
  report.loadSeconds = (Date.now() - loading) / 1000;
  for (const notebook of notebooks) {
    current = { notebook, pageErrors: [] };
    report.notebooks.push(current);
    await inspect(page, notebook, current);
    console.log(`jupyterlab.mjs: ${notebook}: ran in ${current.runSeconds.toFixed(1)} s, ${current.seconds.toFixed(1)} s in all`);
  }
  current = report;
  // the news pop-up, if there were one, would have come within seconds of the start
  report.toasts = await page.evaluate(() => [...document.querySelectorAll('.Toastify__toast')].map((toast) => toast.textContent.trim()));
} finally {
  report.blocked = browser.blocked;
  fs.writeFileSync(options.out, JSON.stringify(report, null, 1));
  await browser.close();
}
