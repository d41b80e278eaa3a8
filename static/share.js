/* Share a moment (#14), on the episode page only. Without it the page's plain form still
   downloads a voice note and every transcript time is a link; this adds:
   - a span from the transcript (select words: whole segments, from data-end) or from the
     player ("Start here", "End here"), at most two minutes;
   - a dialog with a link that opens the episode at that second (copy, or the Web Share API
     where the browser has it), the voice note (download, or send it as a file), and for
     editors "Mark as soundbite". */
(function () {
  "use strict";

  var t = window.radioText; // static/strings.js
  var MAX = 120; // seconds: radio/web/share.py's MAX_SECONDS
  var DEFAULT = 30; // a span started from the player with no end yet
  var dialog = document.getElementById("share-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return; // the plain form stays
  var $ = function (id) { return document.getElementById(id); };
  var player = $("player"), box = $("transcript"), bar = $("share-bar");
  var from = $("share-from"), to = $("share-to"), link = $("share-link"), clip = $("share-clip");
  var status = $("share-status"), length = $("share-length"), pick = $("share-selection");
  var duration = parseFloat(dialog.getAttribute("data-duration")) || Infinity;
  var title = dialog.getAttribute("data-title") || document.title;
  var marked = null; // "Start here" time
  var opener = null;
  // "Suggest a correction" (#16): the page's one link, offered in the dialog at the moment
  var suggest = document.querySelector(".suggest a"), fix = null;
  if (suggest) {
    fix = document.createElement("a");
    fix.textContent = suggest.textContent; // the page's words, already translated
    fix.rel = "nofollow";
    var fixLine = document.createElement("p");
    fixLine.className = "share-suggest";
    fixLine.appendChild(fix);
    status.parentNode.insertBefore(fixLine, status);
  }

  function tenth(s) { return Math.round(s * 10) / 10; }

  function clockText(s) {
    s = tenth(s);
    var m = Math.floor(s / 60), r = tenth(s - m * 60);
    var text = r.toFixed(1).replace(/\.0$/, "");
    return m + ":" + (r < 10 ? "0" : "") + text;
  }

  function parseTime(text) {
    var parts = String(text || "").trim().split(":");
    if (!parts[0] || parts.length > 3) return null;
    var s = 0;
    for (var i = 0; i < parts.length; i++) {
      if (!/^\d+(\.\d+)?$/.test(parts[i])) return null;
      s = s * 60 + parseFloat(parts[i]);
    }
    return s;
  }

  function say(text) { status.textContent = text || ""; }

  function span() {
    var s = parseTime(from.value), e = parseTime(to.value);
    if (s === null || e === null) return { error: t("timesFormat", "Give times as minutes:seconds, e.g. 1:05.") };
    if (e <= s) return { error: t("endAfterStart", "The end must come after the start.") };
    if (e - s > MAX + 0.05) return { error: t("noteTooLong", "A voice note is at most 2 minutes; shorten it.") };
    if (s >= duration) return { error: t("episodeEndsAt", "The episode ends at {time}.", { time: clockText(duration) }) };
    return { start: tenth(s), end: tenth(Math.min(e, duration)) };
  }

  function update() {
    var sp = span(), ok = !sp.error;
    length.textContent = ok ? t("seconds", "{n} seconds", { n: Math.round(sp.end - sp.start) }) : sp.error;
    length.classList.toggle("error", !ok);
    clip.setAttribute("aria-disabled", ok ? "false" : "true");
    if (!ok) return;
    var at = String(sp.start);
    link.value = location.origin + location.pathname + "?t=" + at + "#t=" + at;
    clip.href = dialog.getAttribute("data-clip") + "?from=" + sp.start + "&to=" + sp.end;
    if (fix) fix.href = suggest.pathname + "?t=" + at;
    if ($("share-bite-from")) {
      $("share-bite-from").value = sp.start;
      $("share-bite-to").value = sp.end;
    }
  }

  function open(start, end, note) {
    start = Math.max(0, start);
    end = Math.min(end, duration);
    if (end - start > MAX) {
      end = start + MAX;
      note = t("shortened", "Shortened to 2 minutes, the longest a voice note may be.");
    }
    from.value = clockText(start);
    to.value = clockText(end);
    say(note);
    update();
    opener = document.activeElement;
    dialog.showModal();
    link.focus();
    link.select();
  }

  // --- the dialog ---
  from.addEventListener("input", update);
  to.addEventListener("input", update);
  $("share-close").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () {
    if (opener && opener.focus) opener.focus();
  });

  $("share-copy").addEventListener("click", function () {
    var done = function () { say(t("linkCopied", "Link copied.")); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link.value).then(done, copyBySelection);
    } else {
      copyBySelection();
    }
    function copyBySelection() { // plain http on the station's Wi-Fi has no clipboard API
      link.focus();
      link.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? t("linkCopied", "Link copied.") : t("selectLink", "Select the link and copy it."));
    }
  });

  if (navigator.share) {
    var native = $("share-native");
    native.hidden = false;
    native.addEventListener("click", function () {
      navigator.share({ title: title, url: link.value }).catch(function () {});
    });
  }

  function fetchClip() {
    say(t("makingNote", "Making the voice note…"));
    return fetch(clip.href, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.ok) {
          var header = r.headers.get("Content-Disposition") || "";
          var m = /filename="([^"]+)"/.exec(header);
          return r.blob().then(function (b) {
            return { blob: b, name: m ? m[1] : "moment.opus" };
          });
        }
        return r.json().then(
          function (d) { throw new Error(d.error && d.error.detail); },
          function () { throw new Error(t("noteRefused", "The archive could not make it ({status}).", { status: r.status })); }
        );
      });
  }

  clip.addEventListener("click", function (e) {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (span().error) { say(span().error); return; }
    fetchClip().then(function (got) {
      var url = URL.createObjectURL(got.blob), a = document.createElement("a");
      a.href = url;
      a.download = got.name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      say(t("noteDownloaded", "Voice note downloaded ({size} KB).", { size: Math.round(got.blob.size / 1000) }));
    }).catch(function (err) { say(err.message || t("noteFailed", "The voice note could not be made.")); });
  });

  var probe = window.File && new File([""], "x.opus", { type: "audio/ogg" });
  if (navigator.canShare && probe && navigator.canShare({ files: [probe] })) {
    var send = $("share-clip-native");
    send.hidden = false;
    send.addEventListener("click", function () {
      if (span().error) { say(span().error); return; }
      fetchClip().then(function (got) {
        var file = new File([got.blob], got.name, { type: "audio/ogg" });
        say("");
        return navigator.share({ files: [file], title: title });
      }).catch(function (err) { if (err && err.name !== "AbortError") say(err.message); });
    });
  }

  // --- a span from the transcript: the segments the selection touches ---
  function selectedSpan() {
    var sel = window.getSelection();
    if (!box || !sel || sel.isCollapsed || !sel.rangeCount) return null;
    var range = sel.getRangeAt(0);
    if (!box.contains(range.commonAncestorContainer)) return null;
    var first = null, last = null;
    Array.prototype.forEach.call(box.querySelectorAll("p[id^='t=']"), function (p) {
      if (range.intersectsNode(p)) { first = first || p; last = p; }
    });
    if (!first) return null;
    var end = parseFloat(last.getAttribute("data-end"));
    return { start: parseFloat(first.id.slice(2)), end: isNaN(end) ? duration : end };
  }

  if (box && pick) {
    document.addEventListener("selectionchange", function () {
      pick.hidden = !selectedSpan();
    });
    pick.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the selection
    pick.addEventListener("click", function () {
      var sp = selectedSpan();
      if (sp) open(sp.start, sp.end);
    });
  }

  // --- a span from the player ---
  if (player && bar) {
    var mark = bar.querySelector(".share-mark");
    bar.hidden = false;
    var plain = $("share-moment");
    if (plain) plain.hidden = true; // the dialog does what its form did
    bar.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("button[data-share]") : null;
      if (!button) return;
      var now = player.currentTime || 0, what = button.getAttribute("data-share");
      if (what === "start") {
        marked = now;
        mark.textContent = t("startsAt", "Starts at {time}; press End here where it ends.", { time: clockText(now) });
      } else if (what === "end") {
        var start = marked !== null && marked < now ? marked : Math.max(0, now - DEFAULT);
        marked = null;
        mark.textContent = "";
        open(start, now);
      } else {
        open(marked !== null ? marked : now, (marked !== null ? marked : now) + DEFAULT);
      }
    });
  }
})();
