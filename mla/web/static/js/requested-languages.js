// The new-request form: under the requested authority, the languages it accepts requests in
// (from the directory, rendered into each option's data-languages). Without this script the
// page shows them for the authority chosen when it reloads.
(function () {
  "use strict";
  var select = document.getElementById("requested_authority");
  var hint = document.getElementById("requested_authority-help");
  if (!select || !hint) { return; }
  function show() {
    var option = select.options[select.selectedIndex];
    var languages = option ? option.getAttribute("data-languages") : null;
    hint.textContent = languages
      ? hint.getAttribute("data-prefix") + " " + languages
      : hint.getAttribute("data-none");
  }
  select.addEventListener("change", show);
})();
