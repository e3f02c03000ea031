/* Photos on the phone, before they are sent.
 *
 * window.BeatbookPhotos.prepare(file) -> Promise<{blob, type, width, height, name, offer, preview}>
 *   reads the photo's EXIF time and GPS place first (exifr, from npm: static/vendor/exifr), because the
 *   canvas the photo is then drawn on keeps no metadata; then draws it upright, longest side at most
 *   1600 px, and encodes it as JPEG (quality 0.85). `offer` is {taken_at: ISO string | null, lat, lon} or
 *   null; `preview` a small data: URL for showing it (the CSP allows data: images, not blob:).
 *   Rejects with an Error whose message can be shown to the officer (not an image, unreadable here).
 *
 * On an entry form, choosing photos in <input type="file" data-photos> resizes them there and then, puts the
 * resized files back in the input (DataTransfer), so the form sends a few hundred KB instead of several MB,
 * writes the offers to the hidden photo_offers field (JSON, in the order of the files), and shows
 * what was chosen. Without JavaScript, or where a step is missing, the originals are sent and the server
 * resizes them just the same. The outbox (offline) calls prepare() itself and stores the blobs.
 */
(function () {
  "use strict";

  var MAX_SIDE = 1600;
  var QUALITY = 0.85;
  var PREVIEW_SIDE = 240;
  var EXIF_OPTIONS = {tiff: true, exif: true, gps: true, ifd1: false, interop: false, xmp: false, icc: false,
                      iptc: false, jfif: false, ihdr: false};

  function finite(value) {
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  // EXIF keeps the camera's local clock ("2026:12:01 14:02:00") and, on newer phones, its offset ("+01:00");
  // without one it is read in the phone's own time zone. exifr's mini build gives tags by number:
  // 36867 DateTimeOriginal, 36868 DateTimeDigitized, 36881 OffsetTimeOriginal.
  function exifTime(tags) {
    var value = tags.DateTimeOriginal || tags[36867] || tags.CreateDate || tags[36868] || null;
    var offset = tags.OffsetTimeOriginal || tags[36881] || "";
    if (typeof value === "string") {
      var parts = value.match(/^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/);
      if (!parts) {
        value = null;
      } else if (/^[+-]\d{2}:\d{2}$/.test(offset)) {
        value = new Date(parts[1] + "-" + parts[2] + "-" + parts[3] + "T" + parts[4] + ":" + parts[5] + ":" + parts[6] + offset);
      } else {
        value = new Date(+parts[1], parts[2] - 1, +parts[3], +parts[4], +parts[5], +parts[6]);
      }
    }
    return value instanceof Date && !isNaN(value.getTime()) ? value.toISOString() : null;
  }

  function readOffer(file) {
    if (!window.exifr || typeof window.exifr.parse !== "function") {
      return Promise.resolve(null);
    }
    return window.exifr.parse(file, EXIF_OPTIONS).then(function (tags) {
      if (!tags) { return null; }
      var takenAt = exifTime(tags);
      var lat = finite(tags.latitude);
      var lon = finite(tags.longitude);
      if (lat !== null && lon !== null) { lat = Math.round(lat * 1e6) / 1e6; lon = Math.round(lon * 1e6) / 1e6; }
      if (lat === null || lon === null || (lat === 0 && lon === 0)) { lat = lon = null; }
      if (takenAt === null && lat === null) { return null; }
      return {taken_at: takenAt, lat: lat, lon: lon};
    }).catch(function () { return null; });  // no EXIF, or none readable: nothing to offer
  }

  function readAsDataUrl(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(file);
    });
  }

  function viaImageElement(file) {
    return readAsDataUrl(file).then(function (url) {
      return new Promise(function (resolve, reject) {
        var image = new Image();
        image.onload = function () { resolve(image); };
        image.onerror = function () { reject(new Error("unreadable")); };
        image.src = url;
      });
    });
  }

  function decode(file) {
    if (typeof window.createImageBitmap === "function") {
      return window.createImageBitmap(file, {imageOrientation: "from-image"}).catch(function () {
        return viaImageElement(file);
      });
    }
    return viaImageElement(file);
  }

  function draw(source, width, height) {
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff";  // a transparent PNG becomes white, not black, as JPEG
    context.fillRect(0, 0, width, height);
    context.drawImage(source, 0, 0, width, height);
    return canvas;
  }

  function fit(width, height, side) {
    var scale = Math.min(1, side / Math.max(width, height));
    return {width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale))};
  }

  function toBlob(canvas) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) { resolve(blob); } else { reject(new Error("encode")); }
      }, "image/jpeg", QUALITY);
    });
  }

  function jpegName(name) {
    var base = (name || "photo").replace(/\.[^.]*$/, "") || "photo";
    return base + ".jpg";
  }

  function prepare(file) {
    var label = file && file.name ? "\u201c" + file.name + "\u201d" : "This file";
    if (!file || (file.type && !/^image\//.test(file.type))) {
      return Promise.reject(new Error(label + " is not a photo: choose a JPEG, PNG or WebP image."));
    }
    return readOffer(file).then(function (offer) {
      return decode(file).catch(function () {
        var heic = /hei[cf]$/i.test(file.type || "") || /\.hei[cf]$/i.test(file.name || "");
        throw new Error(label + (heic
          ? " is a HEIC photo, which this phone's browser can't convert: set the camera to 'Most Compatible' (JPEG) or choose another."
          : " can't be read as a photo: choose a JPEG, PNG or WebP image."));
      }).then(function (source) {
        var size = fit(source.width, source.height, MAX_SIDE);
        var canvas = draw(source, size.width, size.height);
        var small = fit(size.width, size.height, PREVIEW_SIDE);
        var preview = draw(canvas, small.width, small.height).toDataURL("image/jpeg", 0.7);
        if (typeof source.close === "function") { source.close(); }
        return toBlob(canvas).then(function (blob) {
          return {blob: blob, type: "image/jpeg", width: size.width, height: size.height, name: jpegName(file.name),
                  offer: offer, preview: preview};
        });
      });
    });
  }

  window.BeatbookPhotos = {prepare: prepare, MAX_SIDE: MAX_SIDE};

  // ---- the entry form -------------------------------------------------------------------------------

  function kilobytes(size) {
    return size >= 1024 * 1024 ? (size / 1024 / 1024).toFixed(1) + " MB" : Math.max(1, Math.round(size / 1024)) + " KB";
  }

  function setBusy(form, busy) {
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
      button.disabled = busy;
    });
  }

  function showPreviews(list, prepared) {
    list.textContent = "";
    prepared.forEach(function (photo, index) {
      var item = document.createElement("li");
      var image = document.createElement("img");
      image.src = photo.preview;
      image.alt = "Chosen photo " + (index + 1);
      image.setAttribute("data-testid", "photo-preview");
      var caption = document.createElement("span");
      caption.textContent = photo.width + " \u00d7 " + photo.height + ", " + kilobytes(photo.blob.size)
        + (photo.offer ? ", has a time or place" : "");
      item.appendChild(image);
      item.appendChild(caption);
      list.appendChild(item);
    });
  }

  function replaceFiles(input, prepared) {
    try {
      var transfer = new DataTransfer();
      prepared.forEach(function (photo) {
        transfer.items.add(new File([photo.blob], photo.name, {type: photo.type, lastModified: Date.now()}));
      });
      input.files = transfer.files;
      return true;
    } catch (error) {
      return false;  // an older browser: the originals go, and the server resizes them
    }
  }

  function enhance(input) {
    var form = input.form;
    var section = input.closest("[data-testid=photos-fields]") || form;
    var status = section.querySelector("[data-photos-status]");
    var list = section.querySelector("[data-photo-previews]");
    var offers = form.querySelector("input[name=photo_offers]");  // a hidden field of the form (hidden_tag)
    var most = parseInt(input.getAttribute("data-max-count"), 10) || 6;

    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      if (offers) { offers.value = ""; }
      if (list) { list.textContent = ""; }
      if (!files.length) { status.textContent = ""; return; }
      var refused = [];
      if (files.length > most) {
        refused.push("Only the first " + most + " photos are kept: an entry can have " + most + " more at most.");
        files = files.slice(0, most);
      }
      status.textContent = "Making " + (files.length === 1 ? "the photo" : files.length + " photos") + " smaller to send\u2026";
      setBusy(form, true);
      Promise.all(files.map(function (file) {
        return prepare(file).catch(function (error) { refused.push(error.message); return null; });
      })).then(function (results) {
        var prepared = results.filter(Boolean);
        var replaced = replaceFiles(input, prepared);
        if (offers) { offers.value = replaced ? JSON.stringify(prepared.map(function (p) { return p.offer; })) : ""; }
        if (list) { showPreviews(list, prepared); }
        var done = prepared.length ? prepared.length + (prepared.length === 1 ? " photo" : " photos") + " ready to save."
                                   : "No photo chosen.";
        status.textContent = refused.concat([done]).join(" ");
        section.classList.toggle("form-group--error", refused.length > 0);
      }).then(function () { setBusy(form, false); }, function () { setBusy(form, false); });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-photos]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
