/* Beatbook places on the phone: the user's beat outlines and their postcodes, kept for no signal.

   GPS needs no signal, so "Use my location" can still say which beat a fix is in, and a typed postcode
   can still be found, from a copy of /geo/offline-pack kept in Cache Storage under
   'beatbook-data-' + the signed-in user's id (<meta name="beatbook-user">). The server still decides the
   beat when the entry arrives.

   window.BeatbookPlaces = {
     refresh(): Promise<boolean>   fetch the pack when online (If-None-Match: its version), keep it; true if kept
     beatAt(lat, lon): Promise<{id, code, name}|null>   null: outside every beat in the pack
     postcode(text): Promise<{postcode, lat, lon, beat}|null>   null: not in the pack (or not a postcode)
     normalisePostcode(text): string|null   as pcso/postcodes.py normalise_postcode
     refreshed: Promise<boolean>   the refresh this page started (at once on a form, else after load; tests wait on it)
   }
   beatAt and postcode reject with an Error named "NoPack" when this phone holds no pack.
   No build step, no inline script (the CSP forbids it). */
(function () {
  "use strict";

  var PACK_URL = "/geo/offline-pack";
  var userMeta = document.querySelector('meta[name="beatbook-user"]');
  var userId = userMeta ? userMeta.content : "";
  var memo = null;  // the pack read from the cache, once per page

  function cacheName() { return "beatbook-data-" + userId; }

  function noPack() {
    var error = new Error("No saved beat map on this phone");
    error.name = "NoPack";
    return error;
  }

  function stored() {
    if (memo) { return memo; }
    if (!userId || !window.caches) { return Promise.resolve(null); }
    memo = caches.open(cacheName())
      .then(function (cache) { return cache.match(PACK_URL); })
      .then(function (response) { return response ? response.json() : null; })
      .catch(function () { return null; });
    return memo;
  }

  function refresh() {
    if (!userId || !window.caches || !window.fetch) { return Promise.resolve(false); }
    if (navigator.onLine === false) { return stored().then(Boolean); }
    return stored().then(function (pack) {
      var headers = { "Accept": "application/json" };
      if (pack && pack.version) { headers["If-None-Match"] = '"' + pack.version + '"'; }
      return fetch(PACK_URL, { credentials: "same-origin", headers: headers, cache: "no-store" })
        .then(function (response) {
          if (response.status === 304) { return true; }
          if (!response.ok) { return Boolean(pack); }  // signed out, not a logger: keep what there is
          return response.clone().json().then(function (fresh) {
            return caches.open(cacheName()).then(function (cache) {
              return cache.put(PACK_URL, response);
            }).then(function () { memo = Promise.resolve(fresh); return true; });
          });
        })
        .catch(function () { return Boolean(pack); });  // no signal after all
    });
  }

  /* ---- point in polygon (GeoJSON: [lon, lat] rings, the first outer, the rest holes) ---- */
  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }

  function inPolygon(x, y, rings) {
    if (!rings.length || !inRing(x, y, rings[0])) { return false; }
    for (var k = 1; k < rings.length; k++) {
      if (inRing(x, y, rings[k])) { return false; }  // in a hole
    }
    return true;
  }

  function inGeometry(lon, lat, geometry) {
    if (!geometry) { return false; }
    if (geometry.type === "Polygon") { return inPolygon(lon, lat, geometry.coordinates); }
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.some(function (rings) { return inPolygon(lon, lat, rings); });
    }
    return false;
  }

  function beatIn(pack, lat, lon) {
    for (var i = 0; i < pack.beats.length; i++) {
      var beat = pack.beats[i];
      if (inGeometry(lon, lat, beat.outline)) { return { id: beat.id, code: beat.code, name: beat.name }; }
    }
    return null;
  }

  function beatAt(lat, lon) {
    return stored().then(function (pack) {
      if (!pack) { throw noPack(); }
      return beatIn(pack, Number(lat), Number(lon));
    });
  }

  /* ---- postcodes: the same shape check as pcso/postcodes.py (BS 7666) ---- */
  var POSTCODE = new RegExp("^(?:(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?" +
    "|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2}|GIR0AA)$");

  function normalisePostcode(text) {
    if (typeof text !== "string") { return null; }
    var compact = text.replace(/\s+/g, "").toUpperCase();
    if (compact.length > 7 || !POSTCODE.test(compact)) { return null; }
    return compact.slice(0, -3) + " " + compact.slice(-3);
  }

  function postcode(text) {
    var wanted = normalisePostcode(text);
    return stored().then(function (pack) {
      if (!pack) { throw noPack(); }
      if (!wanted) { return null; }
      var row = null;
      for (var i = 0; i < pack.postcodes.length; i++) {
        if (pack.postcodes[i][0] === wanted) { row = pack.postcodes[i]; break; }
      }
      if (!row) { return null; }
      var beat = null;
      pack.beats.forEach(function (b) { if (b.id === row[3]) { beat = { id: b.id, code: b.code, name: b.name }; } });
      return { postcode: row[0], lat: row[1], lon: row[2], beat: beat };
    });
  }

  window.BeatbookPlaces = { refresh: refresh, beatAt: beatAt, postcode: postcode, normalisePostcode: normalisePostcode,
                            refreshed: Promise.resolve(false) };

  // Keep the pack fresh on every signed-in page while there is signal (a 304 when nothing changed),
  // so it is on the phone before the signal goes. A page with "Use my location" fetches it at once; any
  // other page a few seconds after it has loaded, so the pack never slows the page the officer opened.
  var LATER_MS = 3000;
  if (userId) {
    window.BeatbookPlaces.refreshed = new Promise(function (resolve) {
      var start = function () { refresh().then(resolve, function () { resolve(false); }); };
      var ready = function () {
        if (document.querySelector("[data-location-status]")) { start(); return; }
        var go = function () { window.setTimeout(start, LATER_MS); };
        if (document.readyState === "complete") { go(); } else { window.addEventListener("load", go); }
      };
      if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); }
      else { ready(); }
    });
    window.addEventListener("online", function () { refresh(); });
  }
}());
