// Forms of the request pages; no inline script (CSP). Without this file every form still
// works: the error summary is read at the top, fields for other bases show with a note, and
// steps are taken without the confirmation dialog.
(function () {
  "use strict";

  // An error summary takes the focus, and each of its links the focus of its field.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var details = target.closest("details");
      if (details) { details.open = true; }
      var control = target.matches("input, select, textarea") ? target :
        target.querySelector("input, select, textarea");
      target.scrollIntoView({ block: "center" });
      (control || target).focus();
    });
  });

  // Fields only some legal bases ask for (a treaty) show only under those bases.
  var basis = document.getElementById("legal_basis");
  function showBases() {
    document.querySelectorAll("[data-bases]").forEach(function (box) {
      var bases = box.getAttribute("data-bases").split(" ");
      box.hidden = bases.indexOf(basis.value) < 0;
    });
  }
  if (basis && basis.tagName === "SELECT") {
    basis.addEventListener("change", showBases);
    showBases();
  }

  // A step that cannot be taken back asks first: its <dialog> says where the request goes
  // and who is told. Cancel leaves everything as it was.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    var dialog = document.getElementById(form.getAttribute("data-confirm"));
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    var confirmed = false;
    form.addEventListener("submit", function (event) {
      if (confirmed) { return; }
      event.preventDefault();
      dialog.showModal();
    });
    dialog.querySelector("[data-confirm-yes]").addEventListener("click", function () {
      confirmed = true;
      dialog.close();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
    dialog.querySelector("[data-confirm-no]").addEventListener("click", function () {
      dialog.close();
    });
  });
})();
