// The review page: every answer text is put in the page as text nodes, never as HTML.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="review-token"]').content;
  var state = null, marked = {}, mentions = {}, armed = false;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function coder() { return localStorage.getItem("wsd-review-coder") || ""; }
  function keyOf(a) { return a.network_id + "\u0000" + a.item; }
  function saveDraft() {
    if (!state || !state.answer) return;
    localStorage.setItem("wsd-review-draft", JSON.stringify({key: keyOf(state.answer),
      marked: Object.keys(marked), mentions: mentions, note: $("note").value}));
  }

  function request(path, body) {
    return fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-Review-Token": token},
                        body: JSON.stringify(body || {})})
      .then(function (r) {
        if (r.status === 403) throw new Error("De server is opnieuw gestart: laad de pagina opnieuw.");
        return r.json();
      }).then(show).catch(function (e) { $("message").textContent = e.message; });
  }
  function load() { fetch("/api/state", {cache: "no-store"}).then(function (r) { return r.json(); }).then(show); }

  function show(s) {
    state = s; armed = false;
    $("progress").textContent = s.reviewed + " van " + s.total + " antwoorden beoordeeld" +
      (s.sample.total ? " (steekproef: " + s.sample.reviewed + " van " + s.sample.total + ")" : "") +
      "; naar schatting nog " + String(s.remaining).replace(".", ",") + " thema's te vinden in de rest" +
      (s.blind ? " \u00b7 blind" : "");
    $("message").textContent = s.message || "";
    var a = s.answer;
    $("answer").hidden = !a || !coder(); $("done").hidden = !!a; $("initials").hidden = !!coder();
    if (!coder()) $("coder").focus();
    if (!a) return;
    marked = {}; mentions = {};
    a.marked.forEach(function (t) { marked[t] = true; });
    $("note").value = "";
    var draft = JSON.parse(localStorage.getItem("wsd-review-draft") || "null");
    if (draft && draft.key === keyOf(a)) {
      marked = {}; draft.marked.forEach(function (t) { marked[t] = true; });
      mentions = draft.mentions || {}; $("note").value = draft.note || "";
    }
    $("network").dataset.answer = a.network_id + " " + a.item;
    $("network").textContent = a.werkplaats + " \u00b7 " + a.name + " \u00b7 " + a.item;
    $("question").textContent = a.question;
    $("sample").hidden = !a.in_sample;
    drawText(a); drawThemes(a);
    $("suggestions-box").hidden = s.blind;
  }

  function drawText(a) {
    var box = $("text"), spans = a.spans.slice().sort(function (x, y) { return x[0] - y[0]; }), at = 0;
    box.textContent = "";
    spans.forEach(function (sp) {
      if (sp[0] < at) return;
      box.appendChild(document.createTextNode(a.text.slice(at, sp[0])));
      var m = el("mark", a.text.slice(sp[0], sp[1]), sp[3]);
      m.title = (sp[3] === "code" ? "code: " : "suggestie: ") + sp[2];
      box.appendChild(m); at = sp[1];
    });
    box.appendChild(document.createTextNode(a.text.slice(at)));
  }

  function themeItem(t, on, extra) {
    var li = el("li", undefined, on ? "on" : "");
    li.dataset.theme = t.code;
    li.appendChild(el("kbd", t.key)); li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", t.label, "box"));
    if (extra) li.appendChild(el("span", " " + extra, "muted"));
    li.appendChild(el("span", t.definition, "def"));
    return li;
  }

  function drawThemes(a) {
    var list = $("themes"), codes = {};
    a.codes.forEach(function (c) { codes[c.theme] = c; });
    list.textContent = "";
    a.themes.forEach(function (t) {
      var c = codes[t.code];
      list.appendChild(themeItem(t, marked[t.code], c ? "(" + c.origin + ")" : ""));
    });
    var sug = $("suggestions"); sug.textContent = "";
    a.suggestions.forEach(function (g) {
      var li = el("li"); li.dataset.theme = g.theme;
      li.appendChild(el("strong", g.theme + " " + String(g.score).replace(".", ",") + ": "));
      li.appendChild(el("span", g.sentence));
      sug.appendChild(li);
    });
    if (!a.suggestions.length) sug.appendChild(el("li", "geen", "muted"));
    var others = $("others"); others.textContent = ""; others.className = armed ? "armed" : "";
    a.others.forEach(function (o) {
      others.appendChild(el("h3", "Genoemd bij de andere vraag (" + o.item + "): druk o en dan de toets"));
      others.appendChild(el("p", o.question, "muted"));
      if (!o.answered) { others.appendChild(el("p", "Dit netwerk beantwoordde " + o.item +
        " niet: zet de vermelding in de notitie.", "muted")); return; }
      var ul = el("ul"), on = mentions[o.item] || [];
      o.themes.forEach(function (t) {
        var has = on.indexOf(t.code) >= 0;
        ul.appendChild(themeItem(t, has, o.present.indexOf(t.code) >= 0 ? "(al gecodeerd bij " + o.item + ")" : ""));
      });
      others.appendChild(ul);
    });
  }

  function toggleOther(k) {
    var a = state.answer;
    a.others.forEach(function (o) {
      if (!o.answered) return;
      o.themes.forEach(function (t) {
        if (t.key !== k) return;
        var list = mentions[o.item] = mentions[o.item] || [], i = list.indexOf(t.code);
        if (i >= 0) list.splice(i, 1); else list.push(t.code);
      });
    });
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.activeElement === $("coder")) {
      if (e.key === "Enter" && $("coder").value.trim()) {
        localStorage.setItem("wsd-review-coder", $("coder").value.trim()); $("coder").blur(); e.preventDefault(); load();
      }
      return;
    }
    if (document.activeElement === $("note")) {
      if (e.key === "Escape") { $("note").blur(); saveDraft(); }
      return;
    }
    if (!state || !state.answer || !coder()) return;
    var a = state.answer, k = e.key;
    if (armed) {
      armed = false; toggleOther(k); drawThemes(a); saveDraft(); e.preventDefault(); return;
    }
    if (k === "Enter") {
      e.preventDefault();
      request("/api/decide", {key: [a.network_id, a.item], themes: Object.keys(marked), mentions: mentions,
                              note: $("note").value, coder: coder()})
        .then(function () { localStorage.removeItem("wsd-review-draft"); });
    } else if (k === "s") { request("/api/skip", {key: [a.network_id, a.item]});
    } else if (k === "u") { localStorage.removeItem("wsd-review-draft"); request("/api/undo", {});
    } else if (k === "n") { e.preventDefault(); $("note").focus();
    } else if (k === "o" && a.others.length) { armed = true; $("others").className = "armed";
    } else {
      a.themes.forEach(function (t) { if (t.key === k) { if (marked[t.code]) delete marked[t.code]; else marked[t.code] = true; } });
      drawThemes(a); saveDraft();
    }
  });
  load();
})();
