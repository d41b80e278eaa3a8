/* The archive's service worker (#14), served at /sw.js by radio/web/offline.py, which writes
   `const RADIO = {version, precache, offline, static, media, logout}` in front of this file.

   - Pages: network first, so listeners see new episodes; a copy of each page opened is kept
     (the last MAX_PAGES), and answers when the network doesn't (or is too slow to wait for).
     A page never opened offline gets the offline page.
   - Static files: cache first. Their URLs carry ?v=<mtime>, so a release is new URLs; the
     worker itself changes with them, and its activation drops the old release's cache.
   - Saved episodes (offline.js puts them in the "radio-saved" cache): their audio is
     answered from the cache, byte ranges included (a media element asks for ranges), so
     playing and seeking work with no connection. Audio not saved goes to the network as
     if there were no worker. */
"use strict";

var STATIC_CACHE = "radio-static-" + RADIO.version;
var PAGES_CACHE = "radio-pages";
var SAVED_CACHE = "radio-saved";
var MAX_PAGES = 60;
var SLOW_NETWORK_MS = 6000; // then a kept copy answers; the network still refreshes it
var ANY = { ignoreVary: true }; // pages vary on Cookie and Accept-Encoding; a kept one is fine

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then(function (cache) { return cache.addAll(RADIO.precache); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("radio-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === RADIO.logout) {
    // pages kept while logged in show that account; they go with it
    event.waitUntil(caches.delete(PAGES_CACHE));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf(RADIO.media) === 0) {
    event.respondWith(savedMedia(request).then(function (answer) {
      return answer || fetch(request);
    }));
  } else if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.indexOf(RADIO.static) === 0) {
    event.respondWith(staticFile(request));
  } else {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request, ANY).then(function (hit) { return hit || Response.error(); });
    }));
  }
});

function page(event) {
  var request = event.request;
  var network = fetch(request).then(function (response) {
    if (keepable(response)) {
      var copy = response.clone();
      event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
        return cache.put(request, copy).then(function () { return trim(cache); });
      }));
    }
    return response;
  });
  return kept(request).then(function (copy) {
    if (!copy) {
      return network.catch(function () { return caches.match(RADIO.offline, ANY); });
    }
    var slow = new Promise(function (resolve) {
      setTimeout(function () { resolve(copy); }, SLOW_NETWORK_MS);
    });
    return Promise.race([network.catch(function () { return copy; }), slow]);
  });
}

function keepable(response) {
  return response.ok && response.type === "basic" &&
    (response.headers.get("Content-Type") || "").indexOf("text/html") === 0 &&
    !/no-store|private/.test(response.headers.get("Cache-Control") || "");
}

// The page as last seen, from the pages kept or the episodes saved: this exact URL, or for
// an episode opened at a moment (?t=90), the episode's page.
function kept(request) {
  return caches.match(request, ANY).then(function (hit) {
    var url = new URL(request.url);
    if (hit || !/^\?t=[\d.]+$/.test(url.search)) return hit;
    return caches.match(url.origin + url.pathname, ANY);
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    // keys come back in insertion order; a page opened again was put again, so moves last
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (k) {
      return cache.delete(k);
    }));
  });
}

// A release's files are new URLs. A page kept from before a release still finds its CSS and
// scripts offline: the current version of the same file answers for an older one.
function staticFile(request) {
  return caches.match(request).then(function (hit) {
    if (hit) return hit;
    return fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(STATIC_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }, function () {
      return caches.match(request, { ignoreSearch: true, ignoreVary: true })
        .then(function (other) { return other || Response.error(); });
    });
  });
}

// A saved file's answer to a GET, a byte range of it when one was asked for; null when it
// isn't saved.
function savedMedia(request) {
  return caches.open(SAVED_CACHE).then(function (cache) {
    return cache.match(request.url.split(/[?#]/)[0], ANY);
  }).then(function (hit) {
    if (!hit) return null;
    var range = request.headers.get("Range");
    if (!range) return hit;
    return hit.blob().then(function (blob) { return partial(blob, range, hit.headers); });
  });
}

function partial(blob, range, headers) {
  var size = blob.size;
  var m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  var start, end;
  if (m && m[1] !== "") {
    start = parseInt(m[1], 10);
    end = m[2] !== "" ? Math.min(parseInt(m[2], 10), size - 1) : size - 1;
  } else if (m && m[2] !== "") { // the last N bytes
    start = Math.max(0, size - parseInt(m[2], 10));
    end = size - 1;
  }
  if (start === undefined || start > end || start >= size) {
    return new Response("", {
      status: 416, statusText: "Range Not Satisfiable",
      headers: { "Content-Range": "bytes */" + size },
    });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    statusText: "Partial Content",
    headers: {
      "Content-Type": headers.get("Content-Type") || "application/octet-stream",
      "Content-Range": "bytes " + start + "-" + end + "/" + size,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}
