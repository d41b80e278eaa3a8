// Texts in the reader's language for every script (#15): base.html carries them as JSON
// (radio-strings, made by radio/web/templating.py). radioText(key, fallback, values) looks
// one up, falls back on the English text, and fills its {name} placeholders from values.
(function () {
  "use strict";
  var strings = null;
  window.radioText = function (key, fallback, values) {
    if (strings === null) {
      try { strings = JSON.parse(document.getElementById("radio-strings").textContent) || {}; }
      catch (e) { strings = {}; }
    }
    return String(strings[key] || fallback).replace(/\{(\w+)\}/g, function (m, name) {
      return values && name in values ? values[name] : m;
    });
  };
})();
