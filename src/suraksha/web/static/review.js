// Suraksha review workspace: reveal one media at a time (audited POST, then one fetch of the original
// with the reveal's one-time link), keyboard decisions, SLA timers.
// Plain JavaScript, no build step and no third-party code.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function post(url) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
  }

  // Back to the blurred preview: drop the original element and forget its bytes.
  function blurAll() {
    document.querySelectorAll(".media.revealed").forEach(function (fig) {
      fig.classList.remove("revealed");
      fig.querySelectorAll(".original").forEach(function (el) {
        if (el.pause) { el.pause(); }
        el.remove();
      });
      if (fig.dataset.objectUrl) { URL.revokeObjectURL(fig.dataset.objectUrl); delete fig.dataset.objectUrl; }
      var p = fig.querySelector("img.preview");
      if (p) { p.hidden = false; }
      var b = fig.querySelector("button.reveal");
      if (b) { b.textContent = "Reveal"; }
    });
  }

  // The original was fetched once with the reveal's one-time link; it lives only in this page.
  function showOriginal(fig, blob) {
    var url = URL.createObjectURL(blob);
    var el;
    if (fig.dataset.kind === "video") {
      el = document.createElement("video");
      el.muted = true;
      el.autoplay = false;
      el.controls = true;
      el.playsInline = true;
      el.preload = "metadata";
      el.setAttribute("disablepictureinpicture", "");
    } else {
      el = document.createElement("img");
      el.alt = "revealed media " + fig.dataset.position;
      el.draggable = false;
    }
    el.className = "original";
    el.src = url;
    fig.dataset.objectUrl = url;
    var p = fig.querySelector("img.preview");
    if (p) { p.hidden = true; p.after(el); } else { fig.prepend(el); }
    fig.classList.add("revealed");
    var b = fig.querySelector("button.reveal");
    if (b) { b.textContent = "Blur"; }
  }

  function showBreak(count) {
    var box = document.getElementById("break-prompt");
    if (!box) { return; }
    box.querySelectorAll(".break-count").forEach(function (el) { el.textContent = count; });
    box.hidden = false;
  }

  function reveal(fig) {
    if (fig.classList.contains("revealed")) { blurAll(); return; }
    post(fig.dataset.revealUrl).then(function (r) {
      if (!r.ok) { throw new Error("reveal refused (" + r.status + ")"); }
      return r.json();
    }).then(function (j) {
      blurAll();  // one at a time
      var c = document.getElementById("exposure-count");
      if (c) { c.textContent = j.exposure_today; }
      if (j.break_prompt) { showBreak(j.exposure_today); }
      return fetch(j.original_url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) { throw new Error("the original could not be fetched (" + r.status + ")"); }
        return r.blob();
      }).then(function (blob) { blurAll(); showOriginal(fig, blob); });
    }).catch(function (e) { alert(e.message); });
  }

  document.querySelectorAll(".media[data-reveal-url]").forEach(function (fig) {
    var b = fig.querySelector("button.reveal");
    if (b) { b.addEventListener("click", function () { reveal(fig); }); }
  });
  var dismiss = document.getElementById("break-dismiss");
  if (dismiss) { dismiss.addEventListener("click", function () { document.getElementById("break-prompt").hidden = true; }); }

  function nextToReveal() {
    var all = Array.prototype.slice.call(document.querySelectorAll(".media[data-reveal-url]"));
    if (!all.length) { return null; }
    var i = all.findIndex(function (f) { return f.classList.contains("revealed"); });
    return i < 0 ? all[0] : (i + 1 < all.length ? all[i + 1] : all[i]);
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && t.matches && t.matches("input, textarea, select")) {
      if (e.key === "Escape") { t.blur(); }
      return;
    }
    var key = e.key.toLowerCase();
    var decide = document.getElementById("decide-form");
    if (decide) {
      var button = decide.querySelector('button[data-key="' + key + '"]');
      if (button) { e.preventDefault(); decide.requestSubmit(button); return; }
      if (key === "b") { e.preventDefault(); document.getElementById("bank").focus(); return; }
      if (key === "/") { e.preventDefault(); document.getElementById("annotation").focus(); return; }
    }
    if (key === "e") {
      var esc = document.getElementById("escalate-form");
      if (esc && esc.querySelector("button")) {
        e.preventDefault();
        var note = window.prompt("Why escalate? (optional)");
        if (note === null) { return; }
        esc.querySelector('input[name="note"]').value = note;
        esc.requestSubmit();
      }
      return;
    }
    if (key === "r") {
      var fig = nextToReveal();
      if (fig) { e.preventDefault(); reveal(fig); }
      return;
    }
    if (key === "j") {
      var start = document.getElementById("start");
      if (start) { window.location = start.href; }
    }
  });

  function fmt(ms) {
    var m = Math.round(Math.abs(ms) / 60000);
    var s = m >= 1440 ? Math.floor(m / 1440) + "d " + Math.floor(m % 1440 / 60) + "h" : m >= 60 ? Math.floor(m / 60) + "h " + m % 60 + "m" : m + "m";
    return ms < 0 ? "overdue " + s : "due in " + s;
  }
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      if (!el.dataset.due) { return; }
      var ms = Date.parse(el.dataset.due) - Date.now();
      el.textContent = el.dataset.abs ? el.dataset.abs + " (" + fmt(ms) + ")" : fmt(ms);
      el.classList.toggle("overdue", ms < 0);
    });
  }
  tick();
  setInterval(tick, 30000);
})();
