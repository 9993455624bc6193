// A small interactive SVG chart: several curves on one time axis, values on hover, drag to
// zoom. It reads the same JSON as /plot.json; a status curve is drawn as a band below.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  // the right margin holds a second unit's axis and the limits' labels
  var W = 800, H = 300, M = { l: 64, r: 64, t: 12, b: 30 }, BAND = 16;
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

  // --- numbers in their units: the same rules as happyface/units.py ---------------------
  var BYTES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  var PARTS = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  // units drawn on a shared axis, in that axis' base: hours and days as seconds, a fraction as %
  var SCALE = { fraction: 100, hours: 3600, days: 86400 };
  var AXIS_UNIT = { fraction: "percent", hours: "seconds", days: "seconds" };
  var WORDS = { happy: "OK", neutral: "Warning", unhappy: "Problem", error: "Error", noinfo: "No data" };

  function fixed(v, decimals) {
    return v.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }

  function plain(v, digits) {
    if (v === 0) return "0";
    var mag = Math.floor(Math.log10(Math.abs(v)));
    var text = fixed(v, Math.max(0, Math.min(20, digits - 1 - mag)));
    if (text.indexOf(".") >= 0) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return text === "-0" ? "0" : text;
  }

  function duration(s, detail) {
    if (s < 0) return "−" + duration(-s, detail);
    if (s === 0) return "0 s";
    if (s < 1) return plain(s * 1000, 3 + detail) + " ms";
    if (s < 60) return plain(s, 2 + detail) + " s";
    var shown = 2 + detail, first = PARTS.findIndex(function (p) { return s >= p[1]; });
    var parts = PARTS.slice(first, first + shown), rest = 0;
    if (parts.length < shown) {
      rest = s - Math.floor(s / 60) * 60; s -= rest; parts = parts.slice(0, -1);
    } else {
      var small = parts[parts.length - 1][1];
      s = Math.round(s / small) * small;
    }
    var out = [];
    parts.forEach(function (p) {
      var n = Math.floor(s / p[1] + 1e-9);
      s -= n * p[1];
      if (n) out.push(n + " " + p[0]);
    });
    if (rest) out.push(plain(rest, 2 + detail) + " s");
    return out.join(" ") || "0 s";
  }

  function percent(p, detail) {
    if (p === 0) return "0 %";
    var mag = Math.floor(Math.log10(Math.abs(p)));
    return fixed(p, Math.max(detail, mag < 0 ? -mag : 0)) + " %";
  }

  // a value in its axis' base unit (see SCALE) written for people
  function human(v, unit, detail) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    detail = detail || 0;
    if (unit === "bytes" || unit === "bytes/s") {
      var power = 0;
      while (Math.abs(v) >= 1000 && power < BYTES.length - 1) { v /= 1000; power++; }
      return plain(v, (power ? 2 : 3) + detail) + " " + BYTES[power] + (unit === "bytes/s" ? "/s" : "");
    }
    if (unit === "seconds") return duration(v, detail);
    if (unit === "percent") return percent(v, detail);
    var text = plain(v, 3 + detail);
    return /^[a-z_]+\/s$/.test(unit || "") ? text + " " + unit : text;
  }

  // the least detail at which unequal neighbours read differently: never "0.05 0.05 0.05"
  function distinct(values, unit) {
    var texts = [];
    for (var detail = 0; detail <= 14; detail++) {
      texts = values.map(function (v) { return human(v, unit, detail); });
      var clash = texts.some(function (t, i) { return i && t === texts[i - 1] && values[i] !== values[i - 1]; });
      if (!clash) return texts;
    }
    return texts;
  }

  function ticks(lo, hi, count) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count || 1)));
    [1, 2, 5, 10].some(function (m) {
      if ((hi - lo) / (step * m) <= count) { step *= m; return true; }
      return false;
    });
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
    return out;
  }

  // --- axes: one per unit; curves of different units never share one -------------------
  function axisUnit(c) { return AXIS_UNIT[c.unit] || c.unit || ""; }
  function scaled(c, v) { return v * (SCALE[c.unit] || 1); }

  function groupByAxis(metrics) {
    var axes = [];
    metrics.forEach(function (c, i) {
      var unit = axisUnit(c), axis = axes.find(function (a) { return a.unit === unit; });
      if (!axis) { axis = { unit: unit, curves: [] }; axes.push(axis); }
      axis.curves.push({ curve: c, index: i });
    });
    return axes;
  }

  function yRange(axis) {
    var lo = Infinity, hi = -Infinity;
    axis.curves.forEach(function (e) {
      var c = e.curve;
      c.points.forEach(function (p) {
        lo = Math.min(lo, scaled(c, p[2]), scaled(c, p[1])); hi = Math.max(hi, scaled(c, p[3]), scaled(c, p[1]));
      });
      (c.thresholds || []).forEach(function (t) { lo = Math.min(lo, scaled(c, t.value)); hi = Math.max(hi, scaled(c, t.value)); });
    });
    if (lo === Infinity) return [0, 1];
    if (lo === hi) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
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
      if (segments[i][0] <= t && t < segments[i][1]) return WORDS[segments[i][2]] || segments[i][2];
    }
    return "no data";
  }

  // the panels of the plot: two units share one panel (left and right axes), more stack
  function panels(axes, top, bottom) {
    var groups = axes.length <= 2 ? [axes] : axes.map(function (a) { return [a]; });
    var gap = 14, height = (bottom - top - gap * (groups.length - 1)) / groups.length;
    return groups.map(function (group, i) {
      var y0 = top + i * (height + gap);
      return { axes: group, top: y0, bottom: y0 + height };
    });
  }

  function drawAxis(svg, grid, axis, side, panel, yr) {
    function sy(v) { return panel.bottom - (v - yr[0]) / (yr[1] - yr[0]) * (panel.bottom - panel.top); }
    var values = ticks(yr[0], yr[1], panel.bottom - panel.top > 120 ? 5 : 3);
    var labels = distinct(values, axis.unit);
    var g = el("g", { "class": "axis y-" + side, "data-unit": axis.unit }, svg);
    values.forEach(function (v, i) {
      if (side === "left") el("line", { x1: M.l, x2: W - M.r, y1: sy(v), y2: sy(v) }, grid);
      var x = side === "left" ? M.l - 6 : W - M.r + 6;
      el("text", { x: x, y: sy(v) + 4, "text-anchor": side === "left" ? "end" : "start", "class": "tick" }, g).textContent = labels[i];
    });
    if (axis.unit) {
      var x = side === "left" ? 12 : W - 8;
      var mid = (panel.top + panel.bottom) / 2;
      el("text", { x: x, y: mid, "text-anchor": "middle", "class": "unit",
        transform: "rotate(-90 " + x + " " + mid + ")" }, g).textContent = axis.unit;
    }
    return sy;
  }

  function drawSeries(svg, c, i, sx, sy) {
    if (!c.points.length) return;
    var d = c.points.map(function (p, j) { return (j ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(scaled(c, p[1])).toFixed(1); }).join("");
    el("path", { d: d, "class": "curve", fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 1.8,
      "stroke-dasharray": DASHES[i % DASHES.length], "data-points": c.points.length, "data-key": c.key }, svg);
  }

  function drawThresholds(svg, c, sy, side) {
    (c.thresholds || []).forEach(function (t) {
      var y = sy(scaled(c, t.value));
      var g = el("g", { "class": "threshold t-" + t.level, "data-value": t.value }, svg);
      el("line", { x1: M.l, x2: W - M.r, y1: y, y2: y }, g);
      el("text", { x: side === "left" ? W - M.r - 4 : M.l + 4, y: y - 4, "text-anchor": side === "left" ? "end" : "start" }, g)
        .textContent = t.level + " " + t.op + " " + t.text;
    });
  }

  // a detected change: a dashed vertical line and a small triangle on top; hovering or focusing
  // the triangle tells the levels before and after ("level drop 80 % → 40 %, since 12:15")
  function drawChangeMarks(svg, c, i, sx, tip, x0, x1) {
    (c.changes || []).forEach(function (m) {
      if (!(m.at_ms >= x0 && m.at_ms <= x1)) return;
      var x = sx(m.at_ms), color = COLORS[i % COLORS.length];
      var g = el("g", { "class": "change-mark " + m.direction, "data-key": c.key, tabindex: 0,
        role: "img", "aria-label": c.label + ": " + m.text }, svg);
      el("line", { x1: x, x2: x, y1: M.t + 8, y2: H - M.b, stroke: color, "stroke-dasharray": "4 3" }, g);
      var tri = m.direction === "drop" ? [x - 5, M.t, x + 5, M.t, x, M.t + 8] : [x - 5, M.t + 8, x + 5, M.t + 8, x, M.t];
      el("polygon", { points: tri.join(" "), fill: color }, g);
      el("title", {}, g).textContent = c.label + ": " + m.text;
      function tell() { tip.textContent = c.label + ": " + m.text; }
      g.addEventListener("pointerenter", tell);
      g.addEventListener("focus", tell);
    });
  }

  function drawMarker(svg, fig, sx, x0, x1) {
    if (!fig.dataset.since) return;
    var t = Date.parse(fig.dataset.since);
    if (!(t >= x0 && t <= x1)) return;
    var g = el("g", { "class": "since-marker" }, svg);
    el("line", { x1: sx(t), x2: sx(t), y1: M.t, y2: H - M.b }, g);
    var late = sx(t) > W - M.r - 120;  // near the right edge the label goes on the left
    el("text", { x: sx(t) + (late ? -4 : 4), y: M.t + 10, "text-anchor": late ? "end" : "start" }, g)
      .textContent = "firing since " + iso(t).slice(11, 16);
  }

  function drawBands(svg, statuses, sx, top) {
    statuses.forEach(function (c, i) {
      var y = top + i * (BAND + 4);
      c.segments.forEach(function (s) {
        var x = sx(s[0]), w = Math.max(sx(s[1]) - x, 0.5);
        var r = el("rect", { x: x, y: y, width: w, height: BAND, "class": "seg s-" + s[2] }, svg);
        el("title", {}, r).textContent = c.label + ": " + (WORDS[s[2]] || s[2]);
        var word = WORDS[s[2]] || s[2];
        if (w > word.length * 6 + 8) {  // a label where it fits: the band reads without colour
          el("text", { x: x + w / 2, y: y + BAND - 4, "text-anchor": "middle", "class": "seg-label" }, svg).textContent = word;
        }
      });
    });
  }

  function draw(fig, data) {
    fig.querySelectorAll(":scope > svg, .tip, .legend, .empty").forEach(function (n) { n.remove(); });
    var metrics = data.curves.filter(function (c) { return c.kind === "metric"; });
    var statuses = data.curves.filter(function (c) { return c.kind === "status"; });
    var x0 = data.from_ms, x1 = data.to_ms, span = x1 - x0;
    var axes = groupByAxis(metrics);
    var bandsTop = H - M.b - statuses.length * (BAND + 4);
    var plotBottom = statuses.length ? bandsTop - 6 : H - M.b;
    function sx(t) { return M.l + (t - x0) / span * (W - M.l - M.r); }

    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": data.curves.map(function (c) { return c.label; }).join(", ") });
    var grid = el("g", { "class": "grid" }, svg);
    var scales = [];
    panels(axes, M.t, plotBottom).forEach(function (panel) {
      panel.axes.forEach(function (axis, side) {
        var sy = drawAxis(svg, grid, axis, side ? "right" : "left", panel, yRange(axis));
        axis.curves.forEach(function (e) {
          drawThresholds(svg, e.curve, sy, side ? "right" : "left");
          drawSeries(svg, e.curve, e.index, sx, sy);
          scales.push({ curve: e.curve, unit: axis.unit });
        });
      });
    });
    var axis = el("g", { "class": "axis" }, svg);
    timeTicks(x0, x1).forEach(function (t) {
      el("line", { x1: sx(t), x2: sx(t), y1: M.t, y2: H - M.b }, grid);
      el("text", { x: sx(t), y: H - M.b + 16, "text-anchor": "middle" }, axis).textContent = timeLabel(t, span);
    });
    drawBands(svg, statuses, sx, bandsTop);
    drawMarker(svg, fig, sx, x0, x1);
    fig.insertBefore(svg, fig.querySelector("figcaption"));
    legend(fig, data, metrics, statuses);
    var total = data.curves.reduce(function (n, c) { return n + (c.points ? c.points.length : c.segments.length); }, 0);
    if (!total) addText(fig, "empty", "No data in this interval.");
    var tip = interact(fig, svg, scales, statuses, x0, span);
    metrics.forEach(function (c, i) { drawChangeMarks(svg, c, i, sx, tip, x0, x1); });
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
      var unit = axisUnit(c) ? ", " + axisUnit(c) : "";
      li.appendChild(document.createTextNode(" " + c.label + " (" + c.points.length + " points" + unit + ")"));
      ul.appendChild(li);
    });
    statuses.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = "▭ " + c.label + " (band below the curves: OK plain, Warning dotted, Problem cross-hatched, Error striped, No data dashed)";
      ul.appendChild(li);
    });
    fig.insertBefore(ul, fig.querySelector("figcaption"));
  }

  function interact(fig, svg, scales, statuses, x0, span) {
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
      if (e.target.closest && e.target.closest(".change-mark")) return;  // the marker tells its own
      var x = Math.max(M.l, Math.min(W - M.r, toX(e))), t = toT(x);
      line.setAttribute("x1", x); line.setAttribute("x2", x); line.setAttribute("visibility", "visible");
      var parts = scales.map(function (s) {
        var p = nearest(s.curve.points, t);
        return s.curve.label + " = " + (p ? human(scaled(s.curve, p[1]), s.unit) : "–");
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
    return tip;
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

  // the plot page's curve picker: typing narrows the grouped list to what matches
  function picker(input) {
    var select = document.getElementById(input.getAttribute("aria-controls"));
    var count = document.getElementById(input.getAttribute("aria-describedby"));
    function filter() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      select.querySelectorAll("optgroup").forEach(function (group) {
        var visible = 0;
        group.querySelectorAll("option").forEach(function (o) {
          var text = (group.label + " " + o.value + " " + o.textContent).toLowerCase();
          var match = o.selected || words.every(function (w) { return text.indexOf(w) >= 0; });
          o.hidden = !match;
          if (match) visible++;
        });
        group.hidden = !visible;
        shown += visible;
      });
      if (count) count.textContent = words.length ? shown + " curves match" : "";
    }
    input.addEventListener("input", filter);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    document.querySelectorAll("input.curve-search[aria-controls]").forEach(picker);
  });
  document.addEventListener("hf:swap", function (e) { init(e.detail.root); });
})();
