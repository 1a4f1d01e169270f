// Keeps what a person typed when their session ended before they sent it.
//
// On sending any form (signing in and out excepted) its fields are kept in
// this tab's sessionStorage, passwords and the form token never. A page that
// loads afterwards throws them away, except the sign-in page the server
// answers a form with when the session had ended: it keeps them for the page
// the person returns to after signing in, which puts them back into the form
// they were sent from, says so, and forgets them. Nothing leaves the browser
// and nothing is sent again by itself: the person checks and sends.
(function () {
  "use strict";
  // the note's words in the page's language, from the script's own tag
  var script = document.currentScript;
  var RESTORED = (script && script.getAttribute("data-restored")) ||
    "Your session had ended, so this was not saved. What you typed is back in the form: check it, then send it again.";
  var DRAFT = "celltrail.draft";
  var RESTORE = "celltrail.restore";
  var store;
  try {
    store = window.sessionStorage;
    store.getItem(DRAFT);
  } catch (e) {
    return; // storage refused: nothing kept, nothing lost beyond today
  }

  function actionOf(form) {
    return new URL(form.action, location.href).pathname;
  }

  function keep(form) {
    var action = actionOf(form);
    if (action === "/sign-in" || action === "/sign-out") return;
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrf") return;
      if (el.type === "password" || el.type === "submit" || el.type === "button" || el.type === "file") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      fields.push([el.name, el.value]);
    });
    store.setItem(DRAFT, JSON.stringify({ action: action, fields: fields }));
  }

  function putBack(draft) {
    var form = Array.prototype.find.call(document.forms, function (f) {
      return (f.method || "").toLowerCase() === "post" && actionOf(f) === draft.action;
    });
    if (!form) return;
    var given = {};
    draft.fields.forEach(function (pair) {
      (given[pair[0]] = given[pair[0]] || []).push(pair[1]);
    });
    var used = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      var values = given[el.name];
      if (!values || el.name === "csrf" || el.type === "password" || el.type === "hidden") return;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) >= 0;
      } else {
        var i = used[el.name] || 0;
        if (i < values.length) el.value = values[i];
        used[el.name] = i + 1;
      }
    });
    var note = document.createElement("div");
    note.className = "msg warn";
    note.setAttribute("role", "status");
    note.id = "restored";
    note.textContent = RESTORED;
    form.parentNode.insertBefore(note, form);
    var first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  var ended = document.querySelector("[data-session-ended]");
  var signIn = document.querySelector('form[action="/sign-in"]');
  if (ended) {
    if (store.getItem(DRAFT)) store.setItem(RESTORE, "1");
  } else if (!signIn) {
    var draft = null;
    if (store.getItem(RESTORE)) {
      try {
        draft = JSON.parse(store.getItem(DRAFT) || "null");
      } catch (e) {
        draft = null;
      }
    }
    store.removeItem(RESTORE);
    store.removeItem(DRAFT);
    if (draft && draft.action && draft.fields) putBack(draft);
  }

  document.addEventListener("submit", function (event) {
    if (event.target instanceof HTMLFormElement) keep(event.target);
  });
})();
