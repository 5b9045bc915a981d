// The digest preview: size the framed email to its content, so the page scrolls once.
// The frame is same-origin (sandbox allow-same-origin) but runs no script of its own.
(function () {
  "use strict";
  var frame = document.getElementById("digest-frame");
  if (!frame) { return; }
  function fit() {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = (doc.documentElement.scrollHeight + 4) + "px";
      }
    } catch (e) { /* not readable: keep the stylesheet's height */ }
  }
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);
  fit();
})();
