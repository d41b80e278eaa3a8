/* Listening with no connection (#14): registers the service worker (static/sw.js), saves
   episodes into Cache Storage ("Save for offline" on an episode page), lists them on the
   Saved page, and remembers where each episode was left. Loaded before app.js so a saved
   episode's player points at the saved file before app.js touches it. Every page works
   without this: the save controls are hidden until this script shows them. */
(function () {
  "use strict";

  var t = window.radioText; // static/strings.js
  var me = document.currentScript;
  var SAVED = "radio-saved", PAGES = "radio-pages";
  var savedUrl = me.getAttribute("data-saved");
  var usable = "serviceWorker" in navigator && "caches" in window;
  var store = (function () { try { return window.localStorage; } catch (e) { return null; } })();
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function get(key) {
    try { return JSON.parse(store && store.getItem(key)); } catch (e) { return null; }
  }
  function put(key, value) {
    try {
      if (value === null) store.removeItem(key); else store.setItem(key, JSON.stringify(value));
    }
    catch (e) { /* private mode or full: progress just isn't remembered */ }
  }
  function size(n) {
    return n >= 1e9 ? (n / 1e9).toFixed(1) + " GB" : n >= 1e6 ? (n / 1e6).toFixed(1) + " MB"
      : Math.round(n / 1e3) + " KB";
  }
  function clock(s) {
    s = Math.floor(s);
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = ("0" + s % 60).slice(-2);
    return h ? h + ":" + ("0" + m).slice(-2) + ":" + r : m + ":" + r;
  }
  function metaKey(guid) { return savedUrl + "/" + encodeURIComponent(guid) + ".json"; }

  // --- where each episode was left --------------------------------------------------------
  function rememberProgress(player) {
    var guid = player.getAttribute("data-guid"), key = "radio:pos:" + guid, last = 0;
    if (!guid) return;
    var at = get(key);
    var asked = /[?&#]t=/.test(location.search + location.hash);
    if (at && at.t > 5 && !asked) {
      var p = document.createElement("p"), a = document.createElement("a");
      p.className = "resume";
      a.href = "?t=" + at.t + "#t=" + at.t; // app.js seeks and plays on such a link
      a.textContent = t("resumeAt", "Resume at {time}", { time: clock(at.t) });
      p.appendChild(a);
      player.parentNode.insertBefore(p, player.nextSibling);
      player.addEventListener("play", function () { p.hidden = true; }, { once: true });
    }
    function save() {
      var t = Math.floor(player.currentTime), d = player.duration;
      if (!t) return;
      put(key, d && t > d - 5 ? null : { t: t, at: Date.now() }); // finished: forget it
    }
    player.addEventListener("timeupdate", function () {
      if (Date.now() - last > 5000) { last = Date.now(); save(); }
    });
    player.addEventListener("pause", save);
    player.addEventListener("ended", function () { put(key, null); });
    window.addEventListener("pagehide", save);
  }

  // A saved episode plays its saved file, online too: no second download.
  function useSavedFile(player) {
    var saved = get("radio:saved:" + player.getAttribute("data-guid"));
    if (!saved || !usable) return;
    var frag = (player.querySelector("source") || { getAttribute: function () { return ""; } })
      .getAttribute("src").split("#")[1];
    each(player.querySelectorAll("source"), function (s) { player.removeChild(s); });
    var source = document.createElement("source");
    source.src = saved.url + (frag ? "#" + frag : "");
    source.type = saved.type;
    player.appendChild(source);
  }

  // --- saving an episode ------------------------------------------------------------------
  function initSave(form) {
    var guid = form.getAttribute("data-guid");
    var choose = form.querySelector(".save-choose"), done = form.querySelector(".save-done");
    var bar = form.querySelector("progress"), status = form.querySelector(".save-status");
    var button = form.querySelector(".save-choose button");

    function show(meta) {
      choose.hidden = !!meta;
      done.hidden = !meta;
      if (meta) {
        done.querySelector("span").textContent = t("savedOffline", "Saved for offline: {label}, {size}.",
          { label: meta.label, size: size(meta.bytes) });
      }
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var input = form.querySelector("input[name=quality]:checked");
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      status.textContent = t("saving", "Saving…");
      var need = +input.getAttribute("data-bytes");
      saveEpisode(form, input, function (got) { bar.value = Math.min(1, got / need); })
        .then(function (meta) { status.textContent = ""; show(meta); })
        .catch(function (err) {
          status.textContent = err && err.name === "QuotaExceededError"
            ? t("noSpace", "There isn't enough space on this device. Nothing was kept.")
            : t("saveFailed", "Couldn't save it: {error}. Nothing was kept.",
              { error: (err && err.message) || err });
        })
        .then(function () { button.disabled = false; bar.hidden = true; });
    });
    done.querySelector("button").addEventListener("click", function () {
      removeEpisode(guid).then(function () { show(null); });
    });
    caches.open(SAVED).then(function (c) { return c.match(metaKey(guid)); })
      .then(function (r) { return r ? r.json() : null; })
      .then(function (meta) {
        if (!meta) put("radio:saved:" + guid, null); // the browser dropped it to make room
        show(meta);
        form.hidden = false;
      });
  }

  function saveEpisode(form, input, onProgress) {
    var guid = form.getAttribute("data-guid");
    var audio = input.getAttribute("data-url"), type = input.getAttribute("data-type");
    var page = location.pathname;
    // the page itself, its transcripts, peaks and chapters, as the template lists them
    var extras = [page].concat((form.getAttribute("data-files") || "").split(" ").filter(Boolean));
    var urls = [audio].concat(extras), total = 0, cache;
    var need = +input.getAttribute("data-bytes");
    var room = navigator.storage && navigator.storage.estimate
      ? navigator.storage.estimate() : Promise.resolve({});
    return room.then(function (est) {
      if (est.quota && est.quota - est.usage < need) {
        var full = new Error("full");
        full.name = "QuotaExceededError";
        throw full;
      }
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
      return caches.open(SAVED);
    }).then(function (c) {
      cache = c;
      return fetch(audio, { credentials: "same-origin" });
    }).then(function (r) {
      if (!r.ok) throw new Error("the archive answered " + r.status);
      return cache.put(audio, new Response(counted(r.body, function (n) {
        total = n;
        onProgress(n);
      }), { headers: {
        "Content-Type": type.split(";")[0],
        "Content-Length": r.headers.get("Content-Length") || String(need),
      } }));
    }).then(function () {
      return Promise.all(extras.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) return; // no peaks yet: the rest is still worth keeping
          return r.clone().blob().then(function (b) {
            total += b.size;
            return cache.put(url, r);
          });
        });
      }));
    }).then(function () {
      var meta = {
        guid: guid, title: form.getAttribute("data-title"), show: form.getAttribute("data-show"),
        page: page, audio: audio, type: type, urls: urls, bytes: total,
        label: input.getAttribute("data-label"), saved: new Date().toISOString(),
      };
      put("radio:saved:" + guid, { url: audio, type: type });
      return cache.put(metaKey(guid), new Response(JSON.stringify(meta), {
        headers: { "Content-Type": "application/json" },
      })).then(function () { return meta; });
    }).catch(function (err) {
      return Promise.all(urls.map(function (u) { return cache && cache.delete(u); }))
        .then(function () { throw err; });
    });
  }

  // The audio streams into the cache (never whole in memory), counting bytes on the way.
  function counted(body, onBytes) {
    var reader = body.getReader(), n = 0;
    return new ReadableStream({
      pull: function (ctl) {
        return reader.read().then(function (part) {
          if (part.done) { ctl.close(); return; }
          n += part.value.byteLength;
          onBytes(n);
          ctl.enqueue(part.value);
        });
      },
      cancel: function (why) { return reader.cancel(why); },
    });
  }

  function removeEpisode(guid) {
    return caches.open(SAVED).then(function (cache) {
      return cache.match(metaKey(guid)).then(function (r) { return r ? r.json() : { urls: [] }; })
        .then(function (meta) {
          put("radio:saved:" + guid, null);
          return Promise.all(meta.urls.concat([metaKey(guid)]).map(function (u) {
            return cache.delete(u);
          }));
        });
    });
  }

  function savedEpisodes() {
    return caches.open(SAVED).then(function (cache) {
      return cache.keys().then(function (keys) {
        var prefix = location.origin + savedUrl + "/";
        return Promise.all(keys.filter(function (k) { return k.url.indexOf(prefix) === 0; })
          .map(function (k) { return cache.match(k).then(function (r) { return r.json(); }); }));
      });
    }).then(function (list) {
      return list.sort(function (a, b) { return a.saved < b.saved ? 1 : -1; });
    });
  }

  // --- the Saved page -----------------------------------------------------------------------
  function initSavedPage(box) {
    var list = box.querySelector("ol"), total = box.querySelector(".saved-total");
    var empty = box.querySelector(".saved-empty");
    function render() {
      savedEpisodes().then(function (items) {
        list.innerHTML = "";
        var bytes = 0;
        items.forEach(function (m) {
          bytes += m.bytes;
          var li = document.createElement("li"), a = document.createElement("a");
          var info = document.createElement("small"), remove = document.createElement("button");
          var at = get("radio:pos:" + m.guid);
          a.href = m.page + (at ? "?t=" + at.t + "#t=" + at.t : "");
          a.textContent = m.title;
          info.textContent = [m.show, m.label, size(m.bytes),
            at ? "stopped at " + clock(at.t) : ""].filter(Boolean).join(" · ");
          remove.type = "button";
          remove.className = "link";
          remove.textContent = t("remove", "Remove");
          remove.setAttribute("aria-label", t("removeTitle", "Remove {title}", { title: m.title }));
          remove.addEventListener("click", function () { removeEpisode(m.guid).then(render); });
          li.appendChild(a);
          li.appendChild(info);
          li.appendChild(remove);
          list.appendChild(li);
        });
        empty.hidden = items.length > 0;
        list.hidden = !items.length;
        var text = items.length + (items.length === 1 ? " episode, " : " episodes, ") +
          size(bytes) + ".";
        var est = navigator.storage && navigator.storage.estimate
          ? navigator.storage.estimate() : Promise.resolve({});
        return est.then(function (e) {
          if (e.usage !== undefined && e.quota) {
            text += " This archive uses " + size(e.usage) + " of this device, which lets it use" +
              " up to " + size(e.quota) + ".";
          }
          total.textContent = text;
        });
      });
    }
    box.querySelector(".saved-nojs").hidden = true;
    render();
  }

  // --- the offline page: what can still be read -------------------------------------------
  function initOfflinePage(list) {
    caches.open(PAGES).then(function (cache) {
      return cache.keys().then(function (keys) {
        return Promise.all(keys.reverse().map(function (k) {
          return cache.match(k).then(function (r) { return r.text(); }).then(function (html) {
            var m = /<title>([^<]*)<\/title>/.exec(html);
            var doc = new DOMParser().parseFromString(m ? m[1] : k.url, "text/html");
            // "Water committee · Station": the station's name is on every page
            var title = doc.documentElement.textContent.replace(/ · [^·]*$/, "");
            return { url: k.url, title: title };
          });
        }));
      });
    }).then(function (pages) {
      pages.forEach(function (p) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = p.url;
        a.textContent = p.title;
        li.appendChild(a);
        list.appendChild(li);
      });
      list.parentNode.hidden = !pages.length;
    });
  }

  var player = document.getElementById("player");
  if (player) {
    useSavedFile(player);
    rememberProgress(player);
  }
  if (!usable) return;
  window.addEventListener("load", function () {
    var first = !navigator.serviceWorker.controller; // this page came before the worker
    navigator.serviceWorker.register(me.getAttribute("data-sw")).then(function () {
      if (first) return caches.open(PAGES).then(function (c) { return c.add(location.href); });
    }).catch(function () {});
  });
  var form = document.getElementById("save-offline");
  if (form) initSave(form);
  var box = document.getElementById("saved");
  if (box) initSavedPage(box);
  var pages = document.getElementById("kept-pages");
  if (pages) initOfflinePage(pages);
})();
