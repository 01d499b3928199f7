// Client-side search of the static site: the same ranking as the service's search
// (exact label, label prefix, label substring, alternative label, definition), over
// window.WORKFLOW_KG_SEARCH rows [href, label, label_zh, alt, definition, class, status,
// class_zh].
(function () {
  "use strict";
  function fold(s) { return (s || "").normalize("NFKC").toLowerCase(); }
  function rank(row, q) {
    var labels = [fold(row[1]), fold(row[2])], best = null;
    labels.forEach(function (l) {
      var tier = l === q ? 0 : l.indexOf(q) === 0 ? 1 : l.indexOf(q) >= 0 ? 2 : null;
      if (tier !== null && (best === null || tier < best)) { best = tier; }
    });
    if (best === null && fold(row[3]).indexOf(q) >= 0) { best = 3; }
    if (best === null && fold(row[4]).indexOf(q) >= 0) { best = 4; }
    return best;
  }
  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }
  function bilingual(tag, en, zh, cls) {  // both languages; the page's switch shows one
    var el = text(tag, "", cls);
    if (!zh || zh === en) { el.textContent = en; return el; }
    el.appendChild(text("span", en, "alt")).setAttribute("lang", "en");
    el.appendChild(text("span", zh, "alt")).setAttribute("lang", "zh");
    return el;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var params = new URLSearchParams(window.location.search);
    var q = (params.get("q") || "").trim();
    var input = document.querySelector("header input[type=search]");
    if (input) { input.value = q; }
    var list = document.getElementById("search-results");
    var summary = document.getElementById("search-summary");
    function both(en, zh) { summary.textContent = ""; summary.appendChild(bilingual("span", en, zh)); }
    if (!q) { both("Type a word above, e.g. saga, TLA+, 事件溯源, 时间自动机.", "在上方输入词语，例如 saga、TLA+、事件溯源、时间自动机。"); return; }
    var fq = fold(q), hits = [];
    (window.WORKFLOW_KG_SEARCH || []).forEach(function (row) {
      var r = rank(row, fq);
      if (r !== null) { hits.push([r, row]); }
    });
    hits.sort(function (a, b) { return a[0] - b[0] || a[1][1].length - b[1][1].length || (a[1][1] < b[1][1] ? -1 : 1); });
    // ?limit=N shows the best N (100 unless given), as the service's search does; a link
    // shows them all
    var limit = parseInt(params.get("limit"), 10) || 100, n = hits.length;
    var cut = n > limit;
    both(n + (n === 1 ? " match" : " matches") + " for “" + q + "”" + (cut ? ", the best " + limit + " shown" : "") + ".",
         "“" + q + "”共 " + n + " 条结果" + (cut ? "，显示最佳 " + limit + " 条" : "") + "。");
    if (cut) {
      var all = new URLSearchParams(params);
      all.set("limit", String(n));
      var more = summary.appendChild(document.createElement("a"));
      more.href = "?" + all.toString();
      more.appendChild(bilingual("span", "show all " + n, "显示全部 " + n + " 条"));
      summary.insertBefore(document.createTextNode(" "), more);
    }
    hits.slice(0, limit).forEach(function (hit) {
      var row = hit[1], li = document.createElement("li"), a = document.createElement("a");
      a.href = row[0];
      a.appendChild(text("strong", row[1]));
      li.appendChild(a);
      if (row[2] && row[2] !== row[1]) { li.appendChild(text("span", " " + row[2])); }
      if (row[6]) { li.appendChild(document.createTextNode(" ")); li.appendChild(text("span", row[6], "badge " + row[6])); }
      if (row[5]) {
        var cls = li.appendChild(text("span", " · ", "muted"));
        cls.appendChild(bilingual("span", row[5], row[7]));
      }
      list.appendChild(li);
    });
  });
})();
