// site-gen serve: live reload and build-error overlay. Injected by the dev
// server into HTML responses only; never part of a built site.
(function () {
  "use strict";
  var script = document.currentScript;
  var epoch = Number(script && script.getAttribute("data-epoch"));
  var base = "/__site-gen__/";
  var errorId = -1;
  var dismissed = -1;
  var pending = null;
  var timer = null;
  var failures = 0;
  var OVERLAY = "site-gen-overlay";

  function style(el, props) {
    for (var k in props) { el.style[k] = props[k]; }
  }

  function showError(text, id) {
    if (id === dismissed) { return; }
    var box = document.getElementById(OVERLAY);
    if (!box) {
      box = document.createElement("div");
      box.id = OVERLAY;
      box.setAttribute("role", "alert");
      style(box, {position: "fixed", left: "0", right: "0", top: "0", maxHeight: "80vh", overflow: "auto",
                  zIndex: "2147483647", background: "#2b0b0b", color: "#fff", padding: "1em 1.5em",
                  font: "15px/1.5 system-ui, sans-serif", boxShadow: "0 2px 12px rgba(0,0,0,.5)"});
      var title = document.createElement("strong");
      title.textContent = "站点构建失败";
      var note = document.createElement("p");
      note.textContent = "页面仍是上一次成功构建的版本；修正下面的问题并保存后会自动更新。";
      style(note, {margin: ".3em 0"});
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "关闭";
      style(close, {float: "right"});
      close.addEventListener("click", function () { dismissed = errorId; box.remove(); });
      var pre = document.createElement("pre");
      pre.className = "site-gen-error";
      style(pre, {whiteSpace: "pre-wrap", margin: "0", font: "14px/1.5 ui-monospace, monospace",
                  color: "#ffd7d7"});
      box.appendChild(close);
      box.appendChild(title);
      box.appendChild(note);
      box.appendChild(pre);
      document.body.appendChild(box);
    }
    box.querySelector("pre").textContent = text;
  }

  function hideError() {
    var box = document.getElementById(OVERLAY);
    if (box) { box.remove(); }
  }

  function later(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (document.hidden || pending) { return; }
    var ctrl = window.AbortController ? new AbortController() : null;
    pending = ctrl || {};
    fetch(base + "poll?epoch=" + epoch + "&error=" + errorId + "&path=" + encodeURIComponent(location.pathname),
          {cache: "no-store", signal: ctrl ? ctrl.signal : undefined})
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.json();
      })
      .then(function (s) {
        if (pending !== (ctrl || pending)) { return; }
        pending = null;
        failures = 0;
        if (s.epoch !== epoch) {
          if (s.reload !== false) { location.reload(); return; }
          epoch = s.epoch;  // a build that did not touch this page
        }
        errorId = s.error_id;
        if (s.error) { showError(s.error, s.error_id); } else { hideError(); }
        later(0);
      })
      .catch(function () {
        if (ctrl && ctrl.signal.aborted) { return; }
        pending = null;
        failures = Math.min(failures + 1, 5);
        later(failures * 600);  // the server is busy or restarting: try again
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
      if (pending && pending.abort) { pending.abort(); }
      pending = null;
    } else {
      later(0);
    }
  });
  later(0);
})();
