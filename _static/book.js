// Mark each displayed formula that is wider than its box, so that book.css shades the edge it
// scrolls under (on a phone; at a desktop's width every formula fits its box).
(function () {
  function mark() {
    document.querySelectorAll('mjx-container[jax="CHTML"][display="true"]').forEach(function (box) {
      box.classList.toggle('math-scrolls', box.scrollWidth > box.clientWidth + 1);
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
