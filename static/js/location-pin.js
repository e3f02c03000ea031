/* A pin for a place (the location and organisation pages): tap the map to set the hidden lat/lon fields,
   "Remove the pin" to clear them. Without JavaScript the postcode gives the point. No inline script (CSP). */
(function () {
  "use strict";

  function init(widget) {
    var form = widget.closest("form");
    var el = widget.querySelector("[data-pin-map]");
    var lat = form.querySelector('[data-pin="lat"]');
    var lon = form.querySelector('[data-pin="lon"]');
    var status = widget.querySelector("[data-pin-status]");
    var clear = widget.querySelector("[data-pin-clear]");
    if (!window.L || !el || !lat || !lon) { return; }
    el.innerHTML = "";
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(el.dataset.tiles) });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    map.setView([53.42, -2.33], 11);
    var pin = null;

    function say(text) { status.hidden = false; status.textContent = text; }

    function show(la, lo) {
      if (pin) { pin.setLatLng([la, lo]); }
      else {
        pin = L.circleMarker([la, lo], { radius: 10, weight: 3, color: "#0b2545", fillColor: "#ffdd00", fillOpacity: 1 })
          .addTo(map);
      }
      map.setView([la, lo], Math.max(map.getZoom(), 16));
      clear.hidden = false;
    }

    fetch(el.dataset.outlinesUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (outlines) {
        if (!outlines) { return; }
        var layer = L.geoJSON(outlines, {
          style: function () { return { color: "#6f777b", weight: 1, fillColor: "#ffffff", fillOpacity: 0.35 }; },
          onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { sticky: true }); }
        }).addTo(map);
        layer.bringToBack();
        if (!pin && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      })
      .catch(function () { /* no signal: the map works without the outlines */ });

    if (lat.value && lon.value) { show(Number(lat.value), Number(lon.value)); }
    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      show(e.latlng.lat, e.latlng.lng);
      say("Pinned at " + lat.value + ", " + lon.value + ". The beat is worked out from the pin when you save.");
    });
    clear.addEventListener("click", function () {
      lat.value = ""; lon.value = "";
      if (pin) { map.removeLayer(pin); pin = null; }
      clear.hidden = true;
      say("No pin: the postcode gives the point.");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-pin-widget]").forEach(init);
  });
})();
