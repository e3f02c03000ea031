/* Beatbook progressive enhancement: location, postcode lookup, maps. Pages work without it
   (except the map itself). No inline script anywhere: the CSP forbids it. */
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  /* ---- maps ------------------------------------------------------------ */
  var maps = [];

  function initMap(el) {
    if (!window.L) { return null; }
    el.innerHTML = "";
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(el.dataset.tiles) });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    map.setView([53.42, -2.33], 11);
    var highlight = el.dataset.highlight ? Number(el.dataset.highlight) : null;
    var state = { el: el, map: map, pin: null, bounds: null };
    var points = el.dataset.points ? JSON.parse(el.dataset.points) : [];
    var pointLayer = L.featureGroup().addTo(map);
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], { radius: 8, weight: 2, color: "#0b2545", fillColor: "#f47738", fillOpacity: 0.9 });
      var link = document.createElement("a");
      link.href = p.url; link.textContent = p.label;
      marker.bindPopup(link).addTo(pointLayer);
    });
    fetch(el.dataset.outlinesUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (outlines) {
        if (!outlines) { return; }
        var highlighted = null;
        var layer = L.geoJSON(outlines, {
          style: function (f) {
            var on = highlight !== null && f.properties.id === highlight;
            return { color: on ? "#1d70b8" : "#6f777b", weight: on ? 3 : 1, fillColor: on ? "#1d70b8" : "#ffffff",
                     fillOpacity: on ? 0.12 : 0.35 };
          },
          onEachFeature: function (f, l) {
            l.bindTooltip(f.properties.name, { sticky: true });
            if (highlight !== null && f.properties.id === highlight) { highlighted = l; }
          }
        }).addTo(map);
        layer.bringToBack();
        var target = highlighted ? highlighted.getBounds() : layer.getBounds();
        if (points.length && !highlighted) { target = pointLayer.getBounds(); }
        if (points.length === 1 && highlighted) { target = highlighted.getBounds().extend(pointLayer.getBounds()); }
        if (target.isValid() && !state.pin) { map.fitBounds(target, { padding: [10, 10], maxZoom: 17 }); }
        state.bounds = layer.getBounds();
      })
      .catch(function () { /* no signal: the map works without the outlines (the beat is worked out on the phone) */ });
    maps.push(state);
    return state;
  }

  function setPin(state, lat, lon) {
    if (!state) { return; }
    if (state.pin) { state.pin.setLatLng([lat, lon]); }
    else {
      state.pin = L.circleMarker([lat, lon], { radius: 10, weight: 3, color: "#0b2545", fillColor: "#ffdd00", fillOpacity: 1 })
        .addTo(state.map);
    }
    state.map.setView([lat, lon], Math.max(state.map.getZoom(), 16));
  }

  /* ---- the location widget on entry forms ---------------------------- */
  function initLocation(widget) {
    var form = widget.closest("form");
    var field = function (name) { return form.querySelector('[name="' + name + '"]'); };
    var status = widget.querySelector("[data-location-status]");
    var useButton = widget.querySelector("[data-use-location]");
    var lookupButton = widget.querySelector("[data-postcode-lookup]");
    var beatSelect = field("beat_id");
    var warnAt = Number(document.body.dataset.warnAccuracy || 100);
    var mapEl = widget.querySelector("[data-map]");
    var mapState = mapEl ? initMap(mapEl) : null;
    var hint = widget.querySelector("[data-map-hint]");
    if (mapState && hint) { hint.hidden = false; }

    function say(text, kind) {
      status.hidden = false;
      status.textContent = text;
      status.className = "location-status" + (kind ? " location-status--" + kind : "");
    }

    function showBeat(prefix, beat, kind) {
      if (beat) { say(prefix + " Beat: " + beat.name + " (" + beat.code + ").", kind); }
      else { say(prefix + " This is outside every beat: choose the beat below.", "warn"); }
    }

    function setPoint(lat, lon, accuracy, source) {
      field("lat").value = lat.toFixed(6);
      field("lon").value = lon.toFixed(6);
      field("accuracy_m").value = accuracy === null ? "" : Math.round(accuracy);
      field("location_source").value = source;
      setPin(mapState, lat, lon);
    }

    // The beat shown to the user is kept on the form: the outbox says, after sending, if the server's differs.
    function rememberBeat(beat, source) {
      if (beat) {
        form.dataset.phoneBeatId = String(beat.id);
        form.dataset.phoneBeatName = beat.name;
        form.dataset.phoneBeatSource = source;
      } else {
        delete form.dataset.phoneBeatId; delete form.dataset.phoneBeatName; delete form.dataset.phoneBeatSource;
      }
    }

    // No signal: what the server would answer, said from the copy of the user's beats on this phone.
    var NO_PACK = "No signal and no saved beat map on this phone: the beat will be worked out when the entry is sent.";
    var CHECKED = " It is checked again when the entry is sent.";

    function offline(lookup) {
      var places = window.BeatbookPlaces;
      return places ? lookup(places) : Promise.reject(Object.assign(new Error("no places.js"), { name: "NoPack" }));
    }

    function locateOnPhone(prefix, kind) {
      var lat = Number(field("lat").value), lon = Number(field("lon").value);
      offline(function (places) { return places.beatAt(lat, lon); }).then(function (beat) {
        rememberBeat(beat, "phone");
        if (beat) { say(prefix + " Beat (worked out on this phone): " + beat.name + " (" + beat.code + ")." + CHECKED, kind); }
        else { say(prefix + " This is outside your beats on this phone's map: choose the beat below, or it will be worked out when the entry is sent.", "warn"); }
      }).catch(function () { rememberBeat(null); say(prefix + " " + NO_PACK, kind || "warn"); });
    }

    function noSignal(res) { return res.status === 0 || res.status === 502 || res.status === 503 || res.status === 504; }

    function locate(prefix, kind) {
      if (navigator.onLine === false) { locateOnPhone(prefix, kind); return; }
      postJSON("/geo/locate", { lat: Number(field("lat").value), lon: Number(field("lon").value) })
        .then(function (res) {
          if (noSignal(res)) { locateOnPhone(prefix, kind); return; }
          if (res.status === 401) { say(prefix + " " + res.data.error, "warn"); return; }
          var beat = res.ok ? res.data.beat : null;
          rememberBeat(beat, "server");
          showBeat(prefix, beat, kind);
        })
        .catch(function () { locateOnPhone(prefix, kind); });
    }

    if (useButton && navigator.geolocation) {
      useButton.hidden = false;
      useButton.addEventListener("click", function () {
        say("Finding your location…");
        navigator.geolocation.getCurrentPosition(function (pos) {
          var acc = pos.coords.accuracy;
          setPoint(pos.coords.latitude, pos.coords.longitude, acc, "gps");
          field("postcode").value = "";
          var poor = acc > warnAt;
          var text = "Location found, accurate to ±" + Math.round(acc) + " m." +
            (poor ? " That is poor: try again in the open, type a postcode, or drop a pin." : "");
          say(text, poor ? "warn" : null);
          locate(text, poor ? "warn" : null);
        }, function (err) {
          var why = err.code === 1 ? "Location permission was refused." : "Your location could not be found.";
          say(why + " Type a postcode or tap the map instead.", "error");
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
      });
    }

    // The server resolves the postcode again on save; clear any device fix so it is used.
    function usePostcode(found) {
      field("lat").value = ""; field("lon").value = ""; field("accuracy_m").value = "";
      field("location_source").value = "postcode";
      field("postcode").value = found.postcode;
      setPin(mapState, found.lat, found.lon);
    }

    function postcodeOnPhone(value) {
      offline(function (places) { return places.postcode(value); }).then(function (found) {
        if (!found) {
          rememberBeat(null);
          say("No signal, and " + value.toUpperCase() + " is not among your beats' postcodes saved on this phone: " +
              "it will be looked up when the entry is sent.", "warn");
          return;
        }
        usePostcode(found);
        rememberBeat(found.beat, "phone");
        if (found.beat) {
          say(found.postcode + " found on this phone. Beat (worked out on this phone): " + found.beat.name + " (" +
              found.beat.code + ")." + CHECKED);
        } else {
          say(found.postcode + " found on this phone, just outside your beats: choose the beat below, or it will be worked out when the entry is sent.", "warn");
        }
      }).catch(function () { rememberBeat(null); say("No signal and no saved postcodes on this phone: the postcode will be looked up when the entry is sent.", "warn"); });
    }

    function lookupPostcode() {
      var value = field("postcode").value.trim();
      if (!value) { say("Type a postcode first.", "error"); return; }
      say("Looking up " + value.toUpperCase() + "…");
      if (navigator.onLine === false) { postcodeOnPhone(value); return; }
      postJSON("/geo/postcode", { postcode: value }).then(function (res) {
        if (noSignal(res)) { postcodeOnPhone(value); return; }
        if (!res.ok) { say(res.data.error || "Postcode not found.", "error"); return; }
        usePostcode(res.data);
        rememberBeat(res.data.beat, "server");
        showBeat(res.data.postcode + " found.", res.data.beat);
      }).catch(function () { postcodeOnPhone(value); });
    }

    if (lookupButton) {
      lookupButton.hidden = false;
      lookupButton.addEventListener("click", lookupPostcode);
      field("postcode").addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); lookupPostcode(); }
      });
    }

    if (mapState) {
      mapState.map.on("click", function (e) {
        setPoint(e.latlng.lat, e.latlng.lng, null, "map");
        field("postcode").value = "";
        locate("Pin dropped.", null);
      });
      if (field("lat").value && field("lon").value) {
        setPin(mapState, Number(field("lat").value), Number(field("lon").value));
      }
    }
    if (beatSelect) {
      beatSelect.addEventListener("change", function () {
        if (beatSelect.value) { say("Beat chosen by hand: the override will be recorded.", "warn"); }
      });
    }
  }

  /* ---- type-ahead: pick an existing person or vehicle --------------------- */
  function initSuggest(input) {
    var group = input.closest("fieldset") || input.form;
    var hidden = input.dataset.suggestId ? document.getElementById(input.dataset.suggestId) : null;
    var list = document.createElement("ul");
    list.className = "suggestions";
    list.id = input.id + "-suggestions";
    list.hidden = true;
    list.setAttribute("aria-live", "polite");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.closest(".form-group").appendChild(list);
    var timer = null;
    var sibling = function (suffix) { return group.querySelector('[name$="' + suffix + '"]'); };
    var isPerson = input.dataset.suggest.indexOf("/people/") !== -1;

    function note(text, className) {
      var li = document.createElement("li");
      li.className = className;
      li.textContent = text;
      list.appendChild(li);
    }

    function pick(item) {
      if (item.vrm !== undefined) {
        input.value = item.vrm;
        ["colour", "make", "model"].forEach(function (name) {
          var field = sibling("-" + name);
          if (field && item[name]) { field.value = item[name]; }
        });
      } else {
        input.value = item.name;
        if (hidden) { hidden.value = item.id; }
        var born = sibling("born_on");
        if (born && item.born_on) { born.value = item.born_on; }
      }
      list.innerHTML = "";
      note(isPerson ? "Existing record picked: " + item.label : "Existing vehicle picked: " + item.label,
           "suggestions__note suggestions__note--picked");
      list.hidden = false;
    }

    function option(item) {
      var li = document.createElement("li");
      var tier = item.tier === "likely" ? "likely" : "possible";
      li.className = "suggestion-option suggestion-option--" + tier;
      li.dataset.tier = item.tier || tier;
      var button = document.createElement("button");
      button.type = "button";
      var name = document.createElement("span");
      name.className = "suggestion__name";
      name.textContent = item.vrm !== undefined ? item.label : item.name;
      button.appendChild(name);
      if (item.year_or_age) {
        var meta = document.createElement("span");
        meta.className = "suggestion__meta";
        meta.textContent = item.year_or_age;
        button.appendChild(meta);
      }
      if (item.reason) {
        var reason = document.createElement("span");
        reason.className = "suggestion__reason";
        reason.textContent = item.reason;
        button.appendChild(reason);
      }
      button.addEventListener("click", function () { pick(item); input.focus(); });
      li.appendChild(button);
      list.appendChild(li);
    }

    function render(results) {
      list.innerHTML = "";
      if (isPerson) {
        // Likely matches first, prominent; possible ones (nothing typed tells them apart) below, quieter.
        var likely = results.filter(function (item) { return item.tier === "likely"; });
        var possible = results.filter(function (item) { return item.tier !== "likely"; });
        if (likely.length) {
          note(likely.length === 1 ? "Likely the same person:" : "Likely the same person (check which):",
               "suggestions__group suggestions__group--likely");
          likely.forEach(option);
        }
        if (possible.length) {
          note(likely.length ? "Also possible:" : "Possible matches — nothing typed tells them apart:",
               "suggestions__group suggestions__group--possible");
          possible.forEach(option);
          var born = sibling("born_on");
          if (born && !born.value) {
            note("A date of birth tells people with the same name apart.", "suggestions__note suggestions__hint");
          }
        }
      } else {
        results.forEach(option);
      }
      var what = isPerson ? "person" : "vehicle";
      note(results.length ? "None of these? A new " + what + " record will be made."
                          : "No match — a new " + what + " record will be made.",
           "suggestions__note" + (results.length ? "" : " suggestions__note--none"));
      list.hidden = false;
    }

    function lookUp() {
      var text = input.value.trim();
      if (text.length < 2) { list.hidden = true; return; }
      var body = { q: text };
      var born = isPerson ? sibling("born_on") : null;
      var age = isPerson ? sibling("approx_age") : null;
      if (born && born.value) { body.born_on = born.value; }
      if (age && age.value) { body.age = age.value; }
      postJSON(input.dataset.suggest, body).then(function (res) {
        if (!res.ok) { list.hidden = true; return; }
        render(res.data.results || []);
      }).catch(function () { list.hidden = true; });
    }

    input.addEventListener("input", function () {
      if (hidden) { hidden.value = ""; }  // typed over: no longer the record picked
      window.clearTimeout(timer);
      if (input.value.trim().length < 2) { list.hidden = true; return; }
      timer = window.setTimeout(lookUp, 250);
    });
    ["born_on", "approx_age"].forEach(function (suffix) {
      var field = isPerson ? sibling(suffix) : null;
      if (field) {
        field.addEventListener("change", function () { if (!(hidden && hidden.value)) { lookUp(); } });
      }
    });
  }

  /* ---- forms: one submission per tap ------------------------------------ */
  function guardDoubleSubmit(form) {
    form.addEventListener("submit", function (e) {
      if (form.dataset.submitting) { e.preventDefault(); return; }
      form.dataset.submitting = "1";
      window.setTimeout(function () { delete form.dataset.submitting; }, 8000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-location-widget]").forEach(initLocation);
    document.querySelectorAll("[data-map]").forEach(function (el) {
      if (!el.closest("[data-location-widget]")) { initMap(el); }
    });
    document.querySelectorAll("form[data-entry-form]").forEach(guardDoubleSubmit);
    document.querySelectorAll("input[data-suggest]").forEach(initSuggest);
    var summary = document.querySelector("[data-testid=error-summary]");
    if (summary) {
      summary.focus();
      // GOV.UK pattern: a link in the summary puts the cursor in the field, its label in view.
      summary.addEventListener("click", function (e) {
        var link = e.target.closest("a[href^='#']");
        var target = link && document.getElementById(link.getAttribute("href").slice(1));
        if (!target) { return; }
        e.preventDefault();
        var input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
        var group = target.closest(".form-group") || target;
        group.scrollIntoView({ block: "start" });
        if (input) { input.focus({ preventScroll: true }); }
      });
    }
  });
})();
