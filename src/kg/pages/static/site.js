// Workflow KG pages: the language switch (kept between pages) and graph drawing.
(function () {
  "use strict";
  var KEY = "workflow-kg-lang";
  function setLang(lang) {
    document.documentElement.setAttribute("data-lang", lang);
    try { localStorage.setItem(KEY, lang); } catch (e) { /* file:// may refuse storage */ }
    document.querySelectorAll(".langswitch button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    });
  }
  var saved = null;
  try { saved = localStorage.getItem(KEY); } catch (e) { saved = null; }
  setLang(saved === "zh" ? "zh" : "en");
  document.addEventListener("DOMContentLoaded", function () {
    setLang(document.documentElement.getAttribute("data-lang"));
    document.querySelectorAll(".langswitch button").forEach(function (b) {
      b.addEventListener("click", function () { setLang(b.dataset.lang); });
    });
    document.querySelectorAll("[data-graph]").forEach(drawGraph);
  });

  // A graph element carries the id of a <script type="application/json"> holding
  // {nodes, edges, options}; clicking a node opens its page (the node's url).
  function drawGraph(el) {
    if (typeof vis === "undefined") { el.textContent = "The graph library did not load."; return; }
    var data = JSON.parse(document.getElementById(el.dataset.graph).textContent);
    var nodes = new vis.DataSet(data.nodes);
    var edges = new vis.DataSet(data.edges);
    var network = new vis.Network(el, { nodes: nodes, edges: edges }, data.options);
    el.network = network;
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({ physics: { enabled: false } });
      el.setAttribute("data-ready", "true");
    });
    network.once("afterDrawing", function () {
      if (!data.options.physics || !data.options.physics.enabled) { el.setAttribute("data-ready", "true"); }
    });
    network.on("click", function (params) {
      if (params.nodes.length === 1) {
        var node = nodes.get(params.nodes[0]);
        if (node && node.url) { window.location.href = node.url; }
      }
    });
  }
  window.workflowKgDrawGraph = drawGraph;
})();
