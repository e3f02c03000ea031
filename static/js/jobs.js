/* Beatbook: a background job's page follows its progress, and shows the download once it is ready. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status-url]");
  if (!box || ["done", "failed"].indexOf(box.dataset.jobState) !== -1) { return; }
  var bar = box.querySelector("progress");
  var label = box.querySelector(".job__label");
  var figures = box.querySelector(".job__figures");
  var wait = 800;

  function show(status) {
    if (status.finished) { window.location.reload(); return; }
    label.textContent = status.label + (status.message ? ": " + status.message : "");
    if (status.percent === null) { bar.removeAttribute("value"); } else { bar.value = status.percent; }
    figures.textContent = status.total ? status.done.toLocaleString("en-GB") + " of " + status.total.toLocaleString("en-GB") : "";
  }

  function poll() {
    fetch(box.dataset.jobStatusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (status) { show(status); if (!status.finished) { window.setTimeout(poll, wait); } })
      .catch(function () { wait = Math.min(wait * 2, 10000); window.setTimeout(poll, wait); });
  }
  window.setTimeout(poll, wait);
})();
