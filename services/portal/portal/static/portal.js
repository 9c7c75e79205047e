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

  // A draft's component: a file chosen is sent at once, with its own progress bar, and checked by intake as it
  // arrives; the answer (the component with its files, or the reason a file was refused) replaces the fieldset.
  // Without this script the files go with the whole form when it is saved.
  function enhanceComponent(fieldset) {
    var input = fieldset.querySelector("input[type=file][data-upload-url]");
    if (!input || input.getAttribute("data-enhanced")) { return; }
    input.setAttribute("data-enhanced", "true");
    input.addEventListener("change", function () { sendFiles(fieldset, input); });
  }

  function showComponentError(fieldset, message) {
    var box = fieldset.querySelector(".component-status");
    var line = document.createElement("p");
    var prefix = document.createElement("span");
    line.className = "field-error";
    prefix.className = "visually-hidden";
    prefix.textContent = fieldset.getAttribute("data-error-prefix") + " ";
    line.appendChild(prefix);
    line.appendChild(document.createTextNode(message));
    box.textContent = "";
    box.appendChild(line);
    fieldset.classList.add("field-invalid");
  }

  function setBusy(form, change) {
    var busy = (parseInt(form.getAttribute("data-busy") || "0", 10) || 0) + change;
    form.setAttribute("data-busy", String(busy));
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = busy > 0; });
  }

  function sendFiles(fieldset, input) {
    var files = Array.prototype.slice.call(input.files || []);
    var form = input.form;
    if (!files.length || !form) { return; }
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
    var room = parseInt(input.getAttribute("data-max-files"), 10);
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > maxBytes) {
        input.value = "";
        showComponentError(fieldset, fieldset.getAttribute("data-too-big").replace("{name}", files[i].name));
        return;
      }
    }
    if (files.length > room) {
      input.value = "";
      showComponentError(fieldset, fieldset.getAttribute("data-too-many").replace("{count}", String(Math.max(room, 0))));
      return;
    }
    var data = new FormData();
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    data.append("return_to", window.location.pathname);
    files.forEach(function (file) { data.append(input.name, file, file.name); });
    var status = fieldset.querySelector(".upload-status");
    var bar = fieldset.querySelector(".upload-progress");
    var percent = fieldset.querySelector(".upload-percent");
    status.hidden = false;
    bar.value = 0;
    percent.textContent = "0%";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", input.getAttribute("data-upload-url"));
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      var value = Math.round((event.loaded / event.total) * 100);
      bar.value = value;
      percent.textContent = value + "%";
    });
    function failed() {
      setBusy(form, -1);
      status.hidden = true;
      showComponentError(fieldset, fieldset.getAttribute("data-failed").replace("{name}", files[0].name));
    }
    xhr.addEventListener("error", failed);
    xhr.addEventListener("load", function () {
      if (xhr.getResponseHeader("HX-Redirect")) {
        // The session ended: the whole form goes, so that what was typed is kept while the person signs in.
        input.value = "";
        form.submit();
        return;
      }
      var fresh = null;
      if (xhr.status === 200 || xhr.status === 422) {
        fresh = new DOMParser().parseFromString(xhr.responseText, "text/html").getElementById(fieldset.id);
      }
      if (!fresh) { failed(); return; }
      setBusy(form, -1);
      fieldset.replaceWith(fresh);
      enhanceComponent(fresh);
    });
    setBusy(form, 1);
    xhr.send(data);
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
    root.querySelectorAll("form[data-draft-form] fieldset.component").forEach(enhanceComponent);
    root.querySelectorAll("button[data-once]").forEach(guardOnce);
    focusErrorSummary();
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "main") { enhance(document); }
  });
})();
