/* The data.police.uk street-level crime layer on a beat's map (templates/beats/detail.html).

   Loaded after Leaflet and before app.js: a Leaflet init hook sees the beat map app.js creates
   (the map whose data-highlight is the beat in [data-street-crime-url]), fetches the beat's
   points (one per anonymised snap point, with a count) and draws them as their own layer,
   shown or hidden by the checkbox under the map. No inline script: the CSP forbids it. */
(function () {
  "use strict";

  if (!window.L) { return; }
  var key = document.querySelector("[data-street-crime-url]");
  if (!key) { return; }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function popupFor(p) {
    var box = document.createElement("div");
    box.className = "street-crime-popup";
    var title = document.createElement("strong");
    title.textContent = p.location || "Approximate location";
    box.appendChild(title);
    var meta = document.createElement("p");
    meta.textContent = plural(p.count, "crime") + " (" + p.months.join(", ") + "), data.police.uk";
    box.appendChild(meta);
    var list = document.createElement("ul");
    p.crime_types.forEach(function (pair) {
      var item = document.createElement("li");
      item.textContent = pair[0] + ": " + pair[1];
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function markerFor(feature) {
    var p = feature.properties;
    var size = Math.min(18 + 3 * Math.ceil(Math.sqrt(p.count)), 34);
    var label = document.createElement("span");
    label.textContent = String(p.count);
    var icon = L.divIcon({ className: "street-crime-marker", html: label, iconSize: [size, size] });
    var c = feature.geometry.coordinates;
    return L.marker([c[1], c[0]], {
      icon: icon, title: (p.location || "Approximate location") + ": " + plural(p.count, "crime"),
      alt: plural(p.count, "crime"), riseOnHover: true
    }).bindPopup(popupFor(p));
  }

  L.Map.addInitHook(function () {
    var map = this;
    var el = map.getContainer();
    if (!el.hasAttribute("data-map") || el.dataset.highlight !== key.dataset.beatId) { return; }
    var toggle = key.querySelector("[data-street-crime-toggle]");
    var layer = L.layerGroup();
    fetch(key.dataset.streetCrimeUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.features.length) { return; }
        data.features.forEach(function (f) { markerFor(f).addTo(layer); });
        el.dataset.streetCrimePoints = String(data.features.length);
        key.hidden = false;
        if (toggle.checked) { layer.addTo(map); }
        toggle.addEventListener("change", function () {
          if (toggle.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
        });
      })
      .catch(function () { /* no signal: the map shows the beat and entries without the context layer */ });
  });
})();
