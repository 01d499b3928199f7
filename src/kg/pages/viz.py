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

import json
import math
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
from pyvis.network import Network

from ..errors import QueryError
from ..evidence.catalogue import STATUSES, Catalogue, catalogue, per_version
from ..namespaces import WF, shorten
from ..query.results import streamed_rows
from ..query.terms import not_found
from ..query.versions import in_background, ready
from .messages import zh

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

# Classes of nodes, each with its own colour (Okabe-Ito's eight, then Paul Tol's "muted"
# scheme: both chosen to stay apart for colour-blind readers) and a shape, so no two
# share a colour and the legend also reads in greyscale. The first group a node
# belongs to wins. `main` groups are labelled at the overview's zoom; a `layer` group is
# hidden until its layer is switched on in the page.
@dataclass(frozen=True)
class Group:
    name: str  # its Chinese is in kg.pages.messages
    cls: str  # local name in wf:
    colour: str
    shape: str
    main: bool = False
    layer: str = ""


GROUPS: list[Group] = [
    Group("case study", "CaseStudy", "#E69F00", "diamond"),
    Group("benchmark finding", "BenchmarkFinding", "#D55E00", "star",
          layer="findings"),
    Group("verification finding", "VerificationFinding", "#882255", "star",
          layer="findings"),
    Group("statement", "Statement", "#999999", "dot", layer="statements"),
    Group("workflow engine", "WorkflowEngine", "#0072B2", "square", main=True),
    Group("storage backend", "StorageBackend", "#56B4E9", "triangleDown", main=True),
    Group("SDK", "SDK", "#332288", "triangle"),
    Group("technology", "Technology", "#88CCEE", "dot"),
    Group("theory", "Theory", "#009E73", "hexagon", main=True),
    Group("mechanism", "Mechanism", "#F0E442", "triangle", main=True),
    Group("property", "SystemProperty", "#CC79A7", "diamond", main=True),
    Group("course", "Course", "#117733", "square"),
    Group("organisation", "Organisation", "#000000", "dot"),
    Group("domain", "ApplicationDomain", "#DDCC77", "hexagon"),
    Group("plan", "PlanItem", "#44AA99", "dot", layer="plan"),
    Group("source", "Source", "#AA4499", "square"),
]
_OTHER = Group("other", "", "#DDDDDD", "dot")
LAYERS = {"plan": "plan items", "findings": "findings", "own": "own runs",
          "statements": "statements"}
SHAPE_GLYPHS = {"square": "■", "triangle": "▲", "triangleDown": "▼", "dot": "●",
                "diamond": "◆", "star": "★", "hexagon": "⬢"}
EDGE_STYLES = {  # evidence status -> (colour, dashes)
    "verified": ("#0072B2", False), "unverified": ("#E69F00", True),
    "contradicted": ("#D55E00", [2, 6]), None: ("#888888", False)}
VIS_DIR = Path(__import__("pyvis").__file__).parent / "lib" / "vis-9.1.2"
MAX_NODES = 2500
PHYSICS_NODES = 300
MAIN_FONT = 48  # world units: about 14 px on screen at the overview's zoom
# Whose labels the overview keeps when labels would overlap: these classes first.
FIRST_LABELLED = ("workflow engine", "theory", "property")
FONT = 14
# How a focus view ranks the nodes it may show before the cap: entities first.
_RANK = {"": 0, "statements": 2, "findings": 3, "own": 3, "plan": 4}
_BENCH_GROUPS = """
SELECT ?f ?system ?workload ?run WHERE {
  ?f a wf:BenchmarkFinding .
  OPTIONAL { ?f wf:system ?system }
  OPTIONAL { ?f wf:workload ?workload }
  OPTIONAL { ?f prov:wasGeneratedBy ?run . ?run a wf:ProgrammeRun }
}"""
_OWN = """
SELECT DISTINCT ?f WHERE { ?f prov:wasGeneratedBy ?run . ?run a wf:ProgrammeRun }"""


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
    # per path, each step's fact (statement, finding) and its sources' keys
    path_facts: list[list[dict]] = field(default_factory=list)
    truncated: bool = False
    left_out: dict[str, int] = field(default_factory=dict)  # group -> nodes not shown
    layers: dict[str, int] = field(default_factory=dict)  # layer -> nodes it holds

    def to_dict(self) -> dict:
        return {"title": self.title, "nodes": self.nodes, "edges": self.edges,
                "options": self.options, "legend": self.legend, "focus": self.focus,
                "paths": self.paths, "path_facts": self.path_facts,
                "truncated": self.truncated, "left_out": self.left_out, "layers": self.layers}


def group_of(cat: Catalogue, iri: str) -> Group:
    for entry in GROUPS:
        if cat.is_a(iri, str(WF[entry.cls])):
            return entry
    return _OTHER


class _Facts:
    """Which findings are the programme's own runs, and the group (system and workload)
    each benchmark finding belongs to, read once per store version."""

    def __init__(self, store):
        self.own: set[str] = {r["f"].value for r in streamed_rows(store, _OWN)}
        self.cluster: dict[str, tuple[str, str]] = {}
        for r in streamed_rows(store, _BENCH_GROUPS):
            system = r["system"].value if "system" in r else ""
            workload = r["workload"].value if "workload" in r else ""
            if system:
                self.cluster[r["f"].value] = (system, workload)
            if "run" in r:
                self.own.add(r["f"].value)


def _facts(store) -> _Facts:
    return per_version(store, "graph-facts", lambda: _Facts(store))


def layer_of(facts: _Facts, group: Group, iri: str) -> str:
    if group.layer == "findings" and iri in facts.own:
        return "own"
    return group.layer


def links(store) -> nx.MultiDiGraph:
    """Every domain link of the store, each edge with its predicate and the evidence
    status of the claim behind it, read once per store version."""
    return per_version(store, "links", lambda: _read_links(store))


def _read_links(store) -> nx.MultiDiGraph:
    status: dict[tuple[str, str, str], str] = {}
    order = {"verified": 0, "unverified": 1, "contradicted": 2}
    for row in streamed_rows(store, _CLAIMS):
        triple = (row["s"].value, row["p"].value, row["o"].value)
        name = STATUSES.get(row["status"].value, shorten(row["status"].value))
        if triple not in status or order.get(name, 3) < order.get(status[triple], 3):
            status[triple] = name
    g = nx.MultiDiGraph()
    for row in streamed_rows(store, _EDGES):
        s, p, o = row["s"].value, row["p"].value, row["o"].value
        g.add_edge(s, o, key=p, predicate=p, status=status.get((s, p, o)))
    for (s, p, o), name in status.items():
        if name == "contradicted" and not g.has_edge(s, o, key=p):
            g.add_edge(s, o, key=p, predicate=p, status=name)
    return g


def _network(cat: Catalogue, g: nx.MultiDiGraph, nodes: Iterable[str], *, lang: str,
             href: Callable[[str], str], focus: str | None = None,
             positions: dict[str, tuple[float, float]] | None = None,
             highlight: set[tuple[str, str]] | None = None,
             facts: _Facts | None = None, overview: bool = False) -> Network:
    net = Network(directed=True, cdn_resources="local")
    chosen = list(nodes)
    keep = set(chosen)
    for iri in chosen:
        group = group_of(cat, iri)
        label = cat.label(iri, "en")
        label_zh = cat.label(iri, "zh")
        kw: dict = {}
        if positions and iri in positions:
            kw = {"x": positions[iri][0], "y": positions[iri][1], "physics": False}
        if overview and (group.main or iri == focus):
            kw["font"] = {"size": MAIN_FONT, "strokeWidth": 6, "strokeColor": "#ffffff"}
        if overview:  # the page declutters labels in this order
            kw["prio"] = 9 if iri == focus else (
                (2 if group.name in FIRST_LABELLED else 1 if group.main else 0)
                + (min(g.degree(iri), 999) / 1000 if iri in g else 0))
        if facts is not None:
            kw["layer"] = layer_of(facts, group, iri)
            if iri in facts.cluster and kw["layer"]:
                system, workload = facts.cluster[iri]
                kw["cluster"] = f"{system}|{workload}"
                kw["cluster_label"] = cat.label(system, "en") + " · " + \
                    (workload.split(":", 1)[0] if workload else "findings")
                kw["cluster_label_zh"] = cat.label(system, "zh") + " · " + \
                    (workload.split(":", 1)[0] if workload else "发现")
        status = cat.status.get(iri)
        title = f"{label}\n{group.name}" + (f" · {status}" if status else "") + \
            f"\n{shorten(iri)}"
        net.add_node(iri, label=_short(label if lang == "en" else label_zh),
                     label_en=_short(label), label_zh=_short(label_zh),
                     title=title, shape=group.shape, group=group.name, url=href(iri) or "",
                     borderWidth=4 if iri == focus else 1, size=22 if iri == focus else 14,
                     **kw)
    # the links among the chosen nodes, in the graph's own order (as g.edges gives them),
    # without reading every link of the graph for each page
    order = g.graph.get("order")
    if order is None or len(order) != len(g):  # made once per graph (nodes are only added)
        order = g.graph["order"] = {n: i for i, n in enumerate(g)}
    links = ((s, o, data) for s in sorted((n for n in keep if n in order), key=order.get)
             for _, o, data in g.out_edges(s, data=True))
    for s, o, data in links:
        if o in keep:
            colour, dashes = EDGE_STYLES.get(data["status"], EDGE_STYLES[None])
            on_path = highlight is not None and ((s, o) in highlight or (o, s) in highlight)
            name_en = cat.label(data["predicate"], "en")
            name_zh = cat.label(data["predicate"], "zh")
            net.add_edge(s, o, label=name_en if lang == "en" else name_zh, label_en=name_en,
                         label_zh=name_zh, color=colour,
                         dashes=dashes, width=4 if on_path else 1.5,
                         title=name_en + (f" ({data['status']})" if data["status"] else ""),
                         status=data["status"] or "")
    return net


def _short(label: str) -> str:
    return label if len(label) <= 40 else label[:39] + "…"


def _options(*, physics: bool) -> dict:
    return {
        "nodes": {"font": {"size": FONT, "face": "sans-serif"},
                  "scaling": {"label": {"drawThreshold": 6, "maxVisible": 18}}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
                  "font": {"size": 9, "align": "middle", "color": "#444444"}, "smooth": False},
        "interaction": {"hover": True, "keyboard": {"enabled": True}, "navigationButtons": True,
                        "tooltipDelay": 150},
        "groups": {g.name: {"color": {"background": g.colour, "border": "#333333",
                                      "highlight": {"background": g.colour,
                                                    "border": "#000000"}},
                            "shape": g.shape} for g in GROUPS + [_OTHER]},
        "physics": {"enabled": physics, "solver": "barnesHut",
                    "barnesHut": {"gravitationalConstant": -12000, "springLength": 190,
                                  "avoidOverlap": 0.4},
                    "stabilization": {"enabled": True, "iterations": 300, "fit": True}},
    }


def _view(cat: Catalogue, net: Network, title: str, *, physics: bool, focus=None,
          paths=None, truncated=False, left_out=None) -> GraphView:
    nodes, edges, *_ = net.get_network_data()
    used = {n["group"] for n in nodes}
    legend = [{"group": g.name, "group_zh": zh(g.name), "colour": g.colour, "shape": g.shape,
               "glyph": SHAPE_GLYPHS.get(g.shape, "●"), "layer": g.layer}
              for g in GROUPS + [_OTHER] if g.name in used]
    layers: dict[str, int] = {}
    for n in nodes:
        if n.get("layer"):
            layers[n["layer"]] = layers.get(n["layer"], 0) + 1
    # pyvis adds the node's id as a title when none is given; we always give one
    return GraphView(title=title, nodes=nodes, edges=edges, options=_options(physics=physics),
                     legend=legend, focus=focus, paths=paths or [], truncated=truncated,
                     left_out=left_out or {}, layers=layers)


def _check(store, cat: Catalogue, iri: str) -> None:
    if not cat.known(iri):
        raise not_found(store, iri)


def neighbourhood(store, iri: str, *, depth: int = 1, lang: str = "en",
                  href: Callable[[str], str] = str, max_nodes: int = 150) -> GraphView:
    """The resource and everything within `depth` links of it (either direction). When
    there are more than `max_nodes`, the nearest are kept, entities before statements,
    findings and plan items; `left_out` counts the rest by group."""
    cat = catalogue(store)
    _check(store, cat, iri)
    depth = max(1, min(int(depth), 4))
    g = links(store)
    facts = _facts(store)
    undirected = g.to_undirected(as_view=True)
    if iri in g:
        reach = nx.single_source_shortest_path_length(undirected, iri, cutoff=depth)

        def rank(n: str):
            layer = layer_of(facts, group_of(cat, n), n)
            return (n != iri, _RANK.get(layer, 1), reach[n], -undirected.degree(n),
                    cat.label(n).casefold())
        ordered = sorted(reach, key=rank)
    else:
        ordered = [iri]
    kept = ordered[:max_nodes]
    if len(ordered) > max_nodes and iri in g:
        # a node reached only through nodes left out would float unlinked: leave it out too
        linked = nx.node_connected_component(undirected.subgraph(kept), iri)
        kept = [n for n in kept if n in linked]
    truncated = len(kept) < len(ordered)
    left_out: dict[str, int] = {}
    shown = set(kept)
    for n in ordered:
        if n not in shown:
            name = group_of(cat, n).name
            left_out[name] = left_out.get(name, 0) + 1
    net = _network(cat, g, kept, lang=lang, href=href, focus=iri, facts=facts,
                   overview=True)
    return _view(cat, net, f"{cat.label(iri, lang)}: neighbourhood, depth {depth}",
                 physics=True, focus=iri, truncated=truncated, left_out=left_out)


LAYOUT_NODES = 1000  # laid out by force, the best linked first; the rest placed around them
LAYOUT_CHILD = Path(__file__).with_name("_layout_child.py")


def _layout(store) -> dict[str, tuple[float, float]] | None:
    """A precomputed layout of the whole graph (seeded, so it is the same every time),
    cached per store version: the browser draws it at once, no physics to settle. The
    nodes shown by default (no layer) are laid out first, among themselves, in a child
    process (_layout_child.py); at most LAYOUT_NODES of them, the best linked (at 100k
    triples the core has 5,000 nodes, a minute and a half of spring layout; the overview
    shows MAX_NODES). The other nodes and those of the layers are then placed around
    them with those positions fixed."""
    def compute() -> dict[str, tuple[float, float]]:
        simple = nx.Graph(links(store).to_undirected())
        if not len(simple):
            return {}
        cat = catalogue(store)
        facts = _facts(store)
        base = [n for n in simple if not layer_of(facts, group_of(cat, n), n)]
        parts = sorted(nx.connected_components(simple.subgraph(base)), key=len, reverse=True)
        core = simple.subgraph(parts[0]) if parts else simple.subgraph([])
        if len(core) > LAYOUT_NODES:
            core = core.subgraph(sorted(core, key=lambda n: (-simple.degree(n), n))
                                 [:LAYOUT_NODES])
        pos = _widen(_spring(core)) if len(core) else {}
        _place_around(simple, pos)  # the layers' nodes, around the fixed core
        scale = 90 * math.sqrt(max(len(core), 1))
        return {n: (round(x * scale, 1), round(y * scale, 1)) for n, (x, y) in pos.items()}
    # made in a thread of its own, once per store version: None until it is ready (the
    # page then lets the browser lay the graph out), so no request waits for it
    if ready(store, "layout"):
        return per_version(store, "layout", compute)
    in_background(store, "layout", compute)
    return None


def _spring(core: nx.Graph) -> dict[str, tuple[float, float]]:
    """nx.spring_layout of `core` (seed 7, 100 iterations), made in a child process. The
    nodes go in sorted: the seed gives the same layout only for the same node order, and
    a subgraph view iterates its nodes in the order of a set, which differs between
    processes."""
    job = {"nodes": sorted(core), "edges": [list(e) for e in core.edges()],
           "k": 1.6 / math.sqrt(max(len(core), 1)), "seed": 7, "iterations": 100}
    done = subprocess.run([sys.executable, str(LAYOUT_CHILD)], input=json.dumps(job).encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the graph layout failed: {done.stderr.decode(errors='replace')}")
    return {n: (x, y) for n, (x, y) in json.loads(done.stdout).items()}


def make_ahead(store) -> None:
    """Make the graph views' per-version values before a page asks: the links and the
    layers' facts. Not the layout: the first view does without it (the browser lays
    the graph out), and making it loads numerical libraries that a service that never
    shows the whole graph should not hold."""
    links(store)
    _facts(store)


def _widen(pos: dict[str, tuple[float, float]], aspect: float = 1.7
           ) -> dict[str, tuple[float, float]]:
    """The layout turned so that its longest axis is horizontal, and stretched to the
    page canvas's proportions (wider than high), centred on 0."""
    if len(pos) < 2:
        return pos
    n = len(pos)
    mx = sum(p[0] for p in pos.values()) / n
    my = sum(p[1] for p in pos.values()) / n
    sxx = sum((p[0] - mx) ** 2 for p in pos.values())
    syy = sum((p[1] - my) ** 2 for p in pos.values())
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pos.values())
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)  # the principal axis
    c, s = math.cos(-angle), math.sin(-angle)
    turned = {k: ((x - mx) * c - (y - my) * s, (x - mx) * s + (y - my) * c)
              for k, (x, y) in pos.items()}
    width = max(abs(p[0]) for p in turned.values()) or 1.0
    height = max(abs(p[1]) for p in turned.values()) or 1.0
    return {k: (x / width * aspect, y / height) for k, (x, y) in turned.items()}


def _place_around(simple: nx.Graph, pos: dict[str, tuple[float, float]]) -> None:
    """Give every node without a position one on a small ring around the mean of its
    placed neighbours (breadth first from the placed ones): the layers' nodes sit by what
    they name, and the core's layout does not move when a layer is switched on."""
    rest = sorted(n for n in simple if n not in pos)
    spread = 0.06
    while rest:
        placed_now = {}
        for number, n in enumerate(rest):
            near = [pos[m] for m in simple[n] if m in pos]
            if not near:
                continue
            cx = sum(p[0] for p in near) / len(near)
            cy = sum(p[1] for p in near) / len(near)
            angle = (number * 2.399963) % (2 * math.pi)  # the golden angle: no two alike
            radius = spread * (1 + (number % 7) / 3)
            placed_now[n] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
        if not placed_now:  # parts of the graph that do not touch the core: a row below it
            low = max((p[1] for p in pos.values()), default=0.0) + 0.12
            for number, n in enumerate(rest):
                placed_now[n] = (-0.9 + 1.8 * (number + 0.5) / len(rest), low)
        pos.update(placed_now)
        rest = [n for n in rest if n not in pos]


def whole(store, *, classes: Iterable[str] = (), statuses: Iterable[str] = (),
          lang: str = "en", href: Callable[[str], str] = str,
          max_nodes: int = MAX_NODES) -> GraphView:
    """The whole graph of linked resources, optionally only nodes of some classes (IRIs)
    and edges of some evidence statuses (verified, unverified, contradicted, none). Each
    node says its layer (plan, findings, own, statements: hidden until switched on in the
    page) and, for a benchmark finding, the group of its system and workload."""
    cat = catalogue(store)
    g = links(store)
    classes, statuses = list(classes), set(statuses)
    for cls in classes:
        cat.check_class(cls, "for the graph filter")
    known = {"verified", "unverified", "contradicted", "none"}
    for name in statuses:
        if name not in known:
            raise QueryError(f"status={name!r}: the evidence status of a link is one of "
                             "verified, unverified, contradicted, none")
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
    physics = physics or positions is None  # the layout is still being made
    net = _network(cat, g, nodes[:max_nodes], lang=lang, href=href, positions=positions,
                   facts=_facts(store), overview=not physics)
    title = "Workflow KG: the whole graph" + (" (filtered)" if classes or statuses else "")
    return _view(cat, net, title, physics=physics, truncated=truncated)


def path_view(store, a: str, b: str, *, limit: int = 3, lang: str = "en",
              href: Callable[[str], str] = str) -> GraphView:
    """The shortest explained paths between two resources (kg.evidence.paths), drawn."""
    from ..evidence.paths import LinkGraph

    cat = catalogue(store)
    for iri in (a, b):
        _check(store, cat, iri)
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
    view = _view(cat, net, f"{cat.label(a, lang)} → {cat.label(b, lang)}", physics=True,
                 focus=a, paths=[p.explain(labels) for p in found])
    view.path_facts = [[{"fact": s.fact, "keys": list(s.keys)} for s in p.steps if s.fact]
                       for p in found]
    return view


def vis_asset(name: str) -> str:
    """The text of a vis-network asset shipped with pyvis (vis-network.min.js, .css)."""
    return (VIS_DIR / name).read_text(encoding="utf-8")


def standalone_html(view: GraphView, *, title: str | None = None) -> str:
    """One self-contained page (vis-network inlined): opens from disk, no network."""
    from .render import render

    return render("graph_standalone.html", view=view, title=title or view.title,
                  vis_js=vis_asset("vis-network.min.js"),
                  vis_css=vis_asset("vis-network.css"))


__all__ = ["GROUPS", "LAYERS", "Group", "GraphView", "group_of", "links", "neighbourhood",
           "path_view",
           "standalone_html", "vis_asset", "whole"]
