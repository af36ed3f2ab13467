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
    mermaid.run({ nodes: box.querySelectorAll("pre.mermaid") }).then(function () {
      box.querySelectorAll("pre.mermaid").forEach(centre);
    });
  }
  // A large workflow is wider and taller than its frame: show the current state first,
  // not the frame's empty top left corner.
  function centre(frame) {
    var node = frame.querySelector("g.current");
    if (!node) { return; }
    var n = node.getBoundingClientRect();
    var f = frame.getBoundingClientRect();
    frame.scrollLeft += n.left - f.left - (frame.clientWidth - n.width) / 2;
    frame.scrollTop += n.top - f.top - (frame.clientHeight - n.height) / 2;
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
