// The edit page's chapters (#15): "Now" beside each start takes the player's current time,
// and "Play" plays from a chapter's start. Without JavaScript the times are typed.
(function () {
  "use strict";

  var t = window.radioText; // static/strings.js
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
