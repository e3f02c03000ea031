/* Beatbook entry forms on the phone: nothing typed is lost.
   - What is typed is kept on the phone (encrypted) as it is typed, and put back after a reload, a crash
     or a session that ended: signing in again brings the officer back to the form, filled in; nothing is
     sent until they tap.
   - Submit with signal: the form posts as always (with a CSRF token made now). Submit with no signal:
     the form is checked here by the same rules as on the server, then saved in the outbox and sent by
     itself when there is signal. A session that ended: the form stays, and says how to sign in. */
(function () {
  "use strict";

  var vault = window.BeatbookVault, outbox = window.BeatbookOutbox, rules = window.BeatbookRules;
  var user = outbox.user;
  var POSTED = "beatbook-posted";

  function pairs(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrf_token") { out.push([name, value]); }
    });
    return out;
  }

  function formUrl() { return window.location.pathname; }

  function notice(form, text, kind, link) {
    var box = document.querySelector("[data-draft-notice]");
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("data-draft-notice", "");
      box.setAttribute("role", "status");
      form.parentNode.insertBefore(box, form);
    }
    box.className = "notice" + (kind ? " notice--" + kind : "");
    box.textContent = text + " ";
    if (link) {
      var a = document.createElement(link.href ? "a" : "button");
      if (link.href) { a.href = link.href; } else { a.type = "button"; a.className = "link-button"; }
      a.textContent = link.text;
      if (link.onClick) { a.addEventListener("click", link.onClick); }
      box.appendChild(a);
    }
    box.scrollIntoView({ block: "start" });
    return box;
  }

  function londonNow() {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit",
                                       hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  /* ---- rows added with no signal (online, "Add another" posts back to the server) ------------------ */
  var ROWS = { "add-person": "people", "add-vehicle": "vehicles", "add-place": "places", "add-organisation": "organisations" };

  function addRow(form, list) {
    var rows = form.querySelectorAll("fieldset.subform");
    var last = null, prefix = list + "-";
    rows.forEach(function (r) { if (r.querySelector('[name^="' + prefix + '"]')) { last = r; } });
    if (!last) { return null; }
    var index = 0;
    form.querySelectorAll('[name^="' + prefix + '"]').forEach(function (f) {
      var n = Number(f.name.slice(prefix.length).split("-")[0]);
      if (n + 1 > index) { index = n + 1; }
    });
    var copy = last.cloneNode(true);
    copy.querySelectorAll("[name], [id], [for], [aria-describedby], [aria-controls], [data-suggest-id]").forEach(function (f) {
      ["name", "id", "for", "aria-describedby", "aria-controls", "data-suggest-id"].forEach(function (attr) {
        var v = f.getAttribute(attr);
        if (v) { f.setAttribute(attr, v.replace(new RegExp(prefix + "\\d+-", "g"), prefix + index + "-")); }
      });
      if (f.matches("input, textarea")) { f.value = ""; }
      if (f.matches("select")) { f.selectedIndex = 0; }
    });
    copy.querySelectorAll(".error-message, .suggestions").forEach(function (e) { e.remove(); });
    var legend = copy.querySelector("legend");
    if (legend) { legend.textContent = legend.textContent.replace(/\d+$/, String(index + 1)); }
    last.parentNode.insertBefore(copy, last.nextSibling);
    return copy;
  }

  /* ---- put a draft back -------------------------------------------------------------------------------- */
  function fill(form, fields) {
    form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (f) { f.checked = false; });
    form.querySelectorAll("select[multiple] option").forEach(function (o) { o.selected = false; });
    fields.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      var found = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      var list = /^(people|vehicles|places|organisations)-\d+-/.exec(name);
      var guard = 0;
      while (!found.length && list && guard < 20 && addRow(form, list[1])) {
        found = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
        guard += 1;
      }
      found.forEach(function (f) {
        if (f.type === "checkbox" || f.type === "radio") { if (f.value === value) { f.checked = true; } }
        else if (f.multiple) { [].forEach.call(f.options, function (o) { if (o.value === value) { o.selected = true; } }); }
        else if (f.type !== "file") { f.value = value; }
      });
    });
  }

  function restore(form) {
    var shownErrors = Boolean(document.querySelector("[data-testid=error-summary]"));
    return vault.loadDraft(user, formUrl()).then(function (draft) {
      if (!draft || shownErrors) { return false; }  // the server's answer with errors is newer than the draft
      fill(form, draft.value.fields);
      if (draft.value.fixing) {
        form.dataset.fixing = draft.value.fixing;
        if (draft.value.errors && rules) { rules.show(form, draft.value.errors); }
        notice(form, "The server could not accept this entry from your phone. Fix what is marked, then submit again.", "warn");
      } else {
        notice(form, "What you typed was kept on this phone (" + outbox.london(draft.savedAt) + "). Check it, then " +
          "submit when ready.", null, { text: "Start again with an empty form", onClick: function () {
            vault.dropDraft(user, formUrl()).then(function () { window.location.reload(); });
          } });
      }
      return true;
    });
  }

  /* A new form shown from the phone's copy keeps the copy's client key and time: make them this entry's. */
  function freshen(form) {
    if (form.dataset.new !== "1") { return Promise.resolve(); }
    var key = form.querySelector('[name="client_key"]');
    var when = form.querySelector('[name="occurred_at"]');
    if (when && !document.querySelector("[data-testid=error-summary]")) { when.value = londonNow(); }
    if (!key || !key.value) { return Promise.resolve(); }
    return outbox.wasUsed(key.value).then(function (used) {
      if (used) { key.value = crypto.randomUUID(); }
    });
  }

  function autosave(form) {
    var timer = null;
    var save = function () {
      window.clearTimeout(timer);
      return vault.saveDraft(user, formUrl(), { fields: pairs(form), fixing: form.dataset.fixing || null });
    };
    var later = function () { window.clearTimeout(timer); timer = window.setTimeout(save, 400); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    window.addEventListener("pagehide", save);
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") { save(); } });
    return save;
  }

  /* ---- submit ---------------------------------------------------------------------------------------- */
  function sessionEnded(form) {
    var next = encodeURIComponent(formUrl());
    notice(form, "Your session has ended. What you typed is kept on this phone: sign in again and you will come " +
      "back to this form with all of it.", "warn", { href: "/login?next=" + next, text: "Sign in again" });
  }

  function postNormally(form, action, token) {
    var csrf = form.querySelector('[name="csrf_token"]');
    if (csrf && token) { csrf.value = token; }
    var hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = "action"; hidden.value = action;
    form.appendChild(hidden);
    try { sessionStorage.setItem(POSTED, formUrl()); } catch (e) { /* private mode */ }
    HTMLFormElement.prototype.submit.call(form);
  }

  function queueHere(form, action) {
    var errors = rules ? rules.check(form) : {};
    if (Object.keys(errors).length) { rules.show(form, errors); return Promise.resolve(); }
    var fields = pairs(form);
    var summary = ["summary", "purpose"].map(function (n) { return (form.querySelector('[name="' + n + '"]') || {}).value; })
      .filter(Boolean)[0] || "";
    var phoneBeat = form.dataset.phoneBeatId ? { id: form.dataset.phoneBeatId, name: form.dataset.phoneBeatName } : null;
    var photos = window.BeatbookOutboxPhotos ? window.BeatbookOutboxPhotos.collect(form) : Promise.resolve([]);
    return photos.then(function (prepared) {
      return outbox.queue({ id: form.querySelector('[name="client_key"]').value, kind: form.dataset.kind,
                            slug: form.dataset.slug, noun: form.dataset.noun, formUrl: formUrl(), action: action,
                            fields: fields, summary: summary, phoneBeat: phoneBeat, photos: prepared });
    }).then(function () { return vault.dropDraft(user, formUrl()); })
      .then(function () { window.location.assign("/outbox"); });
  }

  function onSubmit(form, e) {
    var action = (e.submitter && e.submitter.name === "action") ? e.submitter.value : "submit";
    if (/^add-/.test(action)) {
      if (!navigator.onLine) { e.preventDefault(); addRow(form, ROWS[action] || "vehicles"); }
      return;
    }
    e.preventDefault();
    if (form.dataset.beatbookBusy) { return; }  // one submission per tap
    form.dataset.beatbookBusy = "1";
    var isNew = form.dataset.new === "1";
    var offline = function () { return isNew ? queueHere(form, action) : noSignal(form); };
    var save = form.beatbookSave ? form.beatbookSave() : Promise.resolve();
    save.then(function () {
      // An entry sent back by the server is fixed and sent again through the outbox, under its own key.
      if (!navigator.onLine || form.dataset.fixing) { return offline(); }
      return outbox.freshToken().then(function (answer) {
        if (answer.status === 401) { sessionEnded(form); return; }
        if (answer.token || answer.status === 404) { postNormally(form, action, answer.token); return "posted"; }
        return offline();
      }, offline);
    }).then(function (result) {
      if (result !== "posted") { delete form.dataset.beatbookBusy; }
    }, function () { delete form.dataset.beatbookBusy; });
  }

  function noSignal(form) {
    notice(form, "No signal: your changes are kept on this phone. Save again when you have signal.", "warn");
  }

  /* After a post: an entry's page means it was saved, so its draft can go; anything else keeps it. */
  function afterPost() {
    var posted = null;
    try { posted = sessionStorage.getItem(POSTED); sessionStorage.removeItem(POSTED); } catch (e) { return; }
    if (posted && /^\/entries\/\d+$/.test(window.location.pathname)) { vault.dropDraft(user, posted); }
  }

  function init(form) {
    freshen(form).then(function () { return restore(form); }).then(function () {
      form.beatbookSave = autosave(form);
      if (document.querySelector("[data-testid=error-summary]")) { form.beatbookSave(); }
    });
    form.addEventListener("submit", function (e) { onSubmit(form, e); });
  }

  window.BeatbookDrafts = { addRow: addRow, pairs: pairs, fill: fill };

  if (!user) { return; }
  document.addEventListener("DOMContentLoaded", function () {
    afterPost();
    document.querySelectorAll("form[data-entry-form]").forEach(init);
  });
})();
