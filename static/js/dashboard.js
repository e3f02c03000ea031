/* The beat dashboard: charts (Chart.js) and the hotspot map (Leaflet), drawn from JSON the page carries in
   data-* attributes (no inline script: the CSP forbids it). Every figure is also a link or a table row in
   the page itself, so nothing here is needed to read the numbers. */
(function () {
  "use strict";

  var TREND_COLOURS = { rising: "#d4351c", "new": "#d4351c", steady: "#f47738", falling: "#00703c" };

  function readJSON(el, name) {
    try { return JSON.parse(el.getAttribute(name)); } catch (e) { return null; }
  }

  /* ---- the period form: dates only for "Dates I choose" ------------------------------------ */
  function initFilters(form) {
    var period = form.querySelector("select[name=period]");
    var dates = form.querySelector("[data-dash-dates]");
    if (!period || !dates) { return; }
    function sync() {
      var custom = period.value === "custom";
      dates.hidden = !custom;
      dates.querySelectorAll("input").forEach(function (input) { input.disabled = !custom; });
    }
    period.addEventListener("change", sync);
    sync();
  }

  /* ---- charts ---------------------------------------------------------------------------------- */
  function initChart(el) {
    var spec = readJSON(el, "data-dash-chart");
    if (!window.Chart || !spec || !spec.labels.length) { return; }
    var any = spec.datasets.some(function (d) { return d.data.some(function (v) { return v > 0; }); });
    if (!any) { return; }  // nothing to draw: the figures above already say 0
    el.hidden = false;
    if (spec.horizontal) {
      el.style.height = Math.max(140, spec.labels.length * 30 + 70) + "px";
    }
    var unit = spec.unit ? " " + spec.unit : "";
    var valueAxis = { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 },
                      grid: { color: "#e5e6e7" } };
    var labelAxis = { stacked: Boolean(spec.stacked), grid: { display: false },
                      ticks: { autoSkip: !spec.horizontal, maxRotation: 0, color: "#0b0c0c" } };
    new window.Chart(el.querySelector("canvas"), {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d) {
          return { label: d.label, data: d.data, backgroundColor: d.colour, borderWidth: 0, maxBarThickness: 28 };
        })
      },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: spec.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12, color: "#0b0c0c" } },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + ctx.formattedValue + unit; } } }
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var hit = elements[0];
          var url = spec.datasets[hit.datasetIndex].urls[hit.index];
          if (url) { window.location.href = url; }
        }
      }
    });
  }

  /* ---- the hotspot map ------------------------------------------------------------------------ */
  function link(url, text) {
    var a = document.createElement("a");
    a.href = url;
    a.textContent = text;
    return a;
  }

  function hotspotLayer(spots) {
    var group = L.featureGroup();
    spots.forEach(function (h) {
      var size = Math.round(26 + Math.min(26, Math.sqrt(h.count) * 5));
      var icon = L.divIcon({
        className: "dash-spot dash-spot--" + h.trend,
        html: "<span>" + Number(h.count) + "</span>",
        iconSize: [size, size]
      });
      L.marker([h.lat, h.lon], { icon: icon, title: h.label, alt: h.label, keyboard: true, riseOnHover: true })
        .bindPopup(link(h.url, h.label + " ›"))
        .addTo(group);
    });
    return group;
  }

  function streetCrimeLayer(points) {
    var renderer = L.canvas({ padding: 0.2 });
    var group = L.layerGroup();
    points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { renderer: renderer, radius: Math.min(9, 3 + Math.sqrt(p.n)), weight: 1,
                                       color: "#505a5f", fillColor: "#b1b4b6", fillOpacity: 0.7 })
        .bindPopup("data.police.uk, approximate: " + p.label.replace(/[<>&]/g, ""))
        .addTo(group);
    });
    return group;
  }

  function initMap(el) {
    if (!window.L) { return; }
    var data = readJSON(el, "data-dash-map");
    if (!data) { return; }
    el.innerHTML = "";
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(el.dataset.tiles), scrollWheelZoom: false });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    map.setView([53.42, -2.33], 11);
    var layers = {};
    Object.keys(data.hotspots).forEach(function (days) { layers[days] = hotspotLayer(data.hotspots[days]); });
    var street = data.streetCrime.length ? streetCrimeLayer(data.streetCrime) : null;
    var current = layers["7"];
    if (current) { current.addTo(map); }

    var controls = document.querySelector("[data-dash-map-controls]");
    if (controls) {
      controls.hidden = false;
      controls.querySelectorAll("input[name=hotspot-window]").forEach(function (radio) {
        radio.addEventListener("change", function () {
          if (!radio.checked) { return; }
          if (current) { map.removeLayer(current); }
          current = layers[radio.value];
          if (current) { current.addTo(map); }
        });
      });
      var toggle = controls.querySelector("[data-street-crime]");
      if (toggle && street) {
        toggle.addEventListener("change", function () {
          if (toggle.checked) { street.addTo(map); if (current) { current.bringToFront && current.bringToFront(); } }
          else { map.removeLayer(street); }
        });
      }
    }

    var chosen = data.beats || [];
    fetch(data.outlinesUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (outlines) {
        if (!outlines) { return; }
        var focus = L.featureGroup();
        var layer = L.geoJSON(outlines, {
          style: function (f) {
            var on = chosen.indexOf(f.properties.id) !== -1;
            return { color: on ? "#1d70b8" : "#6f777b", weight: on ? 3 : 1, fillColor: on ? "#1d70b8" : "#ffffff",
                     fillOpacity: on ? 0.08 : 0.3, interactive: false };
          },
          onEachFeature: function (f, l) { if (chosen.indexOf(f.properties.id) !== -1) { focus.addLayer(l); } }
        }).addTo(map);
        layer.bringToBack();
        var bounds = chosen.length ? focus.getBounds() : layer.getBounds();
        if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8], maxZoom: 16 }); }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dash-filters]").forEach(initFilters);
    document.querySelectorAll("[data-dash-chart]").forEach(initChart);
    document.querySelectorAll("[data-dash-map]").forEach(initMap);
  });
})();
