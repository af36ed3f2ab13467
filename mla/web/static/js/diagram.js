// Draws the workflow diagram (pre.mermaid) with the vendored Mermaid; no inline script (CSP).
/* global mermaid */
(function () {
  "use strict";
  if (typeof mermaid === "undefined") { return; }
  // Natural size with scrolling: scaled to the column the labels would be unreadable.
  mermaid.initialize({
    startOnLoad: false, securityLevel: "strict", theme: "neutral", state: { useMaxWidth: false }
  });
  mermaid.run({ querySelector: "pre.mermaid" });
})();
