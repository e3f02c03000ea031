/* Photos that wait with their entry in the outbox. The form's file input already holds the photos resized
   on the phone (photos.js); when the entry is queued they are encrypted with the officer's device key and
   kept with it. Once the entry is on the server, each is sent on its own (POST /api/v1/entries/<id>/photos,
   Idempotency-Key "<entry key>-p<n>", so a photo sent twice is stored once); a photo not sent yet stays
   with the entry's line, which says so, and is tried again with the rest of the queue. */
(function () {
  "use strict";

  var vault = window.BeatbookVault;
  var user = (document.querySelector('meta[name="beatbook-user"]') || {}).content || "";

  function offersOf(form) {
    var field = form.querySelector("input[name=photo_offers]");
    try { return JSON.parse((field && field.value) || "[]") || []; } catch (e) { return []; }
  }

  /* The form's photos, encrypted for the outbox: [{n, type, iv, data, offer}]. */
  function collect(form) {
    var input = form.querySelector("input[type=file][data-photos]");
    var files = input ? Array.prototype.slice.call(input.files || []) : [];
    var offers = offersOf(form);
    return Promise.all(files.map(function (file, n) {
      return file.arrayBuffer().then(function (bytes) {
        return vault.encryptBytes(user, bytes);
      }).then(function (box) {
        return { n: n, type: file.type || "image/jpeg", iv: box.iv, data: box.data, offer: offers[n] || null };
      });
    }));
  }

  function sendPhoto(item, photo, token) {
    return vault.decryptBytes(user, { iv: photo.iv, data: photo.data }).then(function (bytes) {
      var body = new FormData();
      body.append("photo", new Blob([bytes], { type: photo.type }), "photo-" + photo.n + ".jpg");
      var offer = photo.offer || {};
      if (offer.taken_at) { body.append("taken_at", offer.taken_at); }
      if (typeof offer.lat === "number" && typeof offer.lon === "number") {
        body.append("lat", String(offer.lat));
        body.append("lon", String(offer.lon));
      }
      return fetch("/api/v1/entries/" + item.serverId + "/photos", {
        method: "POST", credentials: "same-origin", cache: "no-store", body: body,
        headers: { Accept: "application/json", "X-CSRFToken": token, "Idempotency-Key": '"' + item.id + "-p" + photo.n + '"' }
      });
    });
  }

  /* Send what photos the item still has; resolves with the item as it is after. */
  function send(item) {
    var left = (item.photos || []).slice();
    if (!left.length || !item.serverId) { return Promise.resolve(item); }
    var kept = [], refused = [];
    return window.BeatbookOutbox.freshToken().then(function (token) {
      if (!token.token) { return Promise.reject(new Error("no token")); }
      return left.reduce(function (chain, photo) {
        return chain.then(function () {
          return sendPhoto(item, photo, token.token).then(function (response) {
            if (response.ok) { return; }
            if (response.status >= 500 || response.status === 429 || response.status === 409 || response.status === 401) {
              kept.push(photo);
              return;
            }
            return response.json().catch(function () { return {}; }).then(function (problem) {
              refused.push(problem.detail || ("A photo was refused (" + response.status + ")."));
            });
          }, function () { kept.push(photo); });
        });
      }, Promise.resolve());
    }).then(function () {
      return finish(item, kept, refused);
    }, function () { return finish(item, left, []); });
  }

  function finish(item, kept, refused) {
    var next = Object.assign({}, item, { photos: kept });
    next.photoNote = kept.length ? kept.length + (kept.length === 1 ? " photo is" : " photos are") +
      " still to be sent: they go with the next try." : null;
    if (refused.length) { next.photoNote = (next.photoNote ? next.photoNote + " " : "") + refused.join(" "); }
    return next;
  }

  window.BeatbookOutboxPhotos = { collect: collect, send: send };
})();
