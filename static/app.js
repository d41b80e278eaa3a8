/* The archive's one script. Every page works without it; this only adds:
   a compact player (waveform, chapter marks, ±15 s, speed, keys) that the transcript and
   chapters follow, live processing progress, upload progress. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  var t = window.radioText; // static/strings.js

  function timeIn(text) {
    var m = /(?:^|[?&#])t=(\d+(?:\.\d+)?)/.exec(text || "");
    return m ? parseFloat(m[1]) : null;
  }

  function size(n) {
    return n >= 1e9 ? (n / 1e9).toFixed(1) + " GB" : (n / 1e6).toFixed(1) + " MB";
  }

  function clock(t) {
    t = Math.max(0, Math.floor(t || 0));
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : "" + m;
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" : "") + s;
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  var SPEEDS = [0.75, 1, 1.25, 1.5, 2];

  function initPlayer(root) {
    var player = root.querySelector("#player");
    if (!player) return;
    var box = root.querySelector("#transcript");
    var segs = box ? box.querySelectorAll("p[id^='t=']") : [];
    var starts = [];
    each(segs, function (p) { starts.push(parseFloat(p.id.slice(2))); });
    var current = -1, follow = true, touched = 0, pending = 0;
    var chapters = root.querySelectorAll(".chapters li"), chapterStarts = [], chapter = -1;
    var chapterTitles = [];
    each(chapters, function (li, k) {
      var a = li.querySelector("a");
      chapterStarts.push(timeIn(a.getAttribute("href")));
      chapterTitles.push(li.textContent.replace(a.textContent, "").trim());
      if (li.classList.contains("now")) chapter = k;
    });
    var bar = buildBar();

    function markChapter(t) {
      var i = -1;
      for (var k = 0; k < chapterStarts.length; k++) if (chapterStarts[k] <= t + 0.05) i = k;
      if (i === chapter) return;
      if (chapter >= 0) chapters[chapter].classList.remove("now");
      chapter = i;
      if (i >= 0) chapters[i].classList.add("now");
      bar.chapter.textContent = i >= 0 ? chapterTitles[i] : "";
    }

    function highlight(t, scroll) {
      markChapter(t);
      var lo = 0, hi = starts.length - 1, i = -1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (starts[mid] <= t + 0.05) { i = mid; lo = mid + 1; } else { hi = mid - 1; }
      }
      if (i === current) return;
      if (current >= 0) segs[current].classList.remove("now");
      current = i;
      if (i < 0) return;
      segs[i].classList.add("now");
      if (scroll || (follow && !player.paused && Date.now() - touched > 4000)) {
        segs[i].scrollIntoView({ block: "center", behavior: scroll ? "auto" : "smooth" });
      }
    }

    // Where the player is, or will be once its file is loaded (preload="none" until asked).
    function position() { return player.readyState > 0 ? player.currentTime : pending; }

    function duration() {
      var d = player.duration;
      return isFinite(d) && d > 0 ? d : parseFloat(player.getAttribute("data-duration")) || 0;
    }

    function seek(t, play, scroll) {
      var d = duration();
      t = Math.max(0, d ? Math.min(t, d - 0.25) : t);
      pending = t;
      var apply = function () {
        player.currentTime = pending;
        if (play) { var p = player.play(); if (p && p.catch) p.catch(function () {}); }
      };
      if (player.readyState > 0) { apply(); } else {
        player.addEventListener("loadedmetadata", apply, { once: true });
        if (player.preload !== "metadata") {
          player.preload = "metadata";
          player.load();
        }
      }
      highlight(t, scroll !== false);
      bar.show(t);
    }

    function toggle() {
      if (player.paused) { seek(position(), true, false); } else { player.pause(); }
    }

    function setSpeed(rate) {
      player.defaultPlaybackRate = player.playbackRate = rate; // load() resets to the default
      bar.speed.textContent = rate + "×";
      bar.speed.setAttribute("aria-label", t("speed", "Speed {rate}×", { rate: rate }));
      try { localStorage.setItem("radio:rate", rate); } catch (e) { /* private mode */ }
    }

    // The compact player: a bar fixed at the bottom of the screen, so it stays in view
    // wherever the transcript is scrolled; the page gets room for it (--bar-h).
    function buildBar() {
      var el = make("section", "player-bar");
      el.id = "player-bar";
      el.setAttribute("aria-label", t("player", "Player"));
      var info = make("div", "bar-info");
      var time = make("span", "time");
      var chapterName = make("span", "bar-chapter");
      info.appendChild(time);
      info.appendChild(chapterName);
      var wave = make("div", "wave");
      wave.tabIndex = 0;
      wave.setAttribute("role", "slider");
      wave.setAttribute("aria-label", t("position", "Position"));
      wave.setAttribute("aria-valuemin", "0");
      var canvas = make("canvas");
      canvas.setAttribute("aria-hidden", "true");
      wave.appendChild(canvas);
      var controls = make("div", "bar-controls");
      // keys: as shown (translated, "k ou Espace"); shortcuts: the key names themselves
      var button = function (text, label, keys, act, shortcuts) {
        var b = make("button", "", text);
        b.type = "button";
        b.setAttribute("aria-label", label);
        b.title = label + " (" + keys + ")";
        b.setAttribute("aria-keyshortcuts", shortcuts || keys);
        b.addEventListener("click", act);
        controls.appendChild(b);
        return b;
      };
      button("−15", t("back15", "Back 15 seconds"), "j", function () { seek(position() - 15, !player.paused, follow); });
      var play = button("▶\uFE0E", t("play", "Play"), t("playKeys", "k or Space"), toggle, "k Space");
      play.className = "play";
      button("+15", t("forward15", "Forward 15 seconds"), "l", function () { seek(position() + 15, !player.paused, follow); });
      var speed = button("1×", t("speed", "Speed {rate}×", { rate: 1 }), "s", function () {
        setSpeed(SPEEDS[(SPEEDS.indexOf(player.playbackRate) + 1) % SPEEDS.length] || 1);
      });
      speed.className = "speed";
      el.appendChild(info);
      el.appendChild(wave);
      el.appendChild(controls);
      if (box) {
        var label = make("label", "follow");
        label.innerHTML = '<input type="checkbox" checked> Follow the player';
        label.firstChild.addEventListener("change", function (e) { follow = e.target.checked; });
        info.appendChild(label);
      }
      player.controls = false;
      player.hidden = true;
      document.body.appendChild(el);
      document.body.classList.add("has-player");
      var room = function () {
        document.documentElement.style.setProperty("--bar-h", el.offsetHeight + "px");
      };
      room();
      window.addEventListener("resize", function () { room(); draw(); });

      var peaks = [], marks = [];
      each(chapterStarts, function (t, k) {
        var m = make("span", "mark");
        m.setAttribute("aria-hidden", "true");
        m.setAttribute("data-start", t);
        m.title = chapterTitles[k];
        wave.appendChild(m);
        marks.push(m);
      });
      function placeMarks() {
        var d = duration();
        each(marks, function (m, k) {
          m.hidden = !d;
          if (d) m.style.left = (100 * Math.min(1, chapterStarts[k] / d)) + "%";
        });
      }
      placeMarks();

      var drawn = -1;
      function draw(t) {
        if (t === undefined) t = position();
        var w = wave.clientWidth, h = wave.clientHeight, dpr = window.devicePixelRatio || 1;
        if (!w || !h) return;
        if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
        var g = canvas.getContext("2d"), style = getComputedStyle(wave);
        var played = style.getPropertyValue("--played").trim() || "#b3261e";
        var rest = style.getPropertyValue("--unplayed").trim() || "#767676";
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        g.clearRect(0, 0, w, h);
        var d = duration(), at = d ? Math.min(1, t / d) * w : 0, step = 3, n = peaks.length;
        for (var x = 0; x < w; x += step) {
          var v = 0.04;
          if (n) {
            var a = Math.floor(x / w * n), b = Math.max(a + 1, Math.floor((x + step) / w * n));
            for (var i = a; i < b && i < n; i++) if (peaks[i] > v) v = peaks[i];
          }
          var bh = Math.max(2, v * (h - 4));
          g.fillStyle = x + step / 2 <= at ? played : rest;
          g.fillRect(x, (h - bh) / 2, step - 1, bh);
        }
        g.fillStyle = played;
        g.fillRect(Math.min(at, w - 2), 0, 2, h);
        drawn = n;
        canvas.setAttribute("data-drawn", n);
      }

      function show(t) {
        var d = duration();
        time.textContent = clock(t) + " / " + clock(d);
        wave.setAttribute("aria-valuemax", Math.round(d));
        wave.setAttribute("aria-valuenow", Math.round(t));
        wave.setAttribute("aria-valuetext", clock(t) + " of " + clock(d));
        draw(t);
      }

      var peaksUrl = player.getAttribute("data-peaks");
      if (peaksUrl && window.fetch) {
        fetch(peaksUrl, { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (doc) { peaks = doc.peaks || []; draw(); })
          .catch(function () { /* a flat line: the slider works without the picture */ });
      }

      // Click or drag along the waveform to seek; the picture follows the finger, the
      // player jumps once it is let go.
      var dragging = false;
      var timeAt = function (e) {
        var r = wave.getBoundingClientRect();
        return Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) * duration();
      };
      wave.addEventListener("pointerdown", function (e) {
        if (!duration()) return;
        dragging = true;
        if (wave.setPointerCapture) wave.setPointerCapture(e.pointerId);
        show(timeAt(e));
        e.preventDefault();
      });
      wave.addEventListener("pointermove", function (e) { if (dragging) show(timeAt(e)); });
      var release = function (e) {
        if (!dragging) return;
        dragging = false;
        seek(timeAt(e), !player.paused, follow);
      };
      wave.addEventListener("pointerup", release);
      wave.addEventListener("pointercancel", function () { dragging = false; show(position()); });
      wave.addEventListener("keydown", function (e) {
        var step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -60, PageUp: 60 }[e.key];
        var to = step !== undefined ? position() + step : e.key === "Home" ? 0 : e.key === "End" ? duration() : null;
        if (to === null) return;
        e.preventDefault();
        e.stopPropagation();
        seek(to, !player.paused, follow);
      });
      ["play", "pause"].forEach(function (type) {
        player.addEventListener(type, function () {
          var playing = !player.paused;
          play.textContent = playing ? "❚❚" : "▶\uFE0E";
          var said = playing ? t("pause", "Pause") : t("play", "Play");
          play.setAttribute("aria-label", said);
          play.title = said + " (" + t("playKeys", "k or Space") + ")";
          el.classList.toggle("playing", playing);
        });
      });
      player.addEventListener("loadedmetadata", function () { placeMarks(); show(position()); });
      player.addEventListener("timeupdate", function () { if (!dragging) show(player.currentTime); });
      return { show: show, speed: speed, chapter: chapterName, draw: draw };
    }

    // Keys anywhere on the page but in a field: k or Space play and pause, j and l go back
    // and forward 15 s, s changes the speed (the buttons say so in their titles).
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      var el = e.target, tag = el && el.tagName;
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || (el && el.isContentEditable)) return;
      var inDialog = el && el.closest && el.closest("dialog");
      if (inDialog) return;
      if (e.key === " " && /^(BUTTON|A|SUMMARY)$/.test(tag)) return; // Space presses those
      var act = {
        " ": toggle, k: toggle,
        j: function () { seek(position() - 15, !player.paused, follow); },
        l: function () { seek(position() + 15, !player.paused, follow); },
        s: function () { bar.speed.click(); },
      }[e.key];
      if (!act) return;
      e.preventDefault();
      act();
    });

    player.addEventListener("timeupdate", function () { highlight(player.currentTime, false); });
    ["wheel", "touchmove", "keydown"].forEach(function (type) {
      window.addEventListener(type, function () { touched = Date.now(); }, { passive: true });
    });
    root.addEventListener("click", function (e) {
      var a = e.target.closest ? e.target.closest("a[href^='?t=']") : null;
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
      var t = timeIn(a.getAttribute("href"));
      if (t === null) return;
      e.preventDefault();
      history.replaceState(null, "", location.pathname + "#t=" + t);
      seek(t, true);
    });
    window.addEventListener("hashchange", function () {
      var t = timeIn(location.hash);
      if (t !== null) seek(t, false);
    });
    var rate = 1;
    try { rate = parseFloat(localStorage.getItem("radio:rate")) || 1; } catch (e) { /* none */ }
    setSpeed(SPEEDS.indexOf(rate) >= 0 ? rate : 1);
    var start = timeIn(location.search);
    if (start === null) start = timeIn(location.hash);
    if (start !== null) { seek(start, false); } else { bar.show(0); }
  }

  function initJobs(root) {
    each(root.querySelectorAll("[data-progress]"), function (job) {
      var url = job.getAttribute("data-progress");
      var field = function (name) { return job.querySelector("[data-field=" + name + "]"); };
      var show = function (name, text, visible) {
        var el = field(name);
        if (!el) return;
        if (text !== null) el.textContent = text;
        if (visible !== undefined) el.hidden = !visible;
      };
      function tick() {
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (d) {
            var bar = job.querySelector("progress");
            if (bar) bar.value = d.progress;
            show("percent", Math.round(d.progress * 100) + "%");
            show("status", d.status);
            show("step", d.status === "processing" ? ": " + d.step_label : "");
            show("error", d.error || "", !!d.error);
            show("done", null, d.status === "ready");
            job.setAttribute("data-status", d.status);
            if (d.status === "queued" || d.status === "processing") setTimeout(tick, 1500);
          })
          .catch(function () { setTimeout(tick, 5000); });
      }
      tick();
    });
  }

  function initUpload(root) {
    var form = root.querySelector("#upload");
    if (!form || !window.FormData) return;
    var input = form.querySelector("input[type=file]");
    var chosen = form.querySelector("#chosen");
    var bar = form.querySelector("#upload-progress");
    var status = form.querySelector("#upload-status");
    var button = form.querySelector("button");
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    var total = function () {
      var n = 0;
      each(input.files, function (f) { n += f.size; });
      return n;
    };
    input.addEventListener("change", function () {
      chosen.innerHTML = "";
      each(input.files, function (f) {
        var li = document.createElement("li");
        li.textContent = f.name + " (" + size(f.size) + ")";
        if (f.size > max) {
          li.className = "refused";
          li.textContent = t("fileTooLarge", "{file}: larger than the limit of {limit}.",
            { file: li.textContent, limit: size(max) });
        }
        chosen.appendChild(li);
      });
      chosen.hidden = !input.files.length;
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (total() > max) {
        status.textContent = t("uploadTooLarge",
          "These files add up to {total}, over the limit of {limit}. Send fewer at once.",
          { total: size(total()), limit: size(max) });
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        bar.value = ev.loaded / ev.total;
        status.textContent = t("uploadProgress", "{percent}% sent ({sent} of {total})", {
          percent: Math.floor(100 * ev.loaded / ev.total), sent: size(ev.loaded), total: size(ev.total)
        });
      };
      xhr.upload.onload = function () { status.textContent = t("uploadSent", "Sent. Checking the recordings…"); };
      xhr.onload = function () {
        var main = xhr.response && xhr.response.getElementById("main");
        if (!main) {
          status.textContent = t("uploadAnswered", "The archive answered {status}; try again.", { status: xhr.status });
          button.disabled = false;
          return;
        }
        var old = document.getElementById("main");
        old.parentNode.replaceChild(document.importNode(main, true), old);
        if (xhr.response.title) document.title = xhr.response.title;
        init(document.getElementById("main"));
      };
      xhr.onerror = function () {
        status.textContent = t("uploadBroke", "The connection broke off, so nothing was stored. Try again.");
        button.disabled = false;
      };
      bar.hidden = false;
      button.disabled = true;
      status.textContent = t("uploadSending", "Sending…");
      xhr.send(new FormData(form));
    });
  }

  function init(root) {
    initPlayer(root);
    initJobs(root);
    initUpload(root);
  }

  init(document);
})();
