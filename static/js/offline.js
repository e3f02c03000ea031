/* Beatbook offline: the service worker, the pages kept for use with no signal, the "Waiting to send" list,
   and signing out (which asks first when entries are unsent, then leaves nothing of Beatbook's behind). */
(function () {
  "use strict";

  var vault = window.BeatbookVault, outbox = window.BeatbookOutbox, core = window.BeatbookOutboxCore;
  var user = outbox.user;
  var PAGES_EVERY_MS = 30 * 60 * 1000;
  var BACKGROUND_DELAY_MS = 3000;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  /* fn, a few seconds after the page's load (background work: keeping pages, keys and maps for offline). */
  function later(fn) {
    var go = function () { window.setTimeout(fn, BACKGROUND_DELAY_MS); };
    if (document.readyState === "complete") { go(); } else { window.addEventListener("load", go); }
  }

  /* ---- service worker and the pages it answers with offline ---------------------------------- */
  function register() {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(null); }
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
  }

  /* The forms, the form chooser and the outbox page, as this officer sees them, for the service worker
     to answer with when there is no signal. Fetched again every half hour, or when the app changes. */
  function keepPages() {
    var pages = JSON.parse(document.body.dataset.offlinePages || "[]");
    var version = document.body.dataset.appVersion || "";
    if (!pages.length || !navigator.onLine || !window.caches) { return Promise.resolve(); }
    return vault.getMeta("pages-kept").then(function (kept) {
      if (kept && kept.version === version && Date.now() - kept.at < PAGES_EVERY_MS) { return; }
      return caches.open("beatbook-pages-" + user).then(function (cache) {
        return Promise.all(pages.map(function (url) {
          return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
            // A redirect (to sign in) or an error is not a page to fall back on.
            if (response.ok && !response.redirected) { return cache.put(url, response); }
            throw new Error(url + ": " + response.status);
          });
        }));
      }).then(function () { return vault.setMeta("pages-kept", { version: version, at: Date.now() }); });
    }).catch(function () {});
  }

  function keepSealKey() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return fetch("/api/v1/seal-key", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (key) { if (key && key.jwk) { return vault.setMeta("seal-key", key); } })
      .catch(function () {});
  }

  /* ---- the "Waiting to send" list --------------------------------------------------------------- */
  function renderList(all) {
    var list = document.querySelector("[data-outbox-list]");
    if (!list) { return; }
    var now = Date.now();
    var shown = all.slice().sort(function (a, b) { return b.createdAt - a.createdAt; });
    document.querySelector("[data-outbox-empty]").hidden = shown.length > 0;
    var overdue = shown.filter(function (i) { return core.isOverdue(i, now, outbox.warnHours); }).length;
    var warning = document.querySelector("[data-outbox-overdue]");
    warning.hidden = overdue === 0;
    warning.textContent = overdue + (overdue === 1 ? " entry has" : " entries have") + " waited on this phone for more " +
      "than " + outbox.warnHours + " hours. Find signal and tap Send now, or tell your supervisor.";
    Promise.all(shown.map(outbox.summaryOf)).then(function (summaries) {
      list.innerHTML = "";
      shown.forEach(function (item, i) { list.appendChild(row(item, summaries[i], now)); });
    });
  }

  function row(item, summary, now) {
    var li = el("li", { "class": "outbox-item outbox-item--" + item.state, "data-outbox-item": item.id,
                        "data-state": item.state });
    var head = el("p", { "class": "outbox-item__head" });
    head.appendChild(el("strong", {}, item.noun.charAt(0).toUpperCase() + item.noun.slice(1)));
    head.appendChild(el("span", { "class": "outbox-state outbox-state--" + item.state, "data-testid": "outbox-state" },
                        core.LABELS[item.state]));
    li.appendChild(head);
    li.appendChild(el("p", { "class": "outbox-item__summary" }, summary ||
      (item.sealed ? "Sealed on this phone: only the server can read it now." : "")));
    li.appendChild(el("p", { "class": "hint" }, "Saved " + outbox.london(item.createdAt) +
      (item.action === "submit" ? ", to submit for review" : ", as a draft")));
    if (item.photos && item.photos.length && item.state !== "sent") {
      li.appendChild(el("p", { "class": "hint" }, item.photos.length + (item.photos.length === 1 ? " photo" : " photos") +
                                                   " with it"));
    }
    if (item.photoNote) { li.appendChild(el("p", { "class": "outbox-item__reason" }, item.photoNote)); }
    if (item.reason && item.state !== "sent") { li.appendChild(el("p", { "class": "outbox-item__reason" }, item.reason)); }
    if (item.errors) {
      var errors = el("ul", { "class": "outbox-item__errors" });
      Object.keys(item.errors).forEach(function (field) {
        [].concat(item.errors[field]).forEach(function (m) { errors.appendChild(el("li", {}, m)); });
      });
      li.appendChild(errors);
    }
    if (core.isOverdue(item, now, outbox.warnHours)) {
      li.appendChild(el("p", { "class": "outbox-item__reason" }, "Waiting more than " + outbox.warnHours + " hours."));
    }
    var actions = el("p", { "class": "button-row" });
    if (item.state === "sent") {
      actions.appendChild(el("a", { "class": "button button--secondary", href: item.serverUrl }, "Open it"));
      var differs = item.phoneBeat && item.serverBeatId && String(item.phoneBeat.id) !== String(item.serverBeatId);
      if (differs) {
        li.appendChild(el("p", { "class": "outbox-item__reason", "data-testid": "beat-differs" },
          "The phone put it in " + item.phoneBeat.name + "; the server placed it in " + (item.serverBeat || "another beat") + "."));
      }
    } else if (item.state === "attention" && item.held) {
      actions.appendChild(el("a", { "class": "button", href: item.heldUrl }, "Fix it on the server"));
      // It is on the server (held): taking the line off this phone loses nothing, so it needs no record.
      actions.appendChild(el("button", { "class": "button button--secondary", type: "button", "data-forget": item.id },
                             "Fixed: take it off this list"));
    } else if (item.state === "attention") {
      var fix = el("button", { "class": "button", type: "button", "data-fix": item.id }, "Fix and send again");
      actions.appendChild(fix);
    }
    if (item.state !== "sent" && item.state !== "sending" && !item.held) {
      actions.appendChild(el("button", { "class": "button button--secondary", type: "button", "data-discard": item.id },
                             "Discard…"));
    }
    li.appendChild(actions);
    return li;
  }

  function fix(id) {
    vault.getItem(id).then(function (item) {
      return vault.decrypt(user, { iv: item.iv, data: item.payload }).then(function (content) {
        return vault.saveDraft(user, item.formUrl, { fields: content.fields, fixing: item.id, errors: item.errors });
      }).then(function () { window.location.assign(item.formUrl); });
    });
  }

  /* Discarding is explicit and recorded on the server: how many and of which kinds, never what they said. */
  function recordDiscard(items) {
    var kinds = {};
    items.forEach(function (i) { kinds[i.slug] = (kinds[i.slug] || 0) + 1; });
    return outbox.freshToken().then(function (token) {
      if (!token.token) { throw new Error("not signed in"); }
      return fetch("/api/v1/outbox/discarded", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token.token },
        body: JSON.stringify({ count: items.length, kinds: kinds })
      });
    }).then(function (response) { if (!response.ok) { throw new Error("discard " + response.status); } });
  }

  function discard(id) {
    vault.getItem(id).then(function (item) {
      if (!window.confirm("Discard this " + item.noun + "? It has not reached the server and cannot be got back.")) { return; }
      return recordDiscard([item]).then(function () { return vault.dropItem(id); }).then(outbox.changed)
        .catch(function () { window.alert("The discard could not be recorded: there is no signal. Try again with signal."); });
    });
  }

  function initList() {
    var list = document.querySelector("[data-outbox-list]");
    if (!list) { return; }
    outbox.onChange(renderList);
    list.addEventListener("click", function (e) {
      var target = e.target.closest("button");
      if (!target) { return; }
      if (target.dataset.fix) { fix(target.dataset.fix); }
      if (target.dataset.discard) { discard(target.dataset.discard); }
      if (target.dataset.forget) { vault.dropItem(target.dataset.forget).then(outbox.changed); }
    });
    var sendNow = document.querySelector("[data-send-now]");
    sendNow.addEventListener("click", function () {
      vault.items(user).then(function (all) {
        return Promise.all(all.filter(function (i) { return i.state === "queued"; }).map(function (i) {
          return vault.putItem(Object.assign({}, i, { nextTryAt: 0, waitingForSignIn: false }));
        }));
      }).then(outbox.send);
    });
    var offline = document.querySelector("[data-offline-note]");
    var showSignal = function () { offline.hidden = navigator.onLine; };
    window.addEventListener("online", showSignal);
    window.addEventListener("offline", showSignal);
    showSignal();
  }

  /* ---- signing out ---------------------------------------------------------------------------------- */
  function initLogout() {
    var form = document.querySelector("form[data-logout]");
    var dialog = document.querySelector("[data-logout-dialog]");
    if (!form || !dialog) { return; }
    var leave = function () { vault.wipe().then(function () { form.submit(); }, function () { form.submit(); }); };
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      vault.allUnsent().then(function (unsent) {
        if (!unsent.length) { leave(); return; }
        var kinds = {};
        unsent.forEach(function (i) { kinds[i.noun] = (kinds[i.noun] || 0) + 1; });
        dialog.querySelector("[data-logout-count]").textContent = unsent.length === 1
          ? "1 entry has not been sent yet" : unsent.length + " entries have not been sent yet";
        dialog.querySelector("[data-logout-kinds]").textContent = Object.keys(kinds).map(function (k) {
          return kinds[k] + " × " + k;
        }).join(", ");
        dialog.querySelector("[data-logout-discard]").disabled = !navigator.onLine;
        dialog.querySelector("[data-logout-offline]").hidden = navigator.onLine;
        dialog.dataset.count = String(unsent.length);
        dialog.showModal();
      });
    });
    dialog.addEventListener("click", function (e) {
      var button = e.target.closest("button");
      if (!button) { return; }
      if (button.hasAttribute("data-logout-cancel")) { dialog.close(); }
      if (button.hasAttribute("data-logout-send")) { dialog.close(); window.location.assign("/outbox"); }
      if (button.hasAttribute("data-logout-discard")) {
        button.disabled = true;
        vault.allUnsent().then(recordDiscard)
          .then(leave, function () {
            button.disabled = false;
            dialog.querySelector("[data-logout-offline]").hidden = false;
          });
      }
    });
  }

  if (!user) {
    // Signed out: if this phone still holds another session's keys, they stay unreadable to whoever signs in.
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var told = window.caches ? caches.open("beatbook-meta").then(function (cache) {  // for the service worker
      return cache.put("/offline/current-user", new Response(user));
    }).catch(function () {}) : Promise.resolve();
    Promise.all([vault.setMeta("current-user", user), told]).then(function () {
      initList();
      initLogout();
      // After the page has loaded and settled: the phone's own copies never slow the page the officer opened.
      later(function () { register().then(function () { return Promise.all([keepPages(), keepSealKey()]); }); });
      if (navigator.storage && navigator.storage.persist) { navigator.storage.persist().catch(function () {}); }
      vault.othersUnsent(user).then(function (n) {
        var note = document.querySelector("[data-others-unsent]");
        if (note && n) {
          note.hidden = false;
          note.textContent = "Another officer's " + (n === 1 ? "entry is" : n + " entries are") +
            " waiting on this phone. Only they can send " + (n === 1 ? "it" : "them") + ", by signing in here.";
        }
      });
    });
  });
})();
