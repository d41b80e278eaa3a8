// The edit page's chapters (#15): "Now" beside each start takes the player's current time,
// and "Play" plays from a chapter's start. Without JavaScript the times are typed.
(function () {
  "use strict";

  // Texts in the reader's language, from base.html's radio-strings (radio/web/templating.py);
  // the English fallback if a page has none. {name} placeholders are filled from values.
  var strings = null;
  function t(key, fallback, values) {
    if (strings === null) {
      try { strings = JSON.parse(document.getElementById("radio-strings").textContent) || {}; }
      catch (e) { strings = {}; }
    }
    return String(strings[key] || fallback).replace(/\{(\w+)\}/g, function (m, name) {
      return values && name in values ? values[name] : m;
    });
  }
  var player = document.getElementById("edit-player");
  var form = document.getElementById("chapters-form");
  if (!player || !form) return;

  function clock(seconds) {
    var whole = Math.floor(seconds);
    var h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
    var ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + (m < 10 ? "0" : "") + m + ":" + ss : m + ":" + ss;
  }

  function seconds(text) {
    var parts = text.trim().split(":").map(Number);
    if (!parts.length || parts.some(isNaN)) return null;
    return parts.reduce(function (total, part) { return total * 60 + part; }, 0);
  }

  function button(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "chapter-now";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  form.querySelectorAll("input[data-chapter-time]").forEach(function (input) {
    var name = input.getAttribute("data-chapter-time") || t("thisChapter", "this chapter");
    var now = button(t("now", "Now"), t("nowTitle", "Now: use the player's current time for {name}", { name: name }), function () {
      input.value = clock(player.currentTime || 0);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    var play = button(t("play", "Play"), t("playFrom", "Play from the start of {name}", { name: name }), function () {
      var at = seconds(input.value);
      if (at === null) return;
      player.currentTime = at;
      player.play();
    });
    input.parentNode.after(now, play);
  });
})();
