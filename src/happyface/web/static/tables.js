// Sortable detail tables: a button in every header cell sorts the shown rows.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
    if (!numeric) return text.toLowerCase();
    var n = parseFloat(text);
    return isNaN(n) ? -Infinity : n;
  }

  function sortBy(table, th, index) {
    var numeric = th.classList.contains("num");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function init(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
      if (table.dataset.sortReady) return;
      table.dataset.sortReady = "1";
      table.querySelectorAll("thead th").forEach(function (th, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = th.textContent;
        button.title = "sort by " + th.textContent;
        th.textContent = "";
        th.appendChild(button);
        button.addEventListener("click", function () { sortBy(table, th, index); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("hf:swap", function (e) { init(e.detail.root); });
})();
