// The query editor: YASGUI pointed at this service's /sparql, with no remote look-ups
// (no endpoint catalogue, no LOV or prefix.cc autocompletion), the named queries as
// examples, and result IRIs of this dataset linked to their pages.
(function () {
  "use strict";
  var examples = JSON.parse(document.getElementById("examples").textContent);
  var prefixes = JSON.parse(document.getElementById("prefixes").textContent);
  var endpoint = window.location.origin + "/sparql";
  var BASE = "https://w3id.org/workflow-kg/";
  var header = Object.keys(prefixes).map(function (p) {
    return "PREFIX " + p + ": <" + prefixes[p] + ">";
  }).join("\n");
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  // The service declares these prefixes for every query (as `kg query -e` does): tell
  // the editor's syntax check, so `wf:WorkflowEngine` with no PREFIX line is not marked.
  var CM = Yasgui.Yasqe;
  var sparqlMode = CM.modes && CM.modes.sparql11;
  if (sparqlMode && CM.defineMode) {
    CM.defineMode("sparql11", function (config, parserConfig) {
      var mode = sparqlMode(config, parserConfig);
      var start = mode.startState;
      mode.startState = function () {
        var state = start.apply(this, arguments);
        Object.keys(prefixes).forEach(function (p) {
          if (state.prefixes[p] === undefined) { state.prefixes[p] = prefixes[p]; }
        });
        return state;
      };
      return mode;
    });
  }
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    persistenceId: "workflow-kg-query",
    yasqe: { value: header + "\n\nSELECT ?engine ?label WHERE {\n  ?engine a wf:WorkflowEngine ; rdfs:label ?label .\n  FILTER (LANG(?label) = \"en\")\n} ORDER BY ?label" },
    yasr: {
      prefixes: prefixes,
      plugins: { table: { dynamicConfig: {} } }
    }
  });
  // Local IRIs open their page on this service rather than the w3id.org redirect.
  document.getElementById("yasgui").addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href^='" + BASE + "']");
    if (!a) { return; }
    var iri = a.getAttribute("href");
    var rest = iri.slice(BASE.length);
    var path = rest.indexOf("ontology#") === 0 ? "/ontology#" + rest.slice(9) : "/" + rest;
    e.preventDefault();
    window.location.href = path;
  }, true);
  document.querySelectorAll("[data-example]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      var name = a.dataset.example;
      var tab = yasgui.addTab(true, { name: name });
      tab.setQuery(examples[name]);
      tab.setEndpoint(endpoint);
    });
  });
  var tab = yasgui.getTab();
  if (tab) { tab.setEndpoint(endpoint); }
  window.workflowKgYasgui = yasgui;
})();
