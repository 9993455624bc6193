// The live view: poll for a newer run, then swap the changed parts of the page in place.
// A past view (data-live="0") never polls; it always shows the same run.
(function () {
  "use strict";
  var body = document.body;
  var SWAPPED = ["nav", "bars", "main"];

  function pollMs() {
    return window.hfPollMs || 10000;
  }

  function clock(date) {
    return date.toISOString().slice(11, 19) + " UTC";
  }

  function markUpdated() {
    var el = document.getElementById("updated");
    if (el) el.textContent = "updated " + clock(new Date());
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var x = window.scrollX, y = window.scrollY;
    SWAPPED.forEach(function (id) {
      var now = document.getElementById(id), next = fresh.getElementById(id);
      if (now && next) now.innerHTML = next.innerHTML;
    });
    body.dataset.run = fresh.body.dataset.run || body.dataset.run;
    // the tab shows the worst status too: its title and icon follow the fresh page
    if (fresh.title) document.title = fresh.title;
    var icon = document.querySelector("link[rel=icon]"), freshIcon = fresh.querySelector("link[rel=icon]");
    if (icon && freshIcon) icon.setAttribute("href", freshIcon.getAttribute("href"));
    window.scrollTo(x, y);  // same layout as before: the reader stays where they were
    markUpdated();
    document.dispatchEvent(new CustomEvent("hf:swap", { detail: { root: document.getElementById("main") } }));
  }

  // a half-filled form (an acknowledgement being typed) must not be swapped away
  function editing() {
    var fields = document.querySelectorAll("#main textarea, #main input:not([type=hidden])");
    return Array.prototype.some.call(fields, function (f) { return f.value !== f.defaultValue; });
  }

  function check() {
    if (document.hidden || editing()) return schedule();
    var url = body.dataset.liveUrl + "?run=" + encodeURIComponent(body.dataset.run || "");
    fetch(url, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (info) {
        if (!info || !info.changed || info.run === null) return null;
        return fetch(window.location.href, { cache: "no-store" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html) swap(html); });
      })
      .catch(function () { /* the server is restarting: try again at the next tick */ })
      .then(schedule);
  }

  function schedule() {
    window.setTimeout(check, pollMs());
  }

  function waitForFirstRun(box) {
    fetch(box.dataset.waitUrl, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (info) {
        if (info && info.run !== null) window.location.reload();
        else window.setTimeout(function () { waitForFirstRun(box); }, pollMs());
      })
      .catch(function () { window.setTimeout(function () { waitForFirstRun(box); }, pollMs()); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var waiting = document.querySelector("[data-wait-url]");
    if (waiting) return waitForFirstRun(waiting);
    if (body.dataset.live !== "1" || !body.dataset.liveUrl) return;
    markUpdated();
    schedule();
  });
})();
