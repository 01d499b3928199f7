"""Place/transition nets: read PNML, build the reachability graph, check CTL on it.

The net is read from PNML (ISO/IEC 15909-2, the P/T net type); its reachability graph is
a networkx digraph whose edges carry the fired transition. Boundedness is decided while
the graph is built: a marking that strictly covers one of its ancestors on its firing
path proves the net unbounded (the criterion behind the coverability tree, see Murata
1989). CTL formulas are checked with pyModelChecking on the Kripke structure of the graph
(dead markings get a self-loop, so every path is infinite). Atomic propositions: each
place's id (the place is marked), `dead` (no transition enabled) and `final` (as the
model's manifest defines it).
"""

from __future__ import annotations

import importlib.metadata
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from ..errors import ModelError, ToolError

MAX_MARKINGS = 200_000


@dataclass(frozen=True)
class Net:
    places: tuple[str, ...]
    initial: tuple[int, ...]
    transitions: dict[str, tuple[dict[int, int], dict[int, int]]]  # id -> (pre, post)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _int_text(element: ET.Element | None, where: str, default: int) -> int:
    if element is None:
        return default
    text = next((e.text for e in element.iter() if _local(e.tag) == "text"), None)
    try:
        return int((text or "").strip())
    except ValueError as err:
        raise ModelError(f"{where}: expected a whole number, found {text!r}") from err


def read_pnml(path: Path) -> Net:
    """A P/T net from a PNML file; a ModelError names the file, line or element at fault."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ModelError(f"{path}:{err.position[0]}: not well-formed XML: {err}") from err
    nets = [e for e in root.iter() if _local(e.tag) == "net"]
    if len(nets) != 1:
        raise ModelError(f"{path}: expected exactly one <net>, found {len(nets)}")
    places, initial, transitions, arcs = [], [], [], []
    for element in nets[0].iter():
        kind, ident = _local(element.tag), element.get("id")
        if kind == "place":
            marking = next((c for c in element if _local(c.tag) == "initialMarking"), None)
            places.append(ident)
            initial.append(_int_text(marking, f"{path}: place {ident}", 0))
        elif kind == "transition":
            transitions.append(ident)
        elif kind == "arc":
            weight = next((c for c in element if _local(c.tag) == "inscription"), None)
            arcs.append((ident, element.get("source"), element.get("target"),
                         _int_text(weight, f"{path}: arc {ident}", 1)))
    index = {p: i for i, p in enumerate(places)}
    net = {t: ({}, {}) for t in transitions}
    for ident, source, target, weight in arcs:
        if source in index and target in net:
            net[target][0][index[source]] = weight
        elif source in net and target in index:
            net[source][1][index[target]] = weight
        else:
            raise ModelError(f"{path}: arc {ident} must join a place and a transition "
                             f"({source} -> {target})")
    return Net(tuple(places), tuple(initial), net)


@dataclass
class StateSpace:
    net: Net
    graph: nx.DiGraph          # nodes: markings (tuples); edges: attribute 'transition'
    unbounded_place: str | None = None

    @property
    def bound(self) -> int:
        return max(max(m) for m in self.graph.nodes)

    def dead(self) -> list[tuple[int, ...]]:
        return [m for m in self.graph.nodes if self.graph.out_degree(m) == 0]


def reachability(net: Net, *, limit: int = MAX_MARKINGS) -> StateSpace:
    """The reachability graph, breadth first; stops at the first marking that proves the
    net unbounded. More than `limit` markings is a ToolError (no result is claimed)."""
    start = net.initial
    graph = nx.DiGraph()
    graph.add_node(start)
    parent: dict[tuple[int, ...], tuple[int, ...] | None] = {start: None}
    queue = deque([start])
    while queue:
        marking = queue.popleft()
        for name, (pre, post) in net.transitions.items():
            if any(marking[p] < w for p, w in pre.items()):
                continue
            after = list(marking)
            for p, w in pre.items():
                after[p] -= w
            for p, w in post.items():
                after[p] += w
            new = tuple(after)
            graph.add_edge(marking, new, transition=name)
            if new in parent:
                continue
            parent[new] = marking
            ancestor = marking
            while ancestor is not None:
                if all(a <= b for a, b in zip(ancestor, new, strict=True)) and ancestor != new:
                    grows = next(i for i, (a, b) in enumerate(zip(ancestor, new, strict=True))
                                 if b > a)
                    return StateSpace(net, graph, unbounded_place=net.places[grows])
                ancestor = parent[ancestor]
            if len(parent) > limit:
                raise ToolError(f"the reachability graph exceeds {limit} markings; "
                                "no result is recorded")
            queue.append(new)
    return StateSpace(net, graph)


@dataclass(frozen=True)
class CtlResult:
    holds: bool
    counterexample: tuple[str, ...] | None = None   # fired transitions, from the start


def labels(space: StateSpace, final: dict) -> dict[tuple[int, ...], set[str]]:
    """Atomic propositions of each marking: marked places, `dead`, `final`."""
    places = space.net.places
    marked, empty = set(final.get("marked", ())), set(final.get("empty", ()))
    unknown = (marked | empty) - set(places)
    if unknown:
        raise ModelError(f"the final marking names unknown places: {sorted(unknown)}")
    out = {}
    for m in space.graph.nodes:
        props = {p for p, n in zip(places, m, strict=True) if n > 0}
        if space.graph.out_degree(m) == 0:
            props.add("dead")
        if marked <= props and not (empty & props):
            props.add("final")
        out[m] = props
    return out


def check_ctl(space: StateSpace, formula: str, final: dict) -> CtlResult:
    """Whether the initial marking satisfies a CTL formula; for a failed `A G φ` or
    `A F φ`, the shortest firing sequence to a marking that shows it."""
    from pyModelChecking import Kripke
    from pyModelChecking.CTL import modelcheck
    from pyModelChecking.parser import UnexpectedToken

    nodes = list(space.graph.nodes)
    number = {m: i for i, m in enumerate(nodes)}
    props = labels(space, final)
    edges = [(number[a], number[b]) for a, b in space.graph.edges]
    edges += [(number[m], number[m]) for m in space.dead()]
    kripke = Kripke(S=list(range(len(nodes))), S0=[0], R=edges,
                    L={number[m]: props[m] for m in nodes})

    def sat(text: str) -> set[int]:
        try:
            return set(modelcheck(kripke, text))
        except (UnexpectedToken, ValueError, TypeError) as err:
            raise ModelError(f"cannot check the CTL formula {text!r}: {err}") from err

    if 0 in sat(formula):
        return CtlResult(True)
    body = formula.strip()
    graph, targets = space.graph, set()
    if body.startswith("A G"):          # a path to a marking where the body fails
        targets = {nodes[i] for i in sat(f"not ({body[3:].strip()})")}
    elif body.startswith("A F"):        # a path on which the body never holds, to its end
        graph = space.graph.subgraph(nodes[i] for i in sat(f"E G (not ({body[3:].strip()}))"))
        cyclic = {m for c in nx.strongly_connected_components(graph) if len(c) > 1 for m in c}
        targets = {m for m in graph.nodes if space.graph.out_degree(m) == 0} | cyclic
    if nodes[0] not in graph:
        return CtlResult(False)
    paths = nx.single_source_shortest_path(graph, nodes[0])
    reached = [p for m, p in paths.items() if m in targets]
    if not reached:
        return CtlResult(False)
    path = min(reached, key=len)
    fired = tuple(space.graph.edges[a, b]["transition"] for a, b in zip(path, path[1:],
                                                                         strict=False))
    return CtlResult(False, fired)


def checker_version() -> str:
    return importlib.metadata.version("pyModelChecking")


def networkx_version() -> str:
    return importlib.metadata.version("networkx")
