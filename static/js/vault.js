/* Beatbook on the phone: what is kept in IndexedDB (through idb, from npm) and how it is encrypted.

   Database "beatbook", all records tagged with the signed-in officer's user id, so that another officer
   signing in on the same phone never reads them:
     meta    name -> value            (current user, the server's sealing key, when pages were cached)
     keys    user -> CryptoKey        (AES-GCM 256, made here, non-extractable: usable, never readable)
     drafts  "user|form url" -> {iv, data}      what is being typed, kept as it is typed
     outbox  client key -> item                 entries saved with no signal (see outbox-core.js)

   Drafts and device-encrypted outbox items are AES-GCM ciphertext under the officer's device key.
   A finalised OFFICIAL-SENSITIVE entry (welfare check, intelligence) is sealed instead: a fresh AES key
   encrypts it and is wrapped with the server's RSA-OAEP public key, then forgotten, so this phone can
   no longer read it back. docs/SECURITY.md says what this protects against, and what it does not. */
(function () {
  "use strict";

  var DB_NAME = "beatbook";
  var dbPromise = null;

  function open() {
    if (!dbPromise) {
      dbPromise = idb.openDB(DB_NAME, 1, {
        upgrade: function (db) {
          db.createObjectStore("meta", { keyPath: "name" });
          db.createObjectStore("keys", { keyPath: "user" });
          db.createObjectStore("drafts", { keyPath: "id" }).createIndex("user", "user");
          db.createObjectStore("outbox", { keyPath: "id" }).createIndex("user", "user");
        },
        blocking: function () { close(); }  // another tab wipes or upgrades: let it
      });
    }
    return dbPromise;
  }

  function close() {
    if (dbPromise) { dbPromise.then(function (db) { db.close(); }); }
    dbPromise = null;
  }

  /* ---- meta ------------------------------------------------------------- */
  function getMeta(name) {
    return open().then(function (db) { return db.get("meta", name); })
      .then(function (row) { return row ? row.value : undefined; });
  }

  function setMeta(name, value) {
    return open().then(function (db) { return db.put("meta", { name: name, value: value }); });
  }

  /* ---- encryption --------------------------------------------------------- */
  var te = new TextEncoder(), td = new TextDecoder();

  function deviceKey(user) {
    return open().then(function (db) {
      return db.get("keys", user).then(function (row) {
        if (row) { return row.key; }
        return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
          .then(function (key) {
            // Two tabs may race to make the first key: keep whichever landed first.
            var tx = db.transaction("keys", "readwrite");
            return tx.store.get(user).then(function (again) {
              if (again) { return again.key; }
              return tx.store.put({ user: user, key: key }).then(function () { return key; });
            }).then(function (kept) { return tx.done.then(function () { return kept; }); });
          });
      });
    });
  }

  function encrypt(user, value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return deviceKey(user).then(function (key) {
      return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, te.encode(JSON.stringify(value)));
    }).then(function (data) { return { iv: iv, data: data }; });
  }

  function decrypt(user, box) {
    return deviceKey(user).then(function (key) {
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, key, box.data);
    }).then(function (plain) { return JSON.parse(td.decode(plain)); });
  }

  /* Bytes (a photo) under the device key, as {iv, data}; decryptBytes gives the ArrayBuffer back. */
  function encryptBytes(user, bytes) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return deviceKey(user).then(function (key) {
      return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, bytes);
    }).then(function (data) { return { iv: iv, data: data }; });
  }

  function decryptBytes(user, box) {
    return deviceKey(user).then(function (key) {
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, key, box.data);
    });
  }

  function b64url(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i += 1) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /* Seal `value` to the server's public key ({kid, jwk}): the envelope POST /api/v1/sealed takes. */
  function seal(sealKey, value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return Promise.all([
      crypto.subtle.importKey("jwk", sealKey.jwk, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["wrapKey"]),
      crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"])
    ]).then(function (keys) {
      return Promise.all([
        crypto.subtle.wrapKey("raw", keys[1], keys[0], { name: "RSA-OAEP" }),
        crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, keys[1], te.encode(JSON.stringify(value)))
      ]);
    }).then(function (parts) {
      return { kid: sealKey.kid, wrapped_key: b64url(parts[0]), iv: b64url(iv), ciphertext: b64url(parts[1]) };
    });
  }

  /* ---- drafts --------------------------------------------------------------- */
  function draftId(user, url) { return user + "|" + url; }

  function saveDraft(user, url, value) {
    return encrypt(user, value).then(function (box) {
      return open().then(function (db) {
        return db.put("drafts", { id: draftId(user, url), user: user, url: url, savedAt: Date.now(),
                                  iv: box.iv, data: box.data });
      });
    });
  }

  function loadDraft(user, url) {
    return open().then(function (db) { return db.get("drafts", draftId(user, url)); }).then(function (row) {
      if (!row) { return null; }
      return decrypt(user, row).then(function (value) { return { savedAt: row.savedAt, value: value }; })
        .catch(function () { return null; });  // a key from before a wipe: nothing to restore
    });
  }

  function dropDraft(user, url) {
    return open().then(function (db) { return db.delete("drafts", draftId(user, url)); });
  }

  /* ---- outbox ------------------------------------------------------------------ */
  function items(user) {
    return open().then(function (db) { return db.getAllFromIndex("outbox", "user", user); });
  }

  function getItem(id) {
    return open().then(function (db) { return db.get("outbox", id); });
  }

  function putItem(item) {
    return open().then(function (db) { return db.put("outbox", item); });
  }

  function dropItem(id) {
    return open().then(function (db) { return db.delete("outbox", id); });
  }

  /* Every unsent item on this phone, whoever saved it (signing out removes them all). */
  function allUnsent() {
    return open().then(function (db) { return db.getAll("outbox"); }).then(function (all) {
      return all.filter(function (i) { return i.state !== "sent" && !i.held; });
    });
  }

  /* Another officer's unsent items on this phone: only how many, never what. */
  function othersUnsent(user) {
    return open().then(function (db) { return db.getAll("outbox"); }).then(function (all) {
      return all.filter(function (i) { return i.user !== user && i.state !== "sent"; }).length;
    });
  }

  /* ---- logout: leave nothing of Beatbook's on the phone ----------------------- */
  function wipe() {
    close();
    var steps = [idb.deleteDB(DB_NAME, { blocked: function () {} })];
    if (window.caches) {
      steps.push(caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) { return n.indexOf("beatbook-") === 0; })
          .map(function (n) { return caches.delete(n); }));
      }));
    }
    if (navigator.serviceWorker) {  // the next officer's sign-in registers it again
      steps.push(navigator.serviceWorker.getRegistrations().then(function (regs) {
        return Promise.all(regs.map(function (r) { return r.unregister(); }));
      }));
    }
    try { sessionStorage.clear(); } catch (e) { /* private mode */ }
    return Promise.all(steps);
  }

  window.BeatbookVault = {
    open: open, getMeta: getMeta, setMeta: setMeta, encrypt: encrypt, decrypt: decrypt, seal: seal,
    encryptBytes: encryptBytes, decryptBytes: decryptBytes,
    saveDraft: saveDraft, loadDraft: loadDraft, dropDraft: dropDraft,
    items: items, getItem: getItem, putItem: putItem, dropItem: dropItem, othersUnsent: othersUnsent, allUnsent: allUnsent, wipe: wipe
  };
})();
