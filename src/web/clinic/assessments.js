// The PASI and DLQI totals as the clinician scores. The server computes
// them again on submit; that is the score recorded. Integers only: the
// PASI is added up in tenths (region weights 1, 2, 3, 4 tenths), never in
// floating point.
(function () {
  "use strict";
  function pasi() {
    var form = document.getElementById("pasi-form");
    var out = document.getElementById("pasi-total");
    if (!form || !out) return;
    var tenths = 0;
    form.querySelectorAll("tr[data-weight]").forEach(function (row) {
      var weight = parseInt(row.getAttribute("data-weight"), 10) || 0;
      var v = {};
      row.querySelectorAll("select").forEach(function (s) {
        var part = s.name.split(".")[1];
        v[part] = parseInt(s.value, 10) || 0;
      });
      tenths += weight * ((v.erythema || 0) + (v.induration || 0) + (v.desquamation || 0)) * (v.area || 0);
    });
    out.textContent = Math.floor(tenths / 10) + "." + (tenths % 10);
  }
  function dlqi() {
    var form = document.getElementById("dlqi-form");
    var out = document.getElementById("dlqi-total");
    if (!form || !out) return;
    var total = 0;
    form.querySelectorAll("input[type=radio]:checked").forEach(function (r) {
      // "not relevant" scores 0
      total += parseInt(r.value, 10) || 0;
    });
    out.textContent = String(total);
  }
  document.addEventListener("change", function () { pasi(); dlqi(); });
  document.addEventListener("input", function () { pasi(); dlqi(); });
  pasi();
  dlqi();
})();
