"""The whole graph's layout (kg.pages.viz._layout): made in the background, in a child
process, the same in every process, and by force for at most LAYOUT_NODES nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import networkx as nx

from kg import KnowledgeGraph
from kg.pages import viz
from kg.query.versions import ready
from tests.conftest import ROOT


def _made(store) -> dict:
    """The layout, asked for as a page asks (None at first), once it is made."""
    viz._layout(store)
    deadline = time.monotonic() + 120
    while not ready(store, "layout"):
        assert time.monotonic() < deadline, "the layout was never made"
        time.sleep(0.05)
    return viz._layout(store)


def test_the_layout_is_made_in_a_child_and_is_the_same_in_another_process(
        mini_project, monkeypatch):
    graph = KnowledgeGraph(mini_project)
    graph.build()

    def not_here(*args, **kwargs):
        raise AssertionError("the spring layout ran in the serving process")

    monkeypatch.setattr(nx, "spring_layout", not_here)
    here = _made(graph.store)
    assert here and len(here) == len(nx.Graph(viz.links(graph.store).to_undirected()))
    script = ("import json, sys; from kg import KnowledgeGraph; from kg.pages import viz; "
              "from kg.query.versions import per_version; "
              "viz.in_background = lambda s, n, make: per_version(s, n, make); "
              "g = KnowledgeGraph(sys.argv[1]); viz._layout(g.store); "
              "print(json.dumps(viz._layout(g.store)))")
    other = subprocess.run(
        [sys.executable, "-c", script, str(mini_project)], capture_output=True, text=True,
        check=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert {n: list(p) for n, p in here.items()} == json.loads(other.stdout)


def test_past_the_cap_the_best_linked_are_laid_out_and_the_rest_placed_around(
        mini_project, monkeypatch):
    graph = KnowledgeGraph(mini_project)
    graph.build()
    laid_out: list[list[str]] = []
    spring = viz._spring

    def recording(core):
        laid_out.append(sorted(core))
        return spring(core)

    monkeypatch.setattr(viz, "LAYOUT_NODES", 3)
    monkeypatch.setattr(viz, "_spring", recording)
    positions = _made(graph.store)
    simple = nx.Graph(viz.links(graph.store).to_undirected())
    assert len(laid_out) == 1 and len(laid_out[0]) == 3
    degrees = sorted((simple.degree(n) for n in simple), reverse=True)
    assert min(simple.degree(n) for n in laid_out[0]) >= degrees[2]  # the best linked
    assert set(positions) == set(simple)  # every node has a place
    assert len(set(positions.values())) == len(positions)  # and no two the same


def test_a_cut_neighbourhood_shows_no_node_cut_off_from_the_focus(curated):
    """When a neighbourhood has more nodes than it shows, a node reached only through
    nodes it leaves out is left out too (and counted), not drawn unlinked."""
    from kg.pages.viz import neighbourhood

    temporal = "https://w3id.org/workflow-kg/resource/temporal"
    view = neighbourhood(curated.store, temporal, depth=2).to_dict()
    assert view["truncated"] and sum(view["left_out"].values()) > 0
    shown = nx.Graph()
    shown.add_nodes_from(n["id"] for n in view["nodes"])
    shown.add_edges_from((e["from"], e["to"]) for e in view["edges"])
    assert nx.node_connected_component(shown, temporal) == set(shown)
