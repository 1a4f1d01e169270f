// The import pages (`web::imports`): the chosen CSV file is read into the
// form's text area (so the form posts it as text, with its CSRF token),
// and a running import's progress bar follows GET /api/v1/imports/{id}
// (the session cookie reads it) until it is finished.
(function () {
  "use strict";
  var file = document.querySelector("[data-import-file]");
  if (file) {
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      if (!chosen) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        document.getElementById(file.getAttribute("data-import-file")).value = reader.result;
        document.getElementById(file.getAttribute("data-import-name")).value = chosen.name;
      };
      reader.readAsText(chosen, "utf-8");
    });
  }
  var bar = document.getElementById("import-progress");
  if (!bar || bar.getAttribute("data-running") !== "true") { return; }
  var id = bar.getAttribute("data-import");
  var rows = document.querySelector("[data-import-rows]");
  function follow() {
    fetch("/api/v1/imports/" + id, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (view) {
        if (!view) { return; }
        bar.max = Math.max(view.rows_total, 1);
        bar.value = view.rows_done;
        if (rows) { rows.textContent = view.rows_done + " / " + view.rows_total; }
        if (view.status === "finished") { window.location.reload(); return; }
        window.setTimeout(follow, 1000);
      })
      .catch(function () { window.setTimeout(follow, 3000); });
  }
  window.setTimeout(follow, 500);
})();
