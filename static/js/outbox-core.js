/* Beatbook outbox: the life of one queued entry, as pure functions (no browser APIs), so that node's test
   runner checks them (tests/js/outbox-core.test.js) and the page (static/js/offline.js) obeys them.

   States, as the "Waiting to send" list shows them:
     queued     on this phone: waiting for signal (or for its next try)
     sending    being sent now
     sent       on the server (serverUrl links to it); its content is gone from the phone
     attention  needs you: the server's reason; fix and send again (a sealed entry is held on the server,
                as your draft, and is fixed there)
   An item is sent one at a time with its own Idempotency-Key (its client key), so a replay after a lost
   answer gets the first answer back and never makes a second entry. */
(function (root) {
  "use strict";

  var FIRST_RETRY_MS = 15 * 1000;
  var MAX_RETRY_MS = 15 * 60 * 1000;
  var STALE_SENDING_MS = 2 * 60 * 1000;  // a page that died mid-send leaves "sending": try again after this
  var KEEP_SENT_MS = 24 * 60 * 60 * 1000;  // a sent item's line (no content) stays a day, then goes

  var LABELS = { queued: "On this phone", sending: "Sending", sent: "Sent", attention: "Needs attention" };

  function copy(item, changes) {
    var next = {};
    Object.keys(item).forEach(function (k) { next[k] = item[k]; });
    Object.keys(changes).forEach(function (k) { next[k] = changes[k]; });
    return next;
  }

  /* Wait before try number `attempts + 1`: 15 s, 30 s, 1 min ... capped at 15 min; `jitter` in [0, 1). */
  function backoff(attempts, jitter) {
    var wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * Math.pow(2, Math.max(0, attempts - 1)));
    return Math.round(wait * (1 + 0.2 * (jitter || 0)));
  }

  function create(fields, now) {
    return copy(fields, { state: "queued", attempts: 0, createdAt: now, updatedAt: now, nextTryAt: now,
                          reason: null, errors: null, serverId: null, serverUrl: null, heldUrl: null });
  }

  function isDue(item, now) {
    return item.state === "queued" && !item.waitingForSignIn && (item.nextTryAt || 0) <= now;
  }

  function problemText(body, fallback) {
    return (body && (body.detail || body.title)) || fallback;
  }

  /* The item after `event` at time `now`. Events:
       {type: "send"}                         a try starts
       {type: "answer", status, body}         the server answered the try
       {type: "network"}                      no answer (no signal, timeout)
       {type: "signed-in"}                    the officer signed in again
       {type: "resave", fields...}            fixed on the phone: queue again
       {type: "recover"}                      a page found it "sending" long after
     Unknown events and events that don't apply to the state leave the item as it was. */
  function next(item, event, now, jitter) {
    switch (event.type) {
      case "send":
        if (item.state !== "queued") { return item; }
        return copy(item, { state: "sending", attempts: item.attempts + 1, lastTryAt: now, updatedAt: now });
      case "answer":
        if (item.state !== "sending") { return item; }
        return answered(item, event.status, event.body || {}, now, jitter);
      case "network":
        if (item.state !== "sending") { return item; }
        return copy(item, { state: "queued", reason: "No signal: it will be sent when there is.",
                            nextTryAt: now + backoff(item.attempts, jitter), updatedAt: now });
      case "signed-in":
        return item.waitingForSignIn ? copy(item, { waitingForSignIn: false, nextTryAt: now, reason: null }) : item;
      case "resave":
        if (item.state !== "attention" && item.state !== "queued") { return item; }
        var fixed = copy(item, { state: "queued", attempts: 0, nextTryAt: now, reason: null, errors: null,
                                 waitingForSignIn: false, updatedAt: now });
        Object.keys(event).forEach(function (k) { if (k !== "type") { fixed[k] = event[k]; } });
        return fixed;
      case "recover":
        if (item.state !== "sending" || now - (item.lastTryAt || 0) < STALE_SENDING_MS) { return item; }
        return copy(item, { state: "queued", nextTryAt: now, updatedAt: now });
      default:
        return item;
    }
  }

  function answered(item, status, body, now, jitter) {
    if (status === 200 || status === 201) {
      return copy(item, { state: "sent", serverId: body.id, serverUrl: "/entries/" + body.id,
                          serverBeat: body.beat_name || body.beat_code || null, serverBeatId: body.beat_id || null,
                          sentAt: now, updatedAt: now, reason: null, errors: null, payload: null, iv: null,
                          envelope: null });
    }
    if (status === 202 && body.status === "held") {
      return copy(item, { state: "attention", held: true, heldUrl: body.url, errors: body.errors || null,
                          reason: "The server could not accept it, so it is kept there as your draft: fix it there.",
                          updatedAt: now, payload: null, iv: null, envelope: null });
    }
    if (status === 401) {
      return copy(item, { state: "queued", waitingForSignIn: true, updatedAt: now,
                          reason: "Your session has ended: sign in and it will be sent." });
    }
    if (status === 409 || status === 429 || status === 403 || status >= 500) {
      // 409: the first try is still running; 403: a stale CSRF token (a fresh one is built next try);
      // 429 and 5xx: the server is busy or broken. None is about the entry: try again later.
      return copy(item, { state: "queued", updatedAt: now, reason: problemText(body, "The server could not take it yet."),
                          nextTryAt: now + (status === 409 ? 2000 : backoff(item.attempts, jitter)) });
    }
    // 400, 404, 413, 422: about the entry itself. Sending it again as it is would fail again.
    return copy(item, { state: "attention", updatedAt: now, errors: body.errors || null,
                        reason: problemText(body, "The server could not accept it (" + status + ").") });
  }

  /* Whether an item waiting on the phone is older than the warning limit (hours). */
  function isOverdue(item, now, warnHours) {
    return item.state !== "sent" && now - item.createdAt > warnHours * 60 * 60 * 1000;
  }

  function isExpiredSent(item, now) {
    return item.state === "sent" && now - (item.sentAt || 0) > KEEP_SENT_MS;
  }

  /* The items to try now, oldest first: one at a time, in the order they were saved. */
  function dueItems(items, now) {
    return items.filter(function (item) { return isDue(item, now); })
      .sort(function (a, b) { return a.createdAt - b.createdAt; });
  }

  /* When the next try falls due (ms from now), or null when nothing waits for time alone. */
  function nextWake(items, now) {
    var times = items.filter(function (i) { return i.state === "queued" && !i.waitingForSignIn; })
      .map(function (i) { return Math.max(0, (i.nextTryAt || 0) - now); });
    return times.length ? Math.min.apply(null, times) : null;
  }

  /* What is only on this phone: not sent, and not held on the server either. */
  function unsent(items) {
    return items.filter(function (item) { return item.state !== "sent" && !item.held; });
  }

  var api = { LABELS: LABELS, backoff: backoff, create: create, next: next, isDue: isDue, dueItems: dueItems,
              nextWake: nextWake, isOverdue: isOverdue, isExpiredSent: isExpiredSent, unsent: unsent,
              STALE_SENDING_MS: STALE_SENDING_MS };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  else { root.BeatbookOutboxCore = api; }
})(this);
