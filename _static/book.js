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
