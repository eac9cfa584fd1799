// Sorting and filtering for table pages (site_gen/tables.py), dependency-free.
// The state lives in the URL: ?sort=<column>&order=asc|desc&level=…&kind=…&region=…
// Without JavaScript the table keeps its server order (by agency) and this
// script is simply not run.  Blank cells (data-value="") always sort last.
(function () {
  "use strict";
  var FILTERS = ["level", "kind", "region"];

  function params() { return new URLSearchParams(window.location.search); }

  function writeUrl(p) {
    var query = p.toString();
    var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
    try { window.history.replaceState(null, "", url); } catch (e) { /* file:// in some browsers */ }
    carryState(query);
  }

  // Links to the same table in other years (and the other tables) keep the state.
  function carryState(query) {
    Array.prototype.forEach.call(document.querySelectorAll(".year-nav a, .table-nav a"), function (a) {
      var base = a.getAttribute("data-base") || a.getAttribute("href");
      a.setAttribute("data-base", base);
      a.setAttribute("href", base + (query ? "?" + query : ""));
    });
  }

  function cellKey(row, index, type) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (raw === "") return null;
    if (type === "number") { var n = parseFloat(raw); return isNaN(n) ? null : n; }
    return raw;
  }

  function Table(table) {
    this.table = table;
    this.body = table.tBodies[0];
    this.headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    this.rows = Array.prototype.slice.call(this.body.rows);
    this.rows.forEach(function (row, i) { row.setAttribute("data-order", String(i)); });
  }

  Table.prototype.column = function (id) {
    for (var i = 0; i < this.headers.length; i++) {
      if (this.headers[i].getAttribute("data-col") === id) return i;
    }
    return -1;
  };

  Table.prototype.sort = function (id, order) {
    var index = id ? this.column(id) : -1;
    var rows = this.rows.slice();
    if (index < 0) {
      rows.sort(function (a, b) { return a.getAttribute("data-order") - b.getAttribute("data-order"); });
    } else {
      var type = this.headers[index].getAttribute("data-type");
      var sign = order === "desc" ? -1 : 1;
      rows.sort(function (a, b) {
        var x = cellKey(a, index, type), y = cellKey(b, index, type);
        if (x === null || y === null) {
          if (x === null && y === null) return a.getAttribute("data-order") - b.getAttribute("data-order");
          return x === null ? 1 : -1;
        }
        var c = type === "number" ? x - y : String(x).localeCompare(String(y), "zh-Hans-CN");
        return c ? sign * c : a.getAttribute("data-order") - b.getAttribute("data-order");
      });
    }
    var body = this.body;
    rows.forEach(function (r) { body.appendChild(r); });
    this.headers.forEach(function (th, i) {
      if (!th.hasAttribute("data-col")) return;
      if (i === index) th.setAttribute("aria-sort", order === "desc" ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
    if (index < 0 && this.headers[0].getAttribute("data-col") === "agency") {
      this.headers[0].setAttribute("aria-sort", "ascending");
    }
  };

  Table.prototype.filter = function (p) {
    var shown = 0;
    this.rows.forEach(function (row) {
      var ok = FILTERS.every(function (key) {
        var want = p.get(key);
        return !want || row.getAttribute("data-" + key) === want;
      });
      row.hidden = !ok;
      if (ok) shown++;
    });
    return shown;
  };

  function apply(t, form) {
    var p = params();
    t.sort(p.get("sort"), p.get("order") || "asc");
    var shown = t.filter(p);
    if (form) {
      FILTERS.forEach(function (key) {
        var select = form.querySelector("select[name='" + key + "']");
        if (select) select.value = p.get(key) || "";
      });
      var status = form.querySelector(".filter-status");
      var template = form.getAttribute("data-status-template");
      if (status && template) {
        status.textContent = template.replace("{shown}", shown).replace("{total}", t.rows.length);
      }
    }
  }

  function init(tableEl) {
    var t = new Table(tableEl);
    var form = document.querySelector("form[data-table-filters]");
    t.headers.forEach(function (th) {
      var link = th.querySelector("a.sort-link");
      if (!link) return;
      link.setAttribute("role", "button");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var id = th.getAttribute("data-col");
        var p = params();
        var linkOrder = new URLSearchParams(link.getAttribute("href").split("?")[1] || "").get("order") || "asc";
        var current = th.getAttribute("aria-sort");
        var order = current === "ascending" ? "desc" : current === "descending" ? "asc" : linkOrder;
        p.set("sort", id);
        p.set("order", order);
        writeUrl(p);
        apply(t, form);
      });
    });
    if (form) {
      form.hidden = false;
      var changed = function () {
        var p = params();
        FILTERS.forEach(function (key) {
          var select = form.querySelector("select[name='" + key + "']");
          if (select && select.value) p.set(key, select.value); else p.delete(key);
        });
        writeUrl(p);
        apply(t, form);
      };
      form.addEventListener("change", changed);
      form.addEventListener("submit", function (event) { event.preventDefault(); changed(); });
      form.addEventListener("reset", function (event) {
        event.preventDefault();
        FILTERS.forEach(function (key) {
          var select = form.querySelector("select[name='" + key + "']");
          if (select) select.value = "";
        });
        changed();
      });
    }
    carryState(window.location.search.replace(/^\?/, ""));
    apply(t, form);
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable-table]"), init);
})();
