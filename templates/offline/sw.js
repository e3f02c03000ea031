/* Beatbook's service worker: the app working with no signal. Served by pcso/offline/views.py, which fills
   in the version and the file lists below; nothing else here is generated, and there is no build step.

   - The app shell (CSS, scripts, the pick-map) is kept at install, under a cache named for this version.
   - Pages are always asked of the network first. With no answer, the forms, the form chooser and the
     outbox page come from the copies the pages themselves keep for the signed-in officer (offline.js,
     cache "beatbook-pages-<user>"); any other page falls back to the outbox page ("you are offline; your
     queue"). Nothing else is cached: no entry, profile, list or API answer is ever kept here.
   - A new version installs its shell beside the old one and takes over at once; a page kept by an older
     version still gets its scripts and styles (by their names, from whichever version has them), so an
     update never leaves the phone without working offline forms.
   - Background Sync, where the browser has it, only wakes the open pages to send their queue. */
"use strict";

var VERSION = {{ version | tojson }};
var SHELL = {{ shell | tojson }};
var PAGES = {{ pages | tojson }};
var SHELL_CACHE = "beatbook-shell-" + VERSION;
var NETWORK_WAIT_MS = 6000;

importScripts({{ url_for('static', filename='vendor/idb/umd.js') | tojson }});

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Old shells go only once this one is complete; the fallback by name below covers pages kept before.
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("beatbook-shell-") === 0 && n !== SHELL_CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

/* "css/app.3f2a9c1e.css" -> "css/app.css": the same file in another version. */
function logicalName(pathname) {
  return pathname.replace(/\.[0-9a-f]{8,}(\.[a-z0-9]+)$/i, "$1");
}

function fromShell(request) {
  var url = new URL(request.url);
  return caches.has(SHELL_CACHE).then(function (kept) {  // never re-create a cache that sign-out removed
    return kept ? caches.open(SHELL_CACHE) : null;
  }).then(function (cache) {
    if (!cache) { return undefined; }
    return cache.match(request, { ignoreSearch: true }).then(function (hit) {
      if (hit) { return hit; }
      var wanted = logicalName(url.pathname);
      return cache.keys().then(function (keys) {
        var same = keys.filter(function (k) { return logicalName(new URL(k.url).pathname) === wanted; })[0];
        return same ? cache.match(same) : undefined;
      });
    });
  });
}

function currentUser() {
  return idb.openDB("beatbook").then(function (db) {
    var names = db.objectStoreNames;
    if (!names.contains("meta")) { db.close(); return null; }
    return db.get("meta", "current-user").then(function (row) { db.close(); return row ? row.value : null; });
  }).catch(function () { return null; });
}

function keptPage(pathname) {
  return currentUser().then(function (user) {
    if (!user) { return undefined; }
    return caches.open("beatbook-pages-" + user).then(function (cache) {
      var wanted = PAGES.indexOf(pathname) !== -1 ? pathname : {{ url_for('offline.outbox') | tojson }};
      return cache.match(wanted).then(function (hit) {
        return hit || cache.match({{ url_for('offline.outbox') | tojson }});
      });
    });
  });
}

var OFFLINE_HTML = '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · Beatbook</title></head>' +
  '<body><main><h1>You are offline</h1><p>This page needs signal. Sign in to Beatbook once with signal and ' +
  'its forms will work here without it.</p></main></body></html>';

function page(event) {
  var url = new URL(event.request.url);
  var network = fetch(event.request);
  var late = new Promise(function (resolve) { setTimeout(resolve, NETWORK_WAIT_MS); });
  var fallback = function () {
    return keptPage(url.pathname).then(function (hit) {
      return hit || new Response(OFFLINE_HTML, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  };
  // The network's answer whenever it comes in time; no answer (or a slow one, on a kept page) -> the copy.
  return Promise.race([network, late.then(function () { return "late"; })]).then(function (answer) {
    if (answer !== "late") { return answer; }
    return keptPage(url.pathname).then(function (hit) { return hit || network; });
  }).catch(fallback);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") { event.respondWith(page(event)); return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fromShell(request).then(function (hit) {
      return hit || fetch(request);
    }).catch(function () { return fetch(request); }));
  }
  // Everything else (the API, JSON the pages ask for) goes to the network, uncached.
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "beatbook-outbox") { return; }
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage({ type: "flush" }); });
  }));
});
