// Workflow KG pages: the language switch (kept between pages), graph drawing (find box,
// layers, grouped findings), sortable tables and "more" on clamped text. No inline
// script anywhere: the pages' Content-Security-Policy allows only files like this one.
(function () {
  "use strict";
  var KEY = "workflow-kg-lang";
  var graphs = [];

  function setLang(lang) {
    var root = document.documentElement;
    root.setAttribute("data-lang", lang);
    root.setAttribute("lang", lang === "zh" ? "zh-Hans" : "en");
    try { localStorage.setItem(KEY, lang); } catch (e) { /* file:// may refuse storage */ }
    document.querySelectorAll(".langswitch button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    });
    // attributes have no element of their own: swap them (data-zh-NAME holds the Chinese)
    document.querySelectorAll("[data-zh-placeholder]").forEach(function (el) {
      if (!el.dataset.enPlaceholder) { el.dataset.enPlaceholder = el.getAttribute("placeholder") || ""; }
      el.setAttribute("placeholder", lang === "zh" ? el.dataset.zhPlaceholder : el.dataset.enPlaceholder);
    });
    document.querySelectorAll("option[data-zh]").forEach(function (el) {
      if (!el.dataset.en) { el.dataset.en = el.textContent; }
      el.textContent = lang === "zh" && el.dataset.zh ? el.dataset.zh : el.dataset.en;
    });
    graphs.forEach(function (g) { g.relabel(lang); });
  }
  function currentLang() { return document.documentElement.getAttribute("data-lang") || "en"; }

  var saved = null;
  try { saved = localStorage.getItem(KEY); } catch (e) { saved = null; }
  document.documentElement.setAttribute("data-lang", saved === "zh" ? "zh" : "en");
  document.addEventListener("DOMContentLoaded", function () {
    setLang(currentLang());
    document.querySelectorAll(".langswitch button").forEach(function (b) {
      b.addEventListener("click", function () { setLang(b.dataset.lang); });
    });
    document.querySelectorAll("[data-graph]").forEach(drawGraph);
    document.querySelectorAll("table[data-sortable]").forEach(sortable);
    document.querySelectorAll("button.more").forEach(function (b) {
      b.addEventListener("click", function () {
        var cell = b.closest(".clamp");
        var open = cell.classList.toggle("open");
        b.setAttribute("aria-expanded", String(open));
      });
    });
  });

  // Only links a reader may follow: this site's pages, http(s), mailto.
  function safe(url) {
    return typeof url === "string" && url !== "" &&
      (/^(https?:|mailto:)/i.test(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url));
  }

  // A graph element carries the id of a <script type="application/json"> holding
  // {nodes, edges, options}; clicking a node opens its page (the node's url).
  function drawGraph(el) {
    if (typeof vis === "undefined") { el.textContent = "The graph library did not load."; return; }
    var data = JSON.parse(document.getElementById(el.dataset.graph).textContent);
    var withLayers = el.dataset.layers === "true";
    var tidy = el.dataset.declutter === "true";
    var lang = currentLang();
    data.nodes.forEach(function (n) {
      n.base_font = (n.font && n.font.size) || 14;
      n.label = lang === "zh" ? (n.label_zh || n.label_en) : (n.label_en || n.label);
      if (withLayers && n.layer) { n.hidden = true; }
    });
    data.edges.forEach(function (e) { e.label = lang === "zh" ? (e.label_zh || e.label_en) : (e.label_en || e.label); });
    var nodes = new vis.DataSet(data.nodes);
    var edges = new vis.DataSet(data.edges);
    var network = new vis.Network(el, { nodes: nodes, edges: edges }, data.options);
    el.network = network;
    var clusters = {};  // cluster key -> cluster node id, while closed

    function shownIds() {  // the nodes drawn: grouped findings as their group's node
      return network.body.nodeIndices.filter(function (id) {
        var node = network.body.nodes[id];
        return node && !node.options.hidden;
      });
    }
    function shownCount() { return shownIds().length; }
    function count() {
      var c = document.querySelector(".graph-count[data-for='" + el.id + "']");
      if (c) { c.textContent = String(shownCount()); }
      el.setAttribute("data-shown", String(shownCount()));
    }
    el.shownCount = shownCount;

    // once the layout has settled: group the findings, then fit what is drawn into the
    // frame. vis-network measures a node's box (label included) as it draws the node, so
    // each fit waits for a drawing: its own fit, at the end of stabilising, used the
    // boxes of the first positions and left the graph off-centre. The labels kept at the
    // fitted zoom change the boxes, so a second fit follows them.
    function ready() {
      if (!withLayers) { closeClusters(); }
      settle(2);
    }
    function settle(passes) {
      network.once("afterDrawing", function () {
        network.fit({ nodes: shownIds(), animation: false });
        declutter();
        if (passes > 1) { settle(passes - 1); return; }
        count();
        el.setAttribute("data-ready", "true");
      });
      network.redraw();
    }

    // ---- the overview keeps the labels that fit: engines, theories and properties
    // first (then the other main classes, each by its number of links); a label that
    // would overlap one already placed waits for a closer zoom
    function declutter() {
      if (!tidy) { return; }
      var scale = network.getScale();
      var threshold = (data.options.nodes.scaling && data.options.nodes.scaling.label.drawThreshold) || 6;
      var maxPx = (data.options.nodes.scaling && data.options.nodes.scaling.label.maxVisible) || 22;
      var shown = nodes.get({ filter: function (n) { return !n.hidden; } });
      shown.sort(function (a, b) { return (b.id === found) - (a.id === found) || (b.prio || 0) - (a.prio || 0); });
      var positions = network.getPositions(shown.map(function (n) { return n.id; }));
      var placed = [], updates = [], lang = currentLang();
      shown.forEach(function (n) {
        var text = lang === "zh" ? (n.label_zh || n.label_en) : n.label_en;
        if (text.length > 26 && n.id !== found) { text = text.slice(0, 25) + "…"; }
        // a label's size on screen: its class's size at this zoom, never above maxPx
        var base = n.base_font || 14;
        var px = Math.min(base * scale, maxPx);
        var world = Math.round(px / scale * 10) / 10;
        var keep = false;
        if (px >= threshold - 1 && positions[n.id]) {
          var at = network.canvasToDOM(positions[n.id]);
          var width = 0;
          for (var i = 0; i < text.length; i++) { width += text.charCodeAt(i) > 0x2e80 ? px : px * 0.56; }
          var box = [at.x - width / 2 - 2, at.y + 6, at.x + width / 2 + 2, at.y + 8 + px * 1.25];
          keep = !placed.some(function (o) { return box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]; });
          if (keep) { placed.push(box); }
        }
        var label = keep || n.id === found ? text : "";
        var change = {};
        if (n.label !== label) { change.label = label; }
        if (n.id !== found && (!n.font || Math.abs((n.font.size || 14) - world) > 0.3)) {
          change.font = base > 14 ? { size: world, strokeWidth: 6, strokeColor: "#ffffff" } : { size: world };
        }
        if (Object.keys(change).length) { change.id = n.id; updates.push(change); }
      });
      if (updates.length) { nodes.update(updates); }
    }
    var pending = null;
    function later() { clearTimeout(pending); pending = setTimeout(declutter, 120); }
    network.on("zoom", later);
    network.on("dragEnd", later);
    el.declutter = declutter;
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({ physics: { enabled: false } });
      ready();
    });
    network.once("afterDrawing", function () {
      if (!data.options.physics || !data.options.physics.enabled) { ready(); }
    });
    network.on("click", function (params) {
      if (params.nodes.length !== 1) { return; }
      var id = params.nodes[0];
      if (network.isCluster(id)) { openCluster(id); return; }
      var node = nodes.get(id);
      if (node && safe(node.url)) { window.location.href = node.url; }
    });

    // ---- grouped findings: one node per system and workload, opened by a click
    function closeClusters(layer) {
      var keys = {};
      nodes.get({ filter: function (n) { return n.cluster && !n.hidden && (!layer || n.layer === layer); } })
        .forEach(function (n) { (keys[n.cluster] = keys[n.cluster] || []).push(n); });
      Object.keys(keys).forEach(function (key) {
        var members = keys[key];
        if (members.length < 2 || clusters[key]) { return; }
        var id = "cluster:" + key, first = members[0];
        network.cluster({
          joinCondition: function (o) { return o.cluster === key && !o.hidden; },
          clusterNodeProperties: {
            id: id, group: first.group, shape: "star", size: 26, borderWidth: 3,
            label: (currentLang() === "zh" ? first.cluster_label_zh : first.cluster_label) + " (" + members.length + ")",
            label_en: first.cluster_label + " (" + members.length + ")",
            label_zh: first.cluster_label_zh + " (" + members.length + ")",
            title: first.cluster_label + ": " + members.length + " findings, click to open"
          }
        });
        clusters[key] = id;
      });
    }
    function openCluster(id) {
      Object.keys(clusters).forEach(function (k) { if (clusters[k] === id) { delete clusters[k]; } });
      network.openCluster(id);
      count();
    }
    function openAll(layer) {
      Object.keys(clusters).forEach(function (k) {
        var id = clusters[k];
        var inner = network.getNodesInCluster(id);
        var n = inner.length ? nodes.get(inner[0]) : null;
        if (!layer || (n && n.layer === layer)) { delete clusters[k]; network.openCluster(id); }
      });
    }

    // ---- layers: plan items, findings, own runs, statements; off until switched on
    var boxes = document.querySelectorAll("#" + el.id + "-layers input[data-layer], fieldset.layers[data-for='" + el.id + "'] input[data-layer]");
    boxes.forEach(function (box) {
      box.addEventListener("change", function () { setLayer(box.dataset.layer, box.checked); });
    });
    function setLayer(layer, on) {
      if (!on) { openAll(layer); }
      nodes.update(nodes.get({ filter: function (n) { return n.layer === layer; } })
        .map(function (n) { return { id: n.id, hidden: !on }; }));
      if (on) { closeClusters(layer); }
      count();
      declutter();
    }
    el.setLayer = setLayer;

    // ---- the find box: centre a node, select and enlarge it, label it
    var form = document.querySelector("form.find[data-for='" + el.id + "']");
    var found = null;
    function names() {
      var list = form && document.getElementById(form.querySelector("input").getAttribute("list"));
      if (!list) { return; }
      list.textContent = "";
      var seen = {};
      nodes.forEach(function (n) {
        [n.label_en, n.label_zh].forEach(function (l) {
          if (l && !seen[l]) { seen[l] = true; var o = document.createElement("option"); o.value = l; list.appendChild(o); }
        });
      });
    }
    function lookup(text) {
      var q = text.trim().normalize("NFKC").toLowerCase();
      if (!q) { return null; }
      var all = nodes.get();
      var exact = all.filter(function (n) {
        return [n.label_en, n.label_zh, n.id].some(function (l) { return l && l.normalize("NFKC").toLowerCase() === q; });
      });
      if (exact.length) { return exact[0]; }
      var part = all.filter(function (n) {
        return [n.label_en, n.label_zh].some(function (l) { return l && l.normalize("NFKC").toLowerCase().indexOf(q) >= 0; });
      });
      part.sort(function (a, b) { return (a.layer ? 1 : 0) - (b.layer ? 1 : 0) || a.label_en.length - b.label_en.length; });
      return part.length ? part[0] : null;
    }
    function find(text) {
      var node = lookup(text);
      var result = form && form.querySelector("#" + el.id + "-find-result");
      if (!node) {
        // a copy of the message's elements, one per language, so the switch shows one
        // (its text alone would run both languages together)
        if (result) {
          result.replaceChildren.apply(result, Array.prototype.map.call(
            document.getElementById(el.id + "-find-missing").childNodes,
            function (n) { return n.cloneNode(true); }));
        }
        return null;
      }
      if (node.hidden) {
        var box = document.querySelector("fieldset.layers[data-for='" + el.id + "'] input[data-layer='" + node.layer + "']");
        if (box) { box.checked = true; }
        setLayer(node.layer, true);
      }
      var owner = network.findNode(node.id);
      if (owner.length > 1) { openCluster(owner[0]); }
      if (found && found !== node.id) { nodes.update({ id: found, font: { size: 14 }, borderWidth: 1, size: 14 }); }
      nodes.update({ id: node.id, borderWidth: 6, size: 30,
                     font: { size: 22, strokeWidth: 6, strokeColor: "#ffff66", color: "#000000", bold: true } });
      found = node.id;
      network.selectNodes([node.id]);
      network.focus(node.id, { scale: 1.2, animation: false });
      declutter();
      el.setAttribute("data-found", node.id);
      if (result) { result.textContent = node.label_en + (node.label_zh && node.label_zh !== node.label_en ? " · " + node.label_zh : ""); }
      return node.id;
    }
    el.find = find;
    if (form) {
      names();
      form.addEventListener("submit", function (e) { e.preventDefault(); find(form.querySelector("input").value); });
    }

    graphs.push({
      relabel: function (to) {
        if (tidy) {
          declutter();
        } else nodes.update(nodes.get().map(function (n) {
          return { id: n.id, label: to === "zh" ? (n.label_zh || n.label_en) : n.label_en };
        }));
        edges.update(edges.get().map(function (e) {
          return { id: e.id, label: to === "zh" ? (e.label_zh || e.label_en) : e.label_en };
        }));
        Object.keys(clusters).forEach(function (k) {
          var id = clusters[k], body = network.body.nodes[id];
          if (body) { body.setOptions({ label: to === "zh" ? body.options.label_zh : body.options.label_en }); }
        });
        network.redraw();
      }
    });
  }
  window.workflowKgDrawGraph = drawGraph;

  // ---- tables whose headings sort them (the static site; the service sorts on the server)
  function sortable(table) {
    table.querySelectorAll("thead th[data-sort]").forEach(function (th, index) {
      var link = th.querySelector("a");
      th.addEventListener("click", function (e) {
        if (!table.dataset.clientSort) { return; }  // the service's links sort on the server
        e.preventDefault();
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var desc = th.getAttribute("aria-sort") === "ascending";
        var col = Array.prototype.indexOf.call(th.parentNode.children, th);
        rows.sort(function (a, b) {
          var x = a.cells[col].dataset.value || a.cells[col].textContent.trim();
          var y = b.cells[col].dataset.value || b.cells[col].textContent.trim();
          var nx = parseFloat(x), ny = parseFloat(y);
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        void link; void index;
      });
    });
  }
})();
