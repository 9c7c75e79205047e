// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Upload forms: sent by htmx (XMLHttpRequest) so the person sees the upload's progress; the answer replaces
  // the page as a normal submission would.
  function enhanceUploadForm(form) {
    form.setAttribute("hx-post", form.getAttribute("action"));
    form.setAttribute("hx-encoding", "multipart/form-data");
    form.setAttribute("hx-target", "#main");
    form.setAttribute("hx-select", "#main");
    form.setAttribute("hx-swap", "outerHTML show:window:top");
    // The address bar shows the page the answer is (after the server's redirect), as without JavaScript.
    form.setAttribute("hx-push-url", "true");
    var status = form.querySelector(".upload-status");
    var bar = form.querySelector(".upload-progress");
    var percent = form.querySelector(".upload-percent");
    form.addEventListener("htmx:xhr:progress", function (event) {
      if (!bar || !event.detail.lengthComputable) { return; }
      if (status) { status.hidden = false; }
      bar.hidden = false;
      var value = Math.round((event.detail.loaded / event.detail.total) * 100);
      bar.value = value;
      if (percent) { percent.textContent = value + "%"; }
    });
    if (window.htmx) { window.htmx.process(form); }
  }

  // A submit button marked data-once cannot send its form twice (the server is idempotent too).
  function guardOnce(button) {
    var form = button.form;
    if (!form) { return; }
    form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }
  }

  function enhance(root) {
    root.querySelectorAll("form[data-upload-form]").forEach(enhanceUploadForm);
    root.querySelectorAll("button[data-once]").forEach(guardOnce);
    focusErrorSummary();
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "main") { enhance(document); }
  });
})();
