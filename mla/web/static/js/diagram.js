// The whole workflow graph, drawn only when its disclosure is opened: the vendored Mermaid
// (3.5 MB of script) is loaded then, never with the page. No inline script (CSP).
(function () {
  "use strict";
  var box = document.getElementById("workflow-graph");
  if (!box) { return; }
  var started = false;
  function draw() {
    /* global mermaid */
    // Natural size with scrolling: scaled to the column the labels would be unreadable.
    mermaid.initialize({
      startOnLoad: false, securityLevel: "strict", theme: "neutral", state: { useMaxWidth: false }
    });
    mermaid.run({ nodes: box.querySelectorAll("pre.mermaid") });
  }
  box.addEventListener("toggle", function () {
    if (!box.open || started) { return; }
    started = true;
    var script = document.createElement("script");
    script.src = box.getAttribute("data-script");
    script.addEventListener("load", draw);
    document.head.appendChild(script);
  });
})();
