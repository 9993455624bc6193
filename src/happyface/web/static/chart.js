// A small interactive SVG chart: several curves on one time axis, values on hover, drag to
// zoom. It reads the same JSON as /plot.json; a status curve is drawn as a band below.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 800, H = 300, M = { l: 64, r: 14, t: 12, b: 30 }, BAND = 16;
  var COLORS = ["#2f6fdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#0c8599", "#b08800", "#c2255c", "#5c7cfa"];
  // a dash pattern per curve, so curves differ without relying on colour
  var DASHES = ["", "7 4", "2 3", "10 3 2 3", "1 3", "12 6", "4 2 1 2", "6 2"];

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function iso(ms) { return new Date(ms).toISOString().slice(0, 19) + "Z"; }

  function timeLabel(ms, span) {
    var s = new Date(ms).toISOString();
    if (span > 3 * 86400000) return s.slice(5, 10);
    if (span > 86400000) return s.slice(5, 10) + " " + s.slice(11, 16);
    return s.slice(11, 16);
  }

  function number(v) {
    if (v === null || v === undefined) return "–";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    return String(Math.round(v * 1000) / 1000);
  }

  function ticks(lo, hi, count) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count || 1)));
    [1, 2, 5, 10].some(function (m) {
      if ((hi - lo) / (step * m) <= count) { step *= m; return true; }
      return false;
    });
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }

  function yRange(curves) {
    var lo = Infinity, hi = -Infinity;
    curves.forEach(function (c) {
      c.points.forEach(function (p) { lo = Math.min(lo, p[2], p[1]); hi = Math.max(hi, p[3], p[1]); });
    });
    if (lo === Infinity) return [0, 1];
    if (lo === hi) { lo -= 1; hi += 1; }
    var pad = (hi - lo) * 0.05;
    return [lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad];
  }

  function nearest(points, t) {
    var a = 0, b = points.length - 1;
    if (b < 0) return null;
    while (b - a > 1) {
      var mid = (a + b) >> 1;
      if (points[mid][0] < t) a = mid; else b = mid;
    }
    return Math.abs(points[a][0] - t) <= Math.abs(points[b][0] - t) ? points[a] : points[b];
  }

  function statusAt(segments, t) {
    for (var i = 0; i < segments.length; i++) {
      if (segments[i][0] <= t && t < segments[i][1]) return segments[i][2];
    }
    return "no data";
  }

  function draw(fig, data) {
    fig.querySelectorAll(":scope > svg, .tip, .legend, .empty").forEach(function (n) { n.remove(); });
    var metrics = data.curves.filter(function (c) { return c.kind === "metric"; });
    var statuses = data.curves.filter(function (c) { return c.kind === "status"; });
    var x0 = data.from_ms, x1 = data.to_ms, span = x1 - x0;
    var bandsTop = H - M.b - statuses.length * (BAND + 4);
    var plotBottom = statuses.length ? bandsTop - 6 : H - M.b;
    var yr = yRange(metrics);
    function sx(t) { return M.l + (t - x0) / span * (W - M.l - M.r); }
    function sy(v) { return plotBottom - (v - yr[0]) / (yr[1] - yr[0]) * (plotBottom - M.t); }

    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": data.curves.map(function (c) { return c.label; }).join(", ") });
    var grid = el("g", { "class": "grid" }, svg), axis = el("g", { "class": "axis" }, svg);
    if (metrics.length) {
      ticks(yr[0], yr[1], 5).forEach(function (v) {
        el("line", { x1: M.l, x2: W - M.r, y1: sy(v), y2: sy(v) }, grid);
        el("text", { x: M.l - 6, y: sy(v) + 4, "text-anchor": "end" }, axis).textContent = number(v);
      });
    }
    timeTicks(x0, x1).forEach(function (t) {
      el("line", { x1: sx(t), x2: sx(t), y1: M.t, y2: H - M.b }, grid);
    });
    timeTicks(x0, x1).forEach(function (t) {
      el("text", { x: sx(t), y: H - M.b + 16, "text-anchor": "middle" }, axis).textContent = timeLabel(t, span);
    });
    metrics.forEach(function (c, i) {
      if (!c.points.length) return;
      var d = c.points.map(function (p, j) { return (j ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1); }).join("");
      el("path", { d: d, "class": "curve", fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 1.8,
        "stroke-dasharray": DASHES[i % DASHES.length], "data-points": c.points.length }, svg);
    });
    statuses.forEach(function (c, i) {
      var y = bandsTop + i * (BAND + 4);
      c.segments.forEach(function (s) {
        var r = el("rect", { x: sx(s[0]), y: y, width: Math.max(sx(s[1]) - sx(s[0]), 0.5), height: BAND,
          "class": "seg s-" + s[2] }, svg);
        el("title", {}, r).textContent = c.label + ": " + s[2];
      });
    });
    fig.insertBefore(svg, fig.querySelector("figcaption"));
    legend(fig, data, metrics, statuses);
    var total = data.curves.reduce(function (n, c) { return n + (c.points ? c.points.length : c.segments.length); }, 0);
    if (!total) addText(fig, "empty", "No data in this interval.");
    interact(fig, svg, metrics, statuses, x0, span);
  }

  function timeTicks(x0, x1) {
    var hour = 3600000, span = x1 - x0;
    var steps = [60000, 300000, 900000, hour, 3 * hour, 6 * hour, 12 * hour, 24 * hour, 7 * 24 * hour, 30 * 24 * hour, 365 * 24 * hour];
    var step = steps.find(function (s) { return span / s <= 7; }) || steps[steps.length - 1];
    var out = [];
    for (var t = Math.ceil(x0 / step) * step; t <= x1; t += step) out.push(t);
    return out;
  }

  function addText(fig, cls, text) {
    var p = document.createElement("p");
    p.className = cls;
    p.textContent = text;
    fig.insertBefore(p, fig.querySelector("figcaption"));
    return p;
  }

  function legend(fig, data, metrics, statuses) {
    var ul = document.createElement("ul");
    ul.className = "legend plain";
    metrics.forEach(function (c, i) {
      var li = document.createElement("li");
      var sw = el("svg", { width: 28, height: 10, "aria-hidden": "true" });
      el("line", { x1: 0, x2: 28, y1: 5, y2: 5, stroke: COLORS[i % COLORS.length], "stroke-width": 2.5,
        "stroke-dasharray": DASHES[i % DASHES.length] }, sw);
      li.appendChild(sw);
      li.appendChild(document.createTextNode(" " + c.label + " (" + c.points.length + " points)"));
      ul.appendChild(li);
    });
    statuses.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = "▭ " + c.label + " (band below the curves)";
      ul.appendChild(li);
    });
    fig.insertBefore(ul, fig.querySelector("figcaption"));
  }

  function interact(fig, svg, metrics, statuses, x0, span) {
    var tip = addText(fig, "tip", "");
    tip.setAttribute("aria-live", "polite");
    var line = el("line", { "class": "hoverline", y1: M.t, y2: H - M.b, visibility: "hidden" }, svg);
    var box = el("rect", { "class": "zoombox", y: M.t, height: H - M.b - M.t, visibility: "hidden" }, svg);
    var start = null;
    function toX(e) {
      var r = svg.getBoundingClientRect();
      return (e.clientX - r.left) * W / r.width;
    }
    function toT(x) { return x0 + (x - M.l) / (W - M.l - M.r) * span; }
    svg.addEventListener("pointermove", function (e) {
      var x = Math.max(M.l, Math.min(W - M.r, toX(e))), t = toT(x);
      line.setAttribute("x1", x); line.setAttribute("x2", x); line.setAttribute("visibility", "visible");
      var parts = metrics.map(function (c) {
        var p = nearest(c.points, t);
        return c.label + " = " + (p ? number(p[1]) : "–");
      }).concat(statuses.map(function (c) { return c.label + " = " + statusAt(c.segments, t); }));
      tip.textContent = iso(t).replace("T", " ") + ": " + parts.join("; ");
      if (start !== null) {
        box.setAttribute("x", Math.min(start, x)); box.setAttribute("width", Math.abs(x - start));
      }
    });
    svg.addEventListener("pointerleave", function () { line.setAttribute("visibility", "hidden"); });
    svg.addEventListener("pointerdown", function (e) {
      start = Math.max(M.l, toX(e));
      box.setAttribute("x", start); box.setAttribute("width", 0); box.setAttribute("visibility", "visible");
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener("pointerup", function (e) {
      if (start === null) return;
      var end = Math.max(M.l, Math.min(W - M.r, toX(e)));
      var a = toT(Math.min(start, end)), b = toT(Math.max(start, end)), dragged = Math.abs(end - start);
      start = null;
      box.setAttribute("visibility", "hidden");
      if (dragged > 6 && b - a > 60000) zoom(fig, a, b);
    });
  }

  function withRange(src, a, b) {
    var u = new URL(src, window.location.href);
    u.searchParams.set("from", iso(a));
    u.searchParams.set("to", iso(b));
    return u.pathname + u.search;
  }

  function zoom(fig, a, b) {
    load(fig, withRange(fig.dataset.src, a, b));
    if (fig.dataset.zoom) {
      // the page's own URL follows the zoom, so the address bar is a static link to it
      history.replaceState(null, "", withRange(window.location.href, a, b));
    }
    if (!fig.querySelector(".reset")) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "reset";
      button.textContent = "Reset zoom";
      button.addEventListener("click", function () { load(fig, fig.dataset.src); button.remove(); });
      fig.appendChild(button);
    }
  }

  function load(fig, src) {
    fetch(src, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) { draw(fig, data); })
      .catch(function () {
        fig.querySelectorAll(".empty").forEach(function (n) { n.remove(); });
        addText(fig, "empty", "The plot data could not be loaded.");
      });
  }

  function init(root) {
    root.querySelectorAll("figure.chart[data-src]").forEach(function (fig) { load(fig, fig.dataset.src); });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("hf:swap", function (e) { init(e.detail.root); });
})();
