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
var NETWORK_WAIT_MS = 4000;  // a page kept here is shown if the network has not answered by then

var USER_KEY = "/offline/current-user";  // a key in the "beatbook-meta" cache, never a real URL

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Old shells go only once this one holds every file; until then a kept page can still use them.
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.keys(); }).then(function (mine) {
    if (mine.length < SHELL.length) { return; }
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("beatbook-shell-") === 0 && n !== SHELL_CACHE; })
        .map(function (n) { return caches.delete(n); }));
    });
  }).then(function () { return self.clients.claim(); }));
});

/* "css/app.3f2a9c1e.css" -> "css/app.css": the same file in another version. */
function logicalName(pathname) {
  return pathname.replace(/\.[0-9a-f]{8,}(\.[a-z0-9]+)$/i, "$1");
}

/* A static file from this version's shell, else the same file (by name) from any shell still kept. */
function fromShell(request) {
  var wanted = logicalName(new URL(request.url).pathname);
  return caches.keys().then(function (names) {
    var shells = names.filter(function (n) { return n.indexOf("beatbook-shell-") === 0; })
      .sort(function (a, b) { return (b === SHELL_CACHE) - (a === SHELL_CACHE); });  // this version's first
    return shells.reduce(function (found, name) {
      return found.then(function (hit) {
        if (hit) { return hit; }
        return caches.open(name).then(function (cache) {
          return cache.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (exact) {
            if (exact) { return exact; }
            return cache.keys().then(function (keys) {
              var same = keys.filter(function (k) { return logicalName(new URL(k.url).pathname) === wanted; })[0];
              return same ? cache.match(same, { ignoreVary: true }) : undefined;
            });
          });
        });
      });
    }, Promise.resolve(undefined));
  });
}

/* Whose pages to answer with: the signed-in officer, as the pages last said (offline.js). Kept in a cache of
   its own rather than IndexedDB, so that answering a page never waits on the pages' own database work. */
function currentUser() {
  return caches.has("beatbook-meta").then(function (kept) {
    if (!kept) { return null; }
    return caches.open("beatbook-meta").then(function (cache) { return cache.match(USER_KEY); })
      .then(function (hit) { return hit ? hit.text() : null; });
  }).catch(function () { return null; });
}

function pagesCache() {
  return currentUser().then(function (user) {
    if (user) { return "beatbook-pages-" + user; }
    // The officer could not be read: with one officer's pages on the phone (the usual case), use them.
    return caches.keys().then(function (names) {
      var pages = names.filter(function (n) { return n.indexOf("beatbook-pages-") === 0; });
      return pages.length === 1 ? pages[0] : null;
    });
  });
}

function lookUp(pathname) {
  return pagesCache().then(function (name) {
    if (!name) { return undefined; }
    return caches.open(name).then(function (cache) {
      var outbox = {{ url_for('offline.outbox') | tojson }};
      var wanted = PAGES.indexOf(pathname) !== -1 ? pathname : outbox;
      // ignoreVary: the page was kept by a fetch, and is asked for by a navigation (other Sec-Fetch-* headers).
      return cache.match(wanted, { ignoreVary: true }).then(function (hit) {
        return hit || cache.match(outbox, { ignoreVary: true });
      });
    });
  });
}

/* The kept copy of a page (or of the outbox page); one more try after a moment if the caches stumble. */
function keptPage(pathname) {
  var again = function () {
    return new Promise(function (resolve) { setTimeout(resolve, 300); }).then(function () { return lookUp(pathname); });
  };
  return lookUp(pathname).then(function (hit) { return hit || again(); }, again);
}

var OFFLINE_HTML = '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · Beatbook</title></head>' +
  '<body><main><h1>You are offline</h1><p>This page needs signal. Sign in to Beatbook once with signal and ' +
  'its forms will work here without it.</p></main></body></html>';

function offlinePage() {
  return new Response(OFFLINE_HTML, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function page(event) {
  var url = new URL(event.request.url);
  if (self.navigator.onLine === false) {  // known to be offline: the kept copy at once, not after a wait
    return keptPage(url.pathname).then(function (hit) { return hit || offlinePage(); }, offlinePage);
  }
  var network = fetch(event.request);
  var late = new Promise(function (resolve) { setTimeout(resolve, NETWORK_WAIT_MS); });
  var fallback = function () {
    return keptPage(url.pathname).then(function (hit) { return hit || offlinePage(); }, offlinePage);
  };
  // The network's answer whenever it comes in time; no answer (or a slow one, on a kept page) -> the copy.
  return Promise.race([network, late.then(function () { return "late"; })]).then(function (answer) {
    if (answer !== "late") { return answer; }
    // Still no answer: the kept copy now, else keep waiting for the network (the officer sees it loading).
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

/* "Which version are you?" (a page or a test asks through a MessageChannel). */
self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "version" && event.ports[0]) { event.ports[0].postMessage(VERSION); }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "beatbook-outbox") { return; }
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage({ type: "flush" }); });
  }));
});
