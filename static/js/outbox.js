/* Beatbook outbox on the page: queue an entry saved with no signal, send the queue when there is signal,
   show it on the "Waiting to send" list and in the header, and guard sign-out. The states and their rules
   are in outbox-core.js; storage and encryption in vault.js. */
(function () {
  "use strict";

  var core = window.BeatbookOutboxCore, vault = window.BeatbookVault;
  var user = (document.querySelector('meta[name="beatbook-user"]') || {}).content || "";
  var warnHours = Number(document.body.dataset.outboxWarnHours || 72);
  var SEALED_KINDS = { welfare_check: true, intelligence_report: true };
  var wakeTimer = null;
  var listeners = [];

  function london(ms) {
    return new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", day: "numeric", month: "short",
                                              hour: "2-digit", minute: "2-digit" }).format(new Date(ms));
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = window.setTimeout(function () { reject(new Error("timeout")); }, ms);
      promise.then(function (v) { window.clearTimeout(timer); resolve(v); },
                   function (e) { window.clearTimeout(timer); reject(e); });
    });
  }

  /* A CSRF token made now for this session (the page's own may be hours old); status 401 when signed out. */
  function freshToken() {
    return withTimeout(fetch("/api/v1/csrf-token", { credentials: "same-origin", cache: "no-store",
                                                     headers: { Accept: "application/json" } }), 8000)
      .then(function (response) {
        if (!response.ok) { return { status: response.status, token: null }; }
        return response.json().then(function (data) { return { status: 200, token: data.token }; });
      });
  }

  /* ---- queueing -------------------------------------------------------------------------- */
  function sealKey() { return vault.getMeta("seal-key"); }

  /* Save a filled-in form on the phone. `entry`: {id (client key), kind, slug, noun, formUrl, action,
     fields ([name, value] pairs), summary, phoneBeat}. Resolves with the stored item. */
  function queue(entry) {
    var now = Date.now();
    var finalSensitive = SEALED_KINDS[entry.kind] && entry.action === "submit";
    return Promise.all([vault.getItem(entry.id), finalSensitive ? sealKey() : null]).then(function (found) {
      var existing = found[0], key = found[1];
      var content = { fields: entry.fields, summary: entry.summary };
      var sealing = finalSensitive && key
        ? vault.seal(key, { kind: entry.slug, submit: true, fields: entry.fields }).then(function (envelope) {
            return { envelope: envelope, payload: null, iv: null, sealed: true };
          })
        : vault.encrypt(user, content).then(function (box) {
            return { payload: box.data, iv: box.iv, envelope: null, sealed: false };
          });
      return sealing.then(function (stored) {
        var fields = { user: user, kind: entry.kind, slug: entry.slug, noun: entry.noun, formUrl: entry.formUrl,
                       action: entry.action, phoneBeat: entry.phoneBeat || null, payload: stored.payload,
                       iv: stored.iv, envelope: stored.envelope, sealed: stored.sealed, photos: entry.photos || [] };
        var item;
        if (existing && existing.state !== "sent" && existing.state !== "sending") {
          fields.type = "resave";
          item = core.next(existing, fields, now);
        } else {
          fields.id = entry.id;
          item = core.create(fields, now);
        }
        return vault.putItem(item).then(function () { rememberKey(entry.id); return item; });
      });
    }).then(function (item) {
      requestBackgroundSync();
      changed();
      return item;
    });
  }

  function rememberKey(id) {
    return vault.getMeta("used-keys").then(function (keys) {
      keys = (keys || []).filter(function (k) { return k !== id; });
      keys.push(id);
      return vault.setMeta("used-keys", keys.slice(-200));
    });
  }

  function wasUsed(id) {
    return Promise.all([vault.getMeta("used-keys"), vault.getItem(id)]).then(function (r) {
      return (r[0] || []).indexOf(id) !== -1 || Boolean(r[1]);
    });
  }

  function requestBackgroundSync() {  // an extra where the browser has it; sending never depends on it
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) { return reg.sync.register("beatbook-outbox"); }
    }).catch(function () {});
  }

  /* ---- sending ------------------------------------------------------------------------------ */
  var sending = null;

  function send() {
    if (!user) { return Promise.resolve(); }
    if (sending) { return sending; }
    var run = function () { return sendDue().catch(function () {}); };
    sending = (navigator.locks ? navigator.locks.request("beatbook-outbox", run) : run())
      .then(function () { sending = null; changed(); schedule(); }, function () { sending = null; });
    return sending;
  }

  function sendDue() {
    var now = Date.now();
    return vault.items(user).then(function (all) {
      var recovering = all.map(function (item) {
        var back = core.next(item, { type: "recover" }, now);
        if (back.waitingForSignIn) { back = core.next(back, { type: "signed-in" }, now); }
        return back === item ? item : vault.putItem(back).then(function () { return back; });
      });
      return Promise.all(recovering);
    }).then(function (all) {
      if (!navigator.onLine) { return; }
      var due = core.dueItems(all, Date.now());
      var photosLeft = all.filter(function (i) { return i.state === "sent" && i.photos && i.photos.length; });
      return due.reduce(function (chain, item) {
        return chain.then(function (stop) { return stop ? stop : sendOne(item); });
      }, Promise.resolve(false)).then(function (stop) {
        if (stop || !window.BeatbookOutboxPhotos) { return stop; }
        return photosLeft.reduce(function (chain, item) {
          return chain.then(function () {
            return window.BeatbookOutboxPhotos.send(item).then(vault.putItem);
          });
        }, Promise.resolve());
      });
    });
  }

  function body(item) {
    if (item.envelope) { return Promise.resolve(item.envelope); }
    return vault.decrypt(user, { iv: item.iv, data: item.payload }).then(function (content) {
      return { fields: content.fields };
    });
  }

  /* One item: resolves true when the rest must wait (signed out). */
  function sendOne(queued) {
    var item = core.next(queued, { type: "send" }, Date.now());
    return vault.putItem(item).then(changed).then(function () {
      return Promise.all([freshToken(), body(item)]);
    }).then(function (ready) {
      var token = ready[0];
      if (token.status === 401) { return { status: 401, body: {} }; }
      if (!token.token) { return { status: token.status, body: {} }; }
      var url = item.envelope ? "/api/v1/sealed"
        : "/api/v1/forms/" + item.slug + (item.action === "submit" ? "?submit=true" : "");
      return withTimeout(fetch(url, {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token.token,
                   "Idempotency-Key": '"' + item.id + '"' },
        body: JSON.stringify(ready[1])
      }), 30000).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { status: response.status, body: data };
        });
      });
    }).then(function (answer) {
      return afterAnswer(core.next(item, { type: "answer", status: answer.status, body: answer.body }, Date.now()));
    }, function () {
      return vault.putItem(core.next(item, { type: "network" }, Date.now(), Math.random())).then(function () {
        return true;  // no signal: the others would fail the same way
      });
    });
  }

  function afterAnswer(item) {
    var photos = item.state === "sent" && item.photos && item.photos.length && window.BeatbookOutboxPhotos
      ? window.BeatbookOutboxPhotos.send(item) : null;
    return Promise.resolve(photos).then(function (withPhotos) {
      var stored = withPhotos || item;
      return vault.putItem(stored).then(function () { return Boolean(stored.waitingForSignIn); });
    });
  }

  function schedule() {
    window.clearTimeout(wakeTimer);
    vault.items(user).then(function (all) {
      var wait = core.nextWake(all, Date.now());
      if (wait !== null) { wakeTimer = window.setTimeout(send, Math.max(wait, 1000)); }
    });
  }

  /* ---- what the officer sees ------------------------------------------------------------------ */
  function onChange(fn) { listeners.push(fn); }

  function changed() {
    return vault.items(user).then(function (all) {
      var now = Date.now(), waiting = core.unsent(all);
      all.filter(function (i) { return core.isExpiredSent(i, now); }).forEach(function (i) { vault.dropItem(i.id); });
      document.querySelectorAll("[data-outbox-link]").forEach(function (link) {
        link.hidden = waiting.length === 0;
        link.classList.toggle("outbox-link--attention", waiting.some(function (i) {
          return i.state === "attention" || core.isOverdue(i, now, warnHours);
        }));
        link.querySelector("[data-outbox-count]").textContent = String(waiting.length);
      });
      listeners.forEach(function (fn) { fn(all); });
    });
  }

  function summaryOf(item) {
    if (item.state === "sent" || !item.payload) { return Promise.resolve(item.summary || null); }
    return vault.decrypt(user, { iv: item.iv, data: item.payload }).then(function (c) { return c.summary; })
      .catch(function () { return null; });
  }

  window.BeatbookOutbox = {
    user: user, queue: queue, send: send, changed: changed, onChange: onChange, wasUsed: wasUsed,
    rememberKey: rememberKey, freshToken: freshToken, withTimeout: withTimeout, london: london,
    summaryOf: summaryOf, warnHours: warnHours, SEALED_KINDS: SEALED_KINDS
  };

  /* ---- when to send: page load, signal back, app back in view, a timer, "Send now" ---------------- */
  if (!user) { return; }
  window.addEventListener("online", send);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { send(); } });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (e) { if (e.data && e.data.type === "flush") { send(); } });
  }
  window.setInterval(function () { if (navigator.onLine) { send(); } }, 60000);
  document.addEventListener("DOMContentLoaded", function () { changed().then(send); });
})();
