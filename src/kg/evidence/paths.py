"""Explained paths between two resources (competency question 15): the graph of domain
links as networkx sees it, and the shortest paths through it, each step labelled."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from ..errors import QueryError
from ..namespaces import shorten
from ..pipeline.evidence import UNVERIFIED_GRAPH, VERIFIED_GRAPH

# Links between resources: domain properties of the ontology, plan membership; not
# rdf:type or the statements' own bookkeeping (their plain triples are derived anyway).
_EDGES = """
SELECT DISTINCT ?s ?p ?o WHERE {
  ?s ?p ?o .
  FILTER (isIRI(?o) && ?s != ?o)
  FILTER (STRSTARTS(STR(?p), STR(wf:)) || ?p = dcterms:isPartOf)
  FILTER (?p NOT IN (wf:evidenceStatus, wf:sourceKind, wf:metric, wf:result, wf:backendRole,
                     wf:impact, wf:probability, wf:homepage))
}"""
_LABELS = 'SELECT ?s ?label WHERE { ?s rdfs:label ?label FILTER (LANG(?label) = "en") }'
# The evidence status of the links that statements state (the derived graphs).
_STATUSES = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_STATUS_OF_GRAPH = {str(VERIFIED_GRAPH): "verified", str(UNVERIFIED_GRAPH): "unverified"}
# The facts behind links: statements by their triple, and n-ary facts (case studies,
# findings) that are themselves one end of a link; with their sources' keys.
_FACTS = """
SELECT ?fact ?s ?p ?o ?key WHERE {
  { ?fact a wf:Statement ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
          wf:evidenceStatus ?status FILTER (?status != wf:Contradicted) }
  UNION { ?fact a wf:EvidencedFact FILTER NOT EXISTS { ?fact a wf:Statement } }
  OPTIONAL { ?fact cito:citesAsEvidence/wf:citationKey ?key }
}"""


@dataclass(frozen=True)
class Step:
    source: str
    predicate: str
    target: str
    forward: bool  # True when the triple reads source -> target
    # "verified" or "unverified" when a statement states the link; "" for a plain link
    # (plan structure, case-study attributes) that needs no evidence of its own
    evidence: str = ""
    fact: str | None = None  # the statement (or case study, finding) behind the link
    keys: tuple[str, ...] = ()  # citation keys of its sources

    def to_dict(self) -> dict:
        return {"source": self.source, "predicate": self.predicate, "target": self.target,
                "forward": self.forward, "evidence": self.evidence, "fact": self.fact,
                "keys": list(self.keys)}

    def __str__(self) -> str:
        arrow = f"-{shorten(self.predicate)}->" if self.forward else \
            f"<-{shorten(self.predicate)}-"
        mark = " [unverified]" if self.evidence == "unverified" else ""
        return f"{shorten(self.source)} {arrow} {shorten(self.target)}{mark}"


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def nodes(self) -> list[str]:
        return [self.steps[0].source] + [s.target for s in self.steps] if self.steps else []

    @property
    def facts(self) -> list[str]:
        """The facts the path rests on, step by step."""
        return list(dict.fromkeys(s.fact for s in self.steps if s.fact))

    def to_dict(self, labels: dict[str, str] | None = None) -> dict:
        return {"length": len(self), "nodes": self.nodes,
                "explained": self.explain(labels or {}),
                "steps": [s.to_dict() for s in self.steps]}

    def explain(self, labels: dict[str, str]) -> str:
        parts = [labels.get(self.nodes[0], shorten(self.nodes[0]))]
        for step in self.steps:
            name = labels.get(step.predicate, shorten(step.predicate))
            if step.evidence == "unverified":
                name += " [unverified]"
            parts.append(f"--{name}-->" if step.forward else f"<--{name}--")
            parts.append(labels.get(step.target, shorten(step.target)))
        return " ".join(parts)


class LinkGraph:
    """The resources of a store and the domain links between them, in the dataset whose
    default graph is `default_graph` (None: every graph; see KnowledgeGraph.view)."""

    def __init__(self, store, *, default_graph: list[str] | None = None):
        status: dict[tuple[str, str, str], str] = {}
        graphs = list(_STATUS_OF_GRAPH)
        for row in store.query(_STATUSES, named_graphs=graphs, default_graph=[]).rows():
            key = (row["s"].value, row["p"].value, row["o"].value)
            if status.get(key) != "verified":
                status[key] = _STATUS_OF_GRAPH[row["g"].value]
        import networkx as nx  # here: `import kg` stays light for one-shot commands

        self.graph = nx.MultiGraph()
        # edges in one order on every store, so that equally short paths tie the same way
        edges = sorted((row["s"].value, row["p"].value, row["o"].value)
                       for row in store.query(_EDGES, default_graph=default_graph).rows())
        for s, p, o in edges:
            self.graph.add_edge(s, o, predicate=p, source=s, evidence=status.get((s, p, o), ""))
        self.labels = dict(sorted((row["s"].value, row["label"].value)
                                  for row in store.query(_LABELS).rows()))
        self.facts: dict[tuple[str, str, str], str] = {}
        self.nary: set[str] = set()
        self.keys: dict[str, set[str]] = {}
        for row in store.query(_FACTS).rows():
            fact = row["fact"].value
            if "s" in row:
                self.facts.setdefault((row["s"].value, row["p"].value, row["o"].value), fact)
            else:
                self.nary.add(fact)
            keys = self.keys.setdefault(fact, set())
            if "key" in row:
                keys.add(row["key"].value)

    def fact_of(self, source: str, predicate: str, target: str) -> str | None:
        """The fact behind a link: its statement, or the n-ary fact at its source end."""
        fact = self.facts.get((source, predicate, target))
        if fact is None and source in self.nary:
            fact = source
        return fact

    def paths(self, a: str, b: str, *, limit: int = 3, max_length: int = 6) -> list[Path]:
        """Up to `limit` shortest simple paths from a to b, no longer than `max_length`."""
        for node in (a, b):
            if node not in self.graph:
                raise QueryError(f"{shorten(node)} has no links in the graph (or does not exist)")
        if a == b:
            raise QueryError(f"a path needs two different resources; both ends are {shorten(a)}")
        import networkx as nx

        simple = nx.Graph(self.graph)  # paths over nodes; edges re-expanded below
        found: list[Path] = []
        try:
            for nodes in islice(nx.shortest_simple_paths(simple, a, b), limit):
                if len(nodes) - 1 > max_length:
                    break
                steps = []
                for x, y in zip(nodes, nodes[1:], strict=False):
                    data = min(self.graph.get_edge_data(x, y).values(),
                               key=lambda d: (d["evidence"] == "unverified",
                                              d["source"] != x, d["predicate"]))
                    forward = data["source"] == x
                    s, o = (x, y) if forward else (y, x)
                    fact = self.fact_of(s, data["predicate"], o)
                    steps.append(Step(x, data["predicate"], y, forward=forward,
                                      evidence=data["evidence"], fact=fact,
                                      keys=tuple(sorted(self.keys.get(fact or "", ())))))
                found.append(Path(tuple(steps)))
        except nx.NetworkXNoPath:
            return []
        return found


__all__ = ["LinkGraph", "Path", "Step"]
