// The live view: poll for a newer run, then swap the changed parts of the page in place.
// A past view (data-live="0") never polls; it always shows the same run.
// When the server cannot be reached (a restart, a lost network) the page keeps what it shows,
// says since when the connection is lost (in #connection, where the page has one) and keeps
// asking; the wall (data-wall="1") also shows its categories a screenful at a time.
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

  var lostSince = null;

  function connection(ok) {
    var el = document.getElementById("connection");
    if (ok) {
      lostSince = null;
      if (el) el.hidden = true;
      return;
    }
    if (lostSince === null) lostSince = new Date();
    if (el) {
      el.textContent = "Connection lost since " + clock(lostSince) + " · retrying";
      el.hidden = false;
    }
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
    if (fresh.body.dataset.stale !== undefined) body.dataset.stale = fresh.body.dataset.stale;
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
        connection(info !== null);
        // a page that says whether its data is old is fetched again when that changes
        var staleNow = info && body.dataset.stale !== undefined &&
          (body.dataset.stale === "1") !== Boolean(info.stale);
        if (!info || info.run === null || !(info.changed || staleNow)) return null;
        return fetch(window.location.href, { cache: "no-store" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html) swap(html); });
      })
      .catch(function () { connection(false); /* restarting or offline: ask again soon */ })
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

  // -- the wall: one screenful of categories at a time -------------------------------------

  var wallPage = 0;

  function wallCycleMs() {
    return window.hfWallCycleMs || 12000;
  }

  // which screenful each category card falls on, measured with every card shown
  function wallPages() {
    var cards = Array.prototype.slice.call(document.querySelectorAll(".wall-cat"));
    cards.forEach(function (c) { c.hidden = false; });
    var list = document.querySelector(".wall-cats");
    if (!list || !cards.length) return [];
    var room = window.innerHeight - list.getBoundingClientRect().top;
    var pages = [], start = null;
    cards.forEach(function (card) {
      var box = card.getBoundingClientRect();
      if (start === null || box.bottom - start > room) {
        pages.push([]);
        start = box.top;
      }
      pages[pages.length - 1].push(card);
    });
    return pages;
  }

  function showWallPage() {
    var pages = wallPages();
    var label = document.getElementById("wall-page");
    if (pages.length < 2) {
      if (label) label.textContent = "";
      return;
    }
    wallPage = wallPage % pages.length;
    pages.forEach(function (cards, i) {
      cards.forEach(function (c) { c.hidden = i !== wallPage; });
    });
    if (label) label.textContent = "page " + (wallPage + 1) + " of " + pages.length;
  }

  function cycleWall() {
    wallPage += 1;
    showWallPage();
    window.setTimeout(cycleWall, wallCycleMs());
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (body.dataset.wall === "1") {
      showWallPage();
      document.addEventListener("hf:swap", showWallPage);
      window.addEventListener("resize", showWallPage);
      window.setTimeout(cycleWall, wallCycleMs());
    }
    var waiting = document.querySelector("[data-wait-url]");
    if (waiting) return waitForFirstRun(waiting);
    if (body.dataset.live !== "1" || !body.dataset.liveUrl) return;
    markUpdated();
    schedule();
  });
})();
