"""Graph views with pyvis: the whole graph, a neighbourhood, or the explained paths
between two resources, as vis-network data (nodes coloured and shaped by class, edges
labelled by property and styled by evidence status) and as a self-contained HTML page.

pyvis builds the network (nodes, edges, options); the page is our own template, because
pyvis's templates load Bootstrap and vis-network from CDNs even in their "local" and
"in_line" modes. vis-network itself is the copy pyvis ships, inlined or served locally.

>>> temporal = "https://w3id.org/workflow-kg/resource/temporal"
>>> view = neighbourhood(graph.store, temporal, depth=1)          # doctest: +SKIP
>>> html = standalone_html(view, title="Temporal")                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
from pyvis.network import Network

from ..errors import QueryError, ResourceNotFound
from ..evidence.catalogue import STATUSES, Catalogue, catalogue, per_version
from ..namespaces import WF, shorten
from .search import suggestions

# Domain links between resources (as in kg.evidence.paths), plus the links of evidenced facts
# (case studies, findings) to what they name.
_EDGES = """
SELECT DISTINCT ?s ?p ?o WHERE {
  ?s ?p ?o .
  FILTER (isIRI(?o) && isIRI(?s) && ?s != ?o)
  FILTER (STRSTARTS(STR(?p), STR(wf:)) || ?p = dcterms:isPartOf)
  FILTER (?p NOT IN (wf:evidenceStatus, wf:sourceKind, wf:metric, wf:result, wf:backendRole,
                     wf:impact, wf:probability, wf:homepage, wf:unitQudt))
}"""
# Claims of statements with their status: contradicted ones have no plain triple, but
# the graph shows them, dashed, so a reader sees what the plan claimed.
_CLAIMS = """
SELECT ?s ?p ?o ?status WHERE {
  ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; wf:evidenceStatus ?status .
  FILTER (isIRI(?o))
}"""

# Groups of classes, each with a colour (Okabe-Ito, safe for colour-blind readers) and a
# shape (so the legend also reads in greyscale). The first group a node belongs to wins.
GROUPS: list[tuple[str, str, str, str]] = [
    # (group, class local name, colour, vis shape)
    ("case study", "CaseStudy", "#E69F00", "diamond"),
    ("benchmark finding", "BenchmarkFinding", "#D55E00", "star"),
    ("verification finding", "VerificationFinding", "#CC79A7", "star"),
    ("statement", "Statement", "#999999", "dot"),
    ("workflow engine", "WorkflowEngine", "#0072B2", "square"),
    ("storage backend", "StorageBackend", "#56B4E9", "triangleDown"),
    ("technology", "Technology", "#56B4E9", "box"),
    ("theory", "Theory", "#009E73", "hexagon"),
    ("mechanism", "Mechanism", "#F0E442", "triangle"),
    ("property", "SystemProperty", "#CC79A7", "ellipse"),
    ("course", "Course", "#009E73", "box"),
    ("organisation", "Organisation", "#000000", "dot"),
    ("domain", "ApplicationDomain", "#E69F00", "square"),
    ("plan", "PlanItem", "#BBBBBB", "dot"),
    ("source", "Source", "#777777", "text"),
]
_OTHER = ("other", "", "#AAAAAA", "dot")
EDGE_STYLES = {  # evidence status -> (colour, dashes)
    "verified": ("#0072B2", False), "unverified": ("#E69F00", True),
    "contradicted": ("#D55E00", [2, 6]), None: ("#888888", False)}
VIS_DIR = Path(__import__("pyvis").__file__).parent / "lib" / "vis-9.1.2"
MAX_NODES = 2500
PHYSICS_NODES = 300


@dataclass
class GraphView:
    """Nodes and edges in vis-network's form, with the legend and what was asked."""

    title: str
    nodes: list[dict]
    edges: list[dict]
    options: dict
    legend: list[dict] = field(default_factory=list)
    focus: str | None = None
    paths: list[list[str]] = field(default_factory=list)  # explained paths, in words
    truncated: bool = False

    def to_dict(self) -> dict:
        return {"title": self.title, "nodes": self.nodes, "edges": self.edges,
                "options": self.options, "legend": self.legend, "focus": self.focus,
                "paths": self.paths, "truncated": self.truncated}


def group_of(cat: Catalogue, iri: str) -> tuple[str, str, str, str]:
    for entry in GROUPS:
        if cat.is_a(iri, str(WF[entry[1]])):
            return entry
    return _OTHER


def links(store) -> nx.MultiDiGraph:
    """Every domain link of the store, each edge with its predicate and the evidence
    status of the claim behind it, read once per store version."""
    return per_version(store, "links", lambda: _read_links(store))


def _read_links(store) -> nx.MultiDiGraph:
    status: dict[tuple[str, str, str], str] = {}
    order = {"verified": 0, "unverified": 1, "contradicted": 2}
    for row in store.query(_CLAIMS).rows():
        triple = (row["s"].value, row["p"].value, row["o"].value)
        name = STATUSES.get(row["status"].value, shorten(row["status"].value))
        if triple not in status or order.get(name, 3) < order.get(status[triple], 3):
            status[triple] = name
    g = nx.MultiDiGraph()
    for row in store.query(_EDGES).rows():
        s, p, o = row["s"].value, row["p"].value, row["o"].value
        g.add_edge(s, o, key=p, predicate=p, status=status.get((s, p, o)))
    for (s, p, o), name in status.items():
        if name == "contradicted" and not g.has_edge(s, o, key=p):
            g.add_edge(s, o, key=p, predicate=p, status=name)
    return g


def _network(cat: Catalogue, g: nx.MultiDiGraph, nodes: Iterable[str], *, lang: str,
             href: Callable[[str], str], focus: str | None = None,
             positions: dict[str, tuple[float, float]] | None = None,
             highlight: set[tuple[str, str]] | None = None) -> Network:
    net = Network(directed=True, cdn_resources="local")
    chosen = list(nodes)
    keep = set(chosen)
    for iri in chosen:
        name, _, _, shape = group_of(cat, iri)
        label = cat.label(iri, lang)
        kw = {}
        if positions and iri in positions:
            kw = {"x": positions[iri][0], "y": positions[iri][1], "physics": False}
        status = cat.status.get(iri)
        title = f"{label}\n{name}" + (f" · {status}" if status else "") + f"\n{shorten(iri)}"
        net.add_node(iri, label=label if len(label) <= 40 else label[:39] + "…",
                     title=title, shape=shape, group=name, url=href(iri),
                     borderWidth=4 if iri == focus else 1, size=22 if iri == focus else 14,
                     **kw)
    for s, o, data in g.edges(data=True):
        if s in keep and o in keep:
            colour, dashes = EDGE_STYLES.get(data["status"], EDGE_STYLES[None])
            on_path = highlight is not None and ((s, o) in highlight or (o, s) in highlight)
            net.add_edge(s, o, label=cat.label(data["predicate"], lang), color=colour,
                         dashes=dashes, width=4 if on_path else 1.5,
                         title=f"{cat.label(data['predicate'], lang)}"
                               + (f" ({data['status']})" if data["status"] else ""),
                         status=data["status"] or "")
    return net


def _options(*, physics: bool) -> dict:
    return {
        "nodes": {"font": {"size": 14, "face": "sans-serif"}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
                  "font": {"size": 9, "align": "middle", "color": "#444444"}, "smooth": False},
        "interaction": {"hover": True, "keyboard": {"enabled": True}, "navigationButtons": True,
                        "tooltipDelay": 150},
        "groups": {g: {"color": {"background": c, "border": "#333333"}, "shape": sh}
                   for g, _, c, sh in GROUPS + [_OTHER]},
        "physics": {"enabled": physics, "solver": "barnesHut",
                    "barnesHut": {"gravitationalConstant": -12000, "springLength": 190,
                                  "avoidOverlap": 0.4},
                    "stabilization": {"enabled": True, "iterations": 300, "fit": True}},
    }


def _view(cat: Catalogue, net: Network, title: str, *, physics: bool, focus=None,
          paths=None, truncated=False) -> GraphView:
    nodes, edges, *_ = net.get_network_data()
    used = {n["group"] for n in nodes}
    legend = [{"group": g, "colour": c, "shape": s} for g, _, c, s in GROUPS + [_OTHER]
              if g in used]
    # pyvis adds the node's id as a title when none is given; we always give one
    return GraphView(title=title, nodes=nodes, edges=edges, options=_options(physics=physics),
                     legend=legend, focus=focus, paths=paths or [], truncated=truncated)


def _check(cat: Catalogue, iri: str) -> None:
    if not cat.known(iri):
        hints = [shorten(s) for s in suggestions(cat, iri)]
        raise ResourceNotFound(f"nothing is known about {shorten(iri)}", suggestions=hints)


def neighbourhood(store, iri: str, *, depth: int = 1, lang: str = "en",
                  href: Callable[[str], str] = str, max_nodes: int = 150) -> GraphView:
    """The resource and everything within `depth` links of it (either direction)."""
    cat = catalogue(store)
    _check(cat, iri)
    depth = max(1, min(int(depth), 4))
    g = links(store)
    undirected = g.to_undirected(as_view=True)
    if iri in g:
        reach = nx.single_source_shortest_path_length(undirected, iri, cutoff=depth)
        ordered = sorted(reach, key=lambda n: (reach[n], cat.label(n).casefold()))
    else:
        ordered = [iri]
    truncated = len(ordered) > max_nodes
    net = _network(cat, g, ordered[:max_nodes], lang=lang, href=href, focus=iri)
    return _view(cat, net, f"{cat.label(iri, lang)}: neighbourhood, depth {depth}",
                 physics=True, focus=iri, truncated=truncated)


def _layout(store) -> dict[str, tuple[float, float]]:
    """A precomputed layout of the whole graph (seeded, so it is the same every time),
    cached per store version: the browser draws it at once, no physics to settle."""
    def compute() -> dict[str, tuple[float, float]]:
        simple = nx.Graph(links(store).to_undirected())
        scale = 120 * math.sqrt(max(len(simple), 1))
        pos = nx.spring_layout(simple, seed=7, iterations=60, scale=scale) if len(simple) else {}
        return {n: (round(float(x), 1), round(float(y), 1)) for n, (x, y) in pos.items()}
    return per_version(store, "layout", compute)


def whole(store, *, classes: Iterable[str] = (), statuses: Iterable[str] = (),
          lang: str = "en", href: Callable[[str], str] = str,
          max_nodes: int = MAX_NODES) -> GraphView:
    """The whole graph of linked resources, optionally only nodes of some classes (IRIs)
    and edges of some evidence statuses (verified, unverified, contradicted, none)."""
    cat = catalogue(store)
    g = links(store)
    classes, statuses = list(classes), set(statuses)
    for cls in classes:
        if cls not in cat.superclasses and cls not in {t for ts in cat.types.values()
                                                       for t in ts}:
            raise QueryError(f"unknown class {shorten(cls)} for the graph filter")
    if statuses:
        g = nx.MultiDiGraph((s, o, k, d) for s, o, k, d in g.edges(keys=True, data=True)
                            if (d["status"] or "none") in statuses)
    nodes = [n for n in g if not classes or any(cat.is_a(n, c) for c in classes)]
    nodes.sort(key=lambda n: (-g.degree(n), n))
    truncated = len(nodes) > max_nodes
    # The whole graph is drawn at precomputed positions (no physics to wait for); a
    # filtered view small enough to settle in a moment is laid out afresh.
    physics = bool(classes or statuses) and len(nodes) <= PHYSICS_NODES
    positions = None if physics else _layout(store)
    net = _network(cat, g, nodes[:max_nodes], lang=lang, href=href, positions=positions)
    title = "Workflow KG: the whole graph" + (" (filtered)" if classes or statuses else "")
    return _view(cat, net, title, physics=physics, truncated=truncated)


def path_view(store, a: str, b: str, *, limit: int = 3, lang: str = "en",
              href: Callable[[str], str] = str) -> GraphView:
    """The shortest explained paths between two resources (kg.evidence.paths), drawn."""
    from ..evidence.paths import LinkGraph

    cat = catalogue(store)
    for iri in (a, b):
        _check(cat, iri)
    found = per_version(store, "paths", lambda: LinkGraph(store)).paths(a, b, limit=limit)
    labels = {iri: cat.label(iri, lang) for p in found for iri in p.nodes}
    labels.update({s.predicate: cat.label(s.predicate, lang) for p in found for s in p.steps})
    nodes = list(dict.fromkeys(n for p in found for n in p.nodes)) or [a, b]
    on_path = {(s.source, s.target) for p in found for s in p.steps}
    g = links(store)
    sub = nx.MultiDiGraph()
    for p in found:
        for s in p.steps:
            src, dst = (s.source, s.target) if s.forward else (s.target, s.source)
            data = g.get_edge_data(src, dst, key=s.predicate) or {"status": None}
            sub.add_edge(src, dst, key=s.predicate, predicate=s.predicate,
                         status=data.get("status"))
    net = _network(cat, sub, nodes, lang=lang, href=href, focus=a, highlight=on_path)
    return _view(cat, net, f"{cat.label(a, lang)} → {cat.label(b, lang)}", physics=True,
                 focus=a, paths=[p.explain(labels) for p in found])


def vis_asset(name: str) -> str:
    """The text of a vis-network asset shipped with pyvis (vis-network.min.js, .css)."""
    return (VIS_DIR / name).read_text(encoding="utf-8")


def standalone_html(view: GraphView, *, title: str | None = None) -> str:
    """One self-contained page (vis-network inlined): opens from disk, no network."""
    from .render import render

    return render("graph_standalone.html", view=view, title=title or view.title,
                  vis_js=vis_asset("vis-network.min.js"),
                  vis_css=vis_asset("vis-network.css"))


__all__ = ["GROUPS", "GraphView", "links", "neighbourhood", "path_view",
           "standalone_html", "vis_asset", "whole"]
