// The reader's side of the book's pages, with _static/book.css.
//
// Mark each formula that is wider than its box, so that book.css shades the edge it scrolls
// under (on a phone; at a desktop's width every formula fits its box).
(function () {
  function mark() {
    document.querySelectorAll('mjx-container[jax="CHTML"][display="true"], span.math').forEach(function (box) {
      var scrolls = getComputedStyle(box).overflowX === 'auto';  // book.css: inline formulas on a phone only
      var formula = box.querySelector('mjx-math');
      var wide = formula ? formula.getBoundingClientRect().width > box.clientWidth + 1 : false;
      box.classList.toggle('math-scrolls', scrolls && wide);
    });
  }
  function whenTypeset() {
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      window.MathJax.startup.promise.then(mark);
    } else {
      setTimeout(whenTypeset, 200);
    }
  }
  window.addEventListener('load', whenTypeset);
  window.addEventListener('resize', mark);
})();

// A folded solution opens when its title is clicked anywhere on it. sphinx-togglebutton listens on
// the title itself only: a click on a word of it set in its own element (a formula, the exercise's
// name) did nothing, or followed the link to the exercise and left the solution folded
// (reader_pages.py takes that link out of the title).
document.addEventListener('click', function (event) {
  var title = event.target.closest ? event.target.closest('.toggle > .admonition-title') : null;
  if (!title || event.target === title || event.target.closest('.toggle-button')) return;
  var button = title.querySelector('.toggle-button');
  if (!button) return;
  event.preventDefault();
  event.stopPropagation();
  button.click();
}, true);

// Search results: Sphinx cuts each result's snippet out of the page's text, where a formula is
// still TeX ("\(\lVert w \rVert_S\)"), next to the words of the page's buttons and contents
// list, with every line break of the source. Each formula of a page carries its plain-text reading
// in data-text (reader_pages.py): the snippet shows that, from the article only, in one line.
document.addEventListener('DOMContentLoaded', function () {
  if (typeof Search === 'undefined' || typeof Search.htmlToText !== 'function') return;
  var htmlToText = Search.htmlToText;
  var chrome = '.bd-header-article, .bd-sidebar-secondary, .onlyprint, .prev-next-area, .bd-footer-article, button';
  Search.htmlToText = function (htmlString, anchor) {
    var page = new DOMParser().parseFromString(htmlString, 'text/html');
    page.querySelectorAll(chrome).forEach(function (element) { element.remove(); });
    page.querySelectorAll('.math[data-text]').forEach(function (formula) {
      formula.textContent = ' ' + formula.dataset.text + ' ';
    });
    return htmlToText(page.documentElement.outerHTML, anchor).replace(/\s+/g, ' ');
  };
});
