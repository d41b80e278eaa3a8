/* The archive's one script. Every page works without it; this only adds:
   the player following the transcript and chapters, live processing progress, upload progress. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function timeIn(text) {
    var m = /(?:^|[?&#])t=(\d+(?:\.\d+)?)/.exec(text || "");
    return m ? parseFloat(m[1]) : null;
  }

  function size(n) {
    return n >= 1e9 ? (n / 1e9).toFixed(1) + " GB" : (n / 1e6).toFixed(1) + " MB";
  }

  function initPlayer(root) {
    var player = root.querySelector("#player");
    if (!player) return;
    var box = root.querySelector("#transcript");
    var segs = box ? box.querySelectorAll("p[id^='t=']") : [];
    var starts = [];
    each(segs, function (p) { starts.push(parseFloat(p.id.slice(2))); });
    var current = -1, follow = true, touched = 0;
    var chapters = root.querySelectorAll(".chapters li"), chapterStarts = [], chapter = -1;
    each(chapters, function (li, k) {
      chapterStarts.push(timeIn(li.querySelector("a").getAttribute("href")));
      if (li.classList.contains("now")) chapter = k;
    });

    function markChapter(t) {
      var i = -1;
      for (var k = 0; k < chapterStarts.length; k++) if (chapterStarts[k] <= t + 0.05) i = k;
      if (i === chapter) return;
      if (chapter >= 0) chapters[chapter].classList.remove("now");
      chapter = i;
      if (i >= 0) chapters[i].classList.add("now");
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

    function seek(t, play) {
      var apply = function () {
        player.currentTime = t;
        if (play) { var p = player.play(); if (p && p.catch) p.catch(function () {}); }
      };
      if (player.readyState > 0) { apply(); } else {
        player.addEventListener("loadedmetadata", apply, { once: true });
        player.preload = "metadata";
        player.load();
      }
      highlight(t, true);
    }

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
    if (box) {
      var label = document.createElement("label");
      label.className = "follow";
      label.innerHTML = '<input type="checkbox" checked> Follow the player';
      label.firstChild.addEventListener("change", function (e) { follow = e.target.checked; });
      box.parentNode.insertBefore(label, box);
    }
    var start = timeIn(location.search);
    if (start === null) start = timeIn(location.hash);
    if (start !== null) seek(start, false);
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
          li.textContent += ": larger than the limit of " + size(max) + ".";
        }
        chosen.appendChild(li);
      });
      chosen.hidden = !input.files.length;
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (total() > max) {
        status.textContent = "These files add up to " + size(total()) + ", over the limit of " +
          size(max) + ". Send fewer at once.";
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        bar.value = ev.loaded / ev.total;
        status.textContent = Math.floor(100 * ev.loaded / ev.total) + "% sent (" +
          size(ev.loaded) + " of " + size(ev.total) + ")";
      };
      xhr.upload.onload = function () { status.textContent = "Sent. Checking the recordings…"; };
      xhr.onload = function () {
        var main = xhr.response && xhr.response.getElementById("main");
        if (!main) {
          status.textContent = "The archive answered " + xhr.status + "; try again.";
          button.disabled = false;
          return;
        }
        var old = document.getElementById("main");
        old.parentNode.replaceChild(document.importNode(main, true), old);
        if (xhr.response.title) document.title = xhr.response.title;
        init(document.getElementById("main"));
      };
      xhr.onerror = function () {
        status.textContent = "The connection broke off, so nothing was stored. Try again.";
        button.disabled = false;
      };
      bar.hidden = false;
      button.disabled = true;
      status.textContent = "Sending…";
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
