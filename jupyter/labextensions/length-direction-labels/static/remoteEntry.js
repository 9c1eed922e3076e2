// The book's numbers and labels in JupyterLab, on top of jupyterlab-myst.
//
// jupyterlab-myst renders the MyST of one notebook at a time, with its own numbering:
//   * a reference it cannot resolve (to another chapter, to a figure that the book names in a
//     cell's metadata, a citation: it does not read the bibliography) comes out as a warning
//     mark and the bare label, "(!) lem-scale-invariance";
//   * it numbers within the notebook ("Lemma 4", equation "(7)", "Exercise 1", "Proof 8") where
//     the book numbers within the chapter ("Lemma 3.4", "(3.5)", "Exercise 3.1", "Proof"), and it
//     numbers the displayed equations that have no label, which the book does not number.
// This plugin rewrites those texts to what the book prints, from labels.json, which
// jupyter/book_labels.py computes from the book's sources whenever JupyterLab starts with
// jupyter/jupyter_lab_config.py (tests/test_jupyterlab.py checks the texts against the built book).
// Only texts change, in place: React keeps its nodes, and a MutationObserver rewrites a text
// again if a cell is rendered anew. The label stays in the tooltip of a reference.
//
// It is written by hand, without a build step: a federated module container (the `init`/`get`
// pair that JupyterLab's loader calls for each entry of `federated_extensions`) whose
// './extension' module is one plugin that uses no other package.
(function () {
  'use strict';
  const NAME = 'length-direction-labels';
  const UNRESOLVED = 'span[title="Cross Reference Not Found"], span[title="Citation Not Found"]';
  // jupyterlab-myst's numbers: "Lemma 4" (with a no-break space in references) or "(7)"
  const MYST_NUMBER = /^([A-Z][a-z]+)[\s\u00a0]+\d+$|^\(\d+\)$/;

  function configOption(name) {
    const element = document.getElementById('jupyter-config-data');
    return element ? JSON.parse(element.textContent || '{}')[name] || '' : '';
  }

  function textNodes(element) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
    return nodes;
  }

  // Put `text` in the first non-blank text node and empty the others.
  function setText(element, text) {
    const nodes = textNodes(element).filter((node) => node.nodeValue.trim());
    if (!nodes.length) return;
    nodes[0].nodeValue = text;
    for (const node of nodes.slice(1)) node.nodeValue = '';
  }

  // "Lemma 4" may become "Lemma 3.4", "(7)" may become "(3.5)"; nothing else is renumbered.
  function sameKind(mystText, bookText) {
    if (mystText.startsWith('(')) return bookText.startsWith('(');
    return bookText.split(/\s/)[0] === mystText.split(/[\s\u00a0]/)[0];
  }

  function relabelUnresolved(span, labels, app) {
    const node = textNodes(span).pop();
    const label = node && node.nodeValue.trim();
    const entry = label && labels[label];
    if (!entry) return; // not a label of the book: jupyterlab-myst's warning stays
    node.nodeValue = entry.text;
    span.title = `${entry.tooltip} (label ${label})`;
    span.classList.add('ld-book-label');
    span.dataset.bookLabel = label;
    if (entry.path && !span.dataset.bookLabelOpens) {
      span.dataset.bookLabelOpens = entry.path;
      span.setAttribute('role', 'link');
      span.addEventListener('click', () => app.commands.execute('docmanager:open', { path: entry.path }));
    }
  }

  function renumber(anchor, labels) {
    const text = anchor.textContent.trim();
    if (!MYST_NUMBER.test(text)) return; // already the book's text, or a title
    const label = decodeURIComponent(anchor.getAttribute('href').slice(1));
    const entry = labels[label];
    if (entry && sameKind(text, entry.text)) {
      setText(anchor, entry.text);
      anchor.dataset.bookLabel = label;
    } else if (!entry && anchor.title === 'Link to this Equation' && text.startsWith('(')) {
      setText(anchor, ''); // a displayed equation without a label: the book gives it no number
    }
  }

  function scan(labels, app) {
    for (const span of document.querySelectorAll(UNRESOLVED)) relabelUnresolved(span, labels, app);
    for (const anchor of document.querySelectorAll('.myst a[href^="#"]')) renumber(anchor, labels);
    // the book does not number proofs
    for (const title of document.querySelectorAll('.myst-proof-title > span')) {
      if (/^Proof\s+\d+$/.test(title.textContent.trim())) setText(title, 'Proof');
    }
  }

  function watch(labels, app) {
    let scheduled = false;
    const run = () => {
      scheduled = false;
      scan(labels, app);
    };
    const schedule = () => {
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(run);
      }
    };
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true, characterData: true });
    schedule();
  }

  function addStyle() {
    const style = document.createElement('style');
    style.textContent = `
      /* a reference to another chapter reads as a link of the book, without the warning mark */
      .ld-book-label { color: var(--jp-content-link-color, inherit); }
      .ld-book-label[data-book-label-opens] { cursor: pointer; }
      .ld-book-label > svg { display: none; }
      /* the end of a solution (solution-end) is an empty box in jupyterlab-myst: say what it is */
      .myst-exercise-title:empty::before { content: 'End of the solution'; font-style: italic; }
      .myst-exercise-title:empty { margin-top: 0; }
      .myst-exercise-header:has(> .myst-exercise-title:empty) + .myst-exercise-body:empty { display: none; }`;
    document.head.appendChild(style);
  }

  const plugin = {
    id: `${NAME}:plugin`,
    description: "Shows the book's numbers, references to other chapters and citations as the book prints them.",
    autoStart: true,
    activate: (app) => {
      addStyle();
      const url = `${configOption('fullLabextensionsUrl')}/${NAME}/static/labels.json`;
      fetch(url, { credentials: 'same-origin' })
        .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`${url}: ${response.status}`))))
        .then((labels) => watch(labels, app))
        .catch((error) => console.warn(`${NAME}: no labels.json, the notebooks keep jupyterlab-myst's numbers`, error));
    },
  };

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: () => Promise.resolve(),
    get: (module) => (module === './extension'
      ? Promise.resolve(() => ({ __esModule: true, default: [plugin] }))
      : Promise.reject(new Error(`${NAME} has no module ${module}`))),
  };
})();
