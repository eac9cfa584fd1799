/* site-gen search client. No dependencies; works over http(s) and file://.
 * Index files are JSONP (`__siteGenSearch(key, data)`) loaded by <script>
 * injection. See docs/search.md for the index format. */
(function () {
  "use strict";

  var app = document.getElementById("search-app");
  if (!app) return;

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}";
  var WORD = "0-9a-z\u00b5\u00df-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff";
  var TOKEN = new RegExp("([" + HAN + "]+)|([" + WORD + "]+)", "gu");
  var WORD_CHAR = new RegExp("^[" + WORD + "]$", "u");
  var FACETS = ["year", "format", "kind", "level", "region", "failing"];
  var SORTS = ["relevance", "date", "year"];
  var PAGE = 10;
  var VERIFY_ALL = 20;

  var cfg = {
    index: app.getAttribute("data-index") || "./",
    root: app.getAttribute("data-root") || "../",
    portable: app.getAttribute("data-portable") === "true"
  };
  var msgs = JSON.parse(document.getElementById("search-messages").textContent);
  var form = document.getElementById("search-form");
  var input = form.elements.q;
  var statusEl = document.getElementById("search-status");
  var listEl = document.getElementById("search-results");
  var moreEl = document.getElementById("search-more");
  var facetsEl = document.getElementById("search-facets");
  var baseTitle = document.title;

  function t(key, vars) {
    var s = Object.prototype.hasOwnProperty.call(msgs, key) ? msgs[key] : key;
    return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? String(vars[k]) : m; });
  }

  /* ---------------------------------------------------------- loading */
  var cache = {};
  var pending = {};
  var loaded = [];
  window.__siteGenSearchLoaded = loaded;
  window.__siteGenSearch = function (key, data) {
    if (pending[key]) { pending[key].data = data; pending[key].done = true; }
  };

  function load(key) {
    if (cache[key]) return cache[key];
    cache[key] = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      pending[key] = { done: false };
      s.async = true;
      s.charset = "utf-8";
      s.src = cfg.index + key + ".js";
      s.onload = function () {
        var p = pending[key];
        delete pending[key];
        s.remove();
        if (p && p.done) { loaded.push(key); resolve(p.data); } else { fail(); }
      };
      s.onerror = fail;
      function fail() {
        delete pending[key];
        delete cache[key];
        s.remove();
        reject(new Error("cannot load " + key));
      }
      document.head.appendChild(s);
    });
    return cache[key];
  }

  /* ---------------------------------------------------------- folding */
  var foldMap = null;

  function loadFold() {
    return load("fold").then(function (pairs) {
      if (foldMap) return;
      foldMap = new Map();
      var cps = Array.from(pairs);
      for (var i = 0; i + 1 < cps.length; i += 2) foldMap.set(cps[i], cps[i + 1]);
    });
  }

  function fold(text) {
    var out = [];
    for (var ch of text) out.push(foldMap.get(ch) || ch);
    return out.join("");
  }

  function queryTokens(word) {
    var tokens = [];
    for (var m of word.matchAll(TOKEN)) {
      var han = m[1];
      if (!han) { tokens.push(m[2]); continue; }
      var cps = Array.from(han);
      if (cps.length <= 2) { tokens.push(han); continue; }
      var starts = [];
      for (var i = 0; i < cps.length - 1; i += 2) starts.push(i);
      if (cps.length % 2) starts.push(cps.length - 2);
      starts.forEach(function (s) { tokens.push(cps[s] + cps[s + 1]); });
    }
    return tokens;
  }

  function queryWords(q) {
    var out = [];
    fold(q).split(/\s+/).forEach(function (w) {
      if (w && out.indexOf(w) < 0 && queryTokens(w).length) out.push(w);
    });
    return out;
  }

  function isExact(word) {
    var m = new RegExp("^(?:([" + HAN + "]+)|([" + WORD + "]+))$", "u").exec(word);
    return !!m && (m[2] !== undefined || Array.from(word).length <= 2);
  }

  /* ---------------------------------------------------------- postings */
  function fnv1a(text) {
    var bytes = new TextEncoder().encode(text);
    var h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  function shardKey(term, shards) {
    var width = (shards - 1).toString(16).length;
    var name = (fnv1a(term) & (shards - 1)).toString(16);
    while (name.length < width) name = "0" + name;
    return "p/" + name;
  }

  function varints(text) {
    var out = [];
    var value = 0, shift = 0;
    for (var i = 0; i < text.length; i++) {
      var c = B64.indexOf(text[i]);
      value += (c & 31) * Math.pow(2, shift);
      if (c & 32) { shift += 5; } else { out.push(value); value = 0; shift = 0; }
    }
    return out;
  }

  function decodePostings(text) {
    var ids = [];
    if (text[0] === "~") {
      for (var k = 1; k < text.length; k++) {
        var c = B64.indexOf(text[k]);
        for (var b = 0; b < 6; b++) if (c >> b & 1) ids.push(6 * (k - 1) + b);
      }
      return ids;
    }
    var prev = -1;
    varints(text).forEach(function (gap) { prev += gap + 1; ids.push(prev); });
    return ids;
  }

  /* Postings of `term`; with `cheapOnly`, null for lists kept in their own file. */
  function postings(term, cheapOnly) {
    var key = shardKey(term.replace(/^\^/, ""), index.shards);
    return load(key).then(function (shard) {
      var enc = Object.prototype.hasOwnProperty.call(shard, term) ? shard[term] : "";
      if (enc[0] !== "@") return decodePostings(enc);
      if (cheapOnly) return null;
      return load(key + "-" + enc.slice(1)).then(decodePostings);
    });
  }

  function intersect(a, b) {
    var out = [], i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] < b[j]) i++;
      else if (a[i] > b[j]) j++;
      else { out.push(a[i]); i++; j++; }
    }
    return out;
  }

  function intersectAll(lists) {
    lists.sort(function (a, b) { return a.length - b.length; });
    return lists.reduce(intersect);
  }

  /* ---------------------------------------------------------- facets */
  var index = null;

  function loadIndex() {
    return load("facets").then(function (data) {
      if (index) return index;
      index = { docs: data.docs, shards: data.shards, bucket: data.bucket,
        values: data.values, columns: {} };
      FACETS.forEach(function (f) {
        var col = new Uint16Array(data.docs);
        var pairs = varints(data.runs[f]);
        for (var i = 0, at = 0; i < pairs.length; i += 2) {
          col.fill(pairs[i + 1], at, at + pairs[i] + 1);
          at += pairs[i] + 1;
        }
        index.columns[f] = col;
      });
      return index;
    });
  }

  var dates = null;

  function loadDates() {
    return load("dates").then(function (text) {
      if (dates) return dates;
      dates = new Int32Array(index.docs);
      var prev = 0;
      varints(text).forEach(function (z, i) {
        prev += z % 2 ? -(z + 1) / 2 : z / 2;
        dates[i] = prev;
      });
      return dates;
    });
  }

  function filterCodes(state) {
    var codes = {};
    FACETS.forEach(function (f) {
      var want = state.filters[f];
      if (!want) return;
      var i = index.values[f].map(String).indexOf(want);
      codes[f] = i + 1; /* 0 when unknown: matches nothing */
    });
    return codes;
  }

  /* Counts for each facet over docs passing every *other* filter. */
  function countFacets(ids, codes) {
    var counts = {};
    var active = Object.keys(codes);
    FACETS.forEach(function (f) { counts[f] = new Map(); });
    function bump(f, n) {
      var v = index.columns[f][n];
      counts[f].set(v, (counts[f].get(v) || 0) + 1);
    }
    forEachId(ids, function (n) {
      var failed = null, misses = 0;
      for (var i = 0; i < active.length; i++) {
        if (index.columns[active[i]][n] !== codes[active[i]]) { failed = active[i]; misses++; }
      }
      if (misses === 0) FACETS.forEach(function (f) { bump(f, n); });
      else if (misses === 1) bump(failed, n);
    });
    return counts;
  }

  function forEachId(ids, fn) {
    if (ids) { ids.forEach(fn); return; }
    for (var n = 0; n < index.docs; n++) fn(n);
  }

  function applyFilters(ids, codes) {
    var active = Object.keys(codes);
    var out = [];
    forEachId(ids, function (n) {
      for (var i = 0; i < active.length; i++) if (index.columns[active[i]][n] !== codes[active[i]]) return;
      out.push(n);
    });
    return out;
  }

  /* ---------------------------------------------------------- documents */
  function loadDoc(n) {
    return load("d/" + Math.floor(n / index.bucket) + "/" + (n % index.bucket));
  }

  function isWordChar(ch) { return !!ch && WORD_CHAR.test(ch); }

  function findWord(hay, word, from) {
    var at = hay.indexOf(word, from);
    while (at >= 0) {
      var before = hay.charAt(at - 1), after = hay.charAt(at + word.length);
      var glued = (isWordChar(word[0]) && isWordChar(before)) ||
        (isWordChar(word[word.length - 1]) && isWordChar(after));
      if (!glued) return at;
      at = hay.indexOf(word, at + 1);
    }
    return -1;
  }

  function verify(doc, words) {
    var hay = fold([doc.t, doc.a, doc.b].join("\n"));
    return words.every(function (w) { return isExact(w) || findWord(hay, w, 0) >= 0; });
  }

  function ranges(text, words) {
    var folded = fold(text), found = [];
    words.forEach(function (w) {
      for (var at = findWord(folded, w, 0); at >= 0; at = findWord(folded, w, at + w.length)) {
        found.push([at, at + w.length]);
      }
    });
    found.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var merged = [];
    found.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push(r.slice());
    });
    return merged;
  }

  /* Append text[start:end) to `el`, wrapping the match ranges in <mark>. */
  function highlight(el, text, marks, start, end) {
    var at = start;
    marks.forEach(function (r) {
      var a = Math.max(r[0], start), b = Math.min(r[1], end);
      if (a >= b) return;
      if (a > at) el.appendChild(document.createTextNode(text.slice(at, a)));
      var m = document.createElement("mark");
      m.textContent = text.slice(a, b);
      el.appendChild(m);
      at = b;
    });
    if (at < end) el.appendChild(document.createTextNode(text.slice(at, end)));
  }

  function safeCut(text, i) {
    var c = text.charCodeAt(i);
    return c >= 0xdc00 && c <= 0xdfff ? i - 1 : i;
  }

  function excerpt(el, text, words) {
    var marks = ranges(text, words);
    var first = marks.length ? marks[0][0] : 0;
    var start = safeCut(text, Math.max(0, first - 40));
    var end = safeCut(text, Math.min(text.length, start + 160));
    if (start > 0) el.appendChild(document.createTextNode("…"));
    highlight(el, text, marks, start, end);
    if (end < text.length) el.appendChild(document.createTextNode("…"));
  }

  function docHref(url) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.charAt(0) === "/") return "#";
    if (cfg.portable && (url === "" || url.slice(-1) === "/")) url += "index.html";
    return cfg.root + url;
  }

  function valueLabel(field, value) {
    if (field === "failing") return t(value ? "search.failing.yes" : "search.failing.no");
    if (field === "year") return t("search.year.value", { year: value });
    var key = "search.value." + field + "." + value;
    return Object.prototype.hasOwnProperty.call(msgs, key) ? msgs[key] : String(value);
  }

  function renderDoc(doc, words) {
    var li = document.createElement("li");
    li.className = "search-result";
    if (doc.g) li.lang = doc.g;
    var h = document.createElement("h3");
    var a = document.createElement("a");
    a.setAttribute("href", docHref(doc.u));
    highlight(a, doc.t, words.length ? ranges(doc.t, words) : [], 0, doc.t.length);
    h.appendChild(a);
    li.appendChild(h);
    var meta = document.createElement("p");
    meta.className = "search-meta";
    var parts = [doc.a, valueLabel("year", doc.y)];
    if (doc.p) parts.push(t("search.published", { date: doc.p }));
    if (doc.l) parts.push(valueLabel("level", doc.l));
    meta.textContent = parts.join(" · ");
    if (doc.x) {
      var flag = document.createElement("span");
      flag.className = "search-failing";
      flag.textContent = t("search.failing.badge");
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(flag);
    }
    li.appendChild(meta);
    if (words.length) {
      var p = document.createElement("p");
      p.className = "search-excerpt";
      excerpt(p, doc.b, words);
      li.appendChild(p);
    }
    return li;
  }

  /* ---------------------------------------------------------- state */
  function readURL() {
    var params = new URLSearchParams(location.search);
    var state = { q: params.get("q") || "", sort: params.get("sort") || "", filters: {} };
    FACETS.forEach(function (f) { state.filters[f] = params.get(f) || ""; });
    if (SORTS.indexOf(state.sort) < 0) state.sort = "";
    return state;
  }

  function readForm() {
    var state = { q: input.value.trim(), sort: form.elements.sort.value, filters: {} };
    FACETS.forEach(function (f) {
      var el = form.elements[f];
      state.filters[f] = el ? el.value : "";
    });
    return state;
  }

  function toQuery(state) {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    FACETS.forEach(function (f) { if (state.filters[f]) params.set(f, state.filters[f]); });
    if (state.sort) params.set("sort", state.sort);
    var s = params.toString();
    return s ? "?" + s : location.pathname.split("/").pop() || "./";
  }

  function fillForm(state) {
    input.value = state.q;
    form.elements.sort.value = state.sort;
    FACETS.forEach(function (f) {
      var el = form.elements[f];
      if (el) el.value = state.filters[f];
    });
  }

  function effectiveSort(state) {
    if (state.sort === "relevance" && !state.q) return "year";
    return state.sort || (state.q ? "relevance" : "year");
  }

  /* ---------------------------------------------------------- search */
  var run = 0;
  var current = null;

  function search(state) {
    var token = ++run;
    app.setAttribute("data-state", "loading");
    statusEl.textContent = t("search.loading");
    var ready = [loadIndex()];
    if (state.q) ready.push(loadFold());
    return Promise.all(ready).then(function () {
      var words = state.q ? queryWords(state.q) : [];
      if (state.q && !words.length) return finish(token, state, words, [], true, null);
      return candidates(words).then(function (ids) {
        if (token !== run) return null;
        var sort = effectiveSort(state);
        var scored = sort === "relevance" ? titleScores(words, ids) : Promise.resolve(null);
        var dated = sort === "date" ? loadDates() : Promise.resolve(null);
        return Promise.all([scored, dated]).then(function (extra) {
          return finish(token, state, words, ids, false, extra[0]);
        });
      });
    }).catch(function (err) {
      if (token === run) statusEl.textContent = t("search.error");
      throw err;
    });
  }

  function candidates(words) {
    if (!words.length) return Promise.resolve(null);
    var tokens = [];
    words.forEach(function (w) {
      queryTokens(w).forEach(function (tok) { if (tokens.indexOf(tok) < 0) tokens.push(tok); });
    });
    return Promise.all(tokens.map(function (tok) { return postings(tok, false); }))
      .then(intersectAll);
  }

  /* Number of query words found in the title/agency, per candidate. */
  function titleScores(words, ids) {
    return Promise.all(words.map(function (w) {
      return Promise.all(queryTokens(w).map(function (tok) { return postings("^" + tok, true); }))
        .then(function (lists) {
          if (lists.some(function (l) { return l === null; })) return null;
          return new Set(intersectAll(lists));
        });
    })).then(function (sets) {
      var score = new Map();
      (ids || []).forEach(function (n) {
        var s = 0;
        sets.forEach(function (set) { if (set && set.has(n)) s++; });
        score.set(n, s);
      });
      return score;
    });
  }

  function order(ids, sort, score) {
    ids = ids.slice();
    if (sort === "relevance" && score) {
      ids.sort(function (a, b) { return score.get(b) - score.get(a) || b - a; });
    } else if (sort === "date" && dates) {
      ids.sort(function (a, b) { return dates[b] - dates[a] || b - a; });
    } else {
      ids.reverse();
    }
    return ids;
  }

  function finish(token, state, words, ids, empty, score) {
    if (token !== run) return null;
    var codes = filterCodes(state);
    var all = empty ? [] : ids;
    var pendingCheck = words.filter(function (w) { return !isExact(w); });
    current = {
      token: token, state: state, words: words, codes: codes,
      base: all, /* candidates before filters (null = every doc) */
      rejected: new Set(), needsCheck: pendingCheck.length > 0,
      list: order(applyFilters(all, codes), effectiveSort(state), score),
      cursor: 0, shown: 0
    };
    listEl.textContent = "";
    var upfront = current.needsCheck && current.list.length <= VERIFY_ALL;
    var step = upfront ? checkAll(current) : Promise.resolve();
    return step.then(function () {
      if (token !== run) return null;
      renderFacets(current);
      return more(current);
    });
  }

  function checkAll(cur) {
    return Promise.all(cur.list.map(loadDoc)).then(function (docs) {
      docs.forEach(function (doc, i) { if (!verify(doc, cur.words)) cur.rejected.add(cur.list[i]); });
      cur.list = cur.list.filter(function (n) { return !cur.rejected.has(n); });
      if (cur.base) cur.base = cur.base.filter(function (n) { return !cur.rejected.has(n); });
      cur.rejected = new Set();
      cur.needsCheck = false;
    });
  }

  /* Show the next page: load documents in order, dropping unverified ones. */
  function more(cur) {
    var target = cur.shown + PAGE;
    function step() {
      if (cur.token !== run) return null;
      if (cur.shown >= target || cur.cursor >= cur.list.length) return done();
      var batch = cur.list.slice(cur.cursor, cur.cursor + (target - cur.shown));
      cur.cursor += batch.length;
      return Promise.all(batch.map(loadDoc)).then(function (docs) {
        if (cur.token !== run) return null;
        docs.forEach(function (doc, i) {
          if (cur.needsCheck && !verify(doc, cur.words)) { cur.rejected.add(batch[i]); return; }
          listEl.appendChild(renderDoc(doc, cur.words));
          cur.shown++;
        });
        return step();
      });
    }
    function done() {
      if (cur.needsCheck && cur.cursor >= cur.list.length) cur.needsCheck = false;
      renderStatus(cur);
      moreEl.hidden = cur.cursor >= cur.list.length;
      app.setAttribute("data-state", "done");
      return cur;
    }
    app.setAttribute("data-state", "loading");
    return step();
  }

  function total(cur) { return cur.list.length - cur.rejected.size; }

  function renderStatus(cur) {
    var n = total(cur);
    var q = cur.state.q;
    var key;
    if (n === 0) key = q ? "search.none" : "search.none.filters";
    else if (cur.needsCheck) key = "search.results.approx";
    else key = q ? "search.results" : "search.browse";
    statusEl.textContent = t(key, { n: n, q: q });
    document.title = q ? t("search.page.title.query", { q: q }) + " · " + baseTitle : baseTitle;
  }

  /* ---------------------------------------------------------- facet form */
  function renderFacets(cur) {
    var counts = countFacets(cur.base, cur.codes);
    facetsEl.textContent = "";
    FACETS.forEach(function (f) {
      var values = index.values[f];
      if (!values.length) return;
      var label = document.createElement("label");
      label.className = "search-facet";
      label.appendChild(document.createTextNode(t("search.facet." + f) + " "));
      var select = document.createElement("select");
      select.name = f;
      var any = document.createElement("option");
      any.value = "";
      any.textContent = t("search.facet.any");
      select.appendChild(any);
      var order = values.map(function (v, i) { return i; });
      if (f === "year") order.reverse();
      order.forEach(function (i) {
        var opt = document.createElement("option");
        opt.value = String(values[i]);
        var n = counts[f].get(i + 1) || 0;
        opt.textContent = valueLabel(f, values[i]) + " (" + n + ")";
        select.appendChild(opt);
      });
      select.value = cur.state.filters[f] || "";
      label.appendChild(select);
      facetsEl.appendChild(label);
    });
  }

  /* ---------------------------------------------------------- events */
  function navigate() {
    var state = readForm();
    var url = toQuery(state);
    try {
      history.pushState(null, "", url);
    } catch (e) {
      location.search = url.charAt(0) === "?" ? url : "";
      return;
    }
    search(state);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); navigate(); });
  form.addEventListener("change", function (e) {
    if (e.target !== input) navigate();
  });
  moreEl.addEventListener("click", function () { if (current) more(current); });
  window.addEventListener("popstate", function () {
    var state = readURL();
    fillForm(state);
    search(state);
  });

  var initial = readURL();
  fillForm(initial);
  search(initial);
})();
