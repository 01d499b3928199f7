"""The evidence model at build time.

A fact is authored once, as a `wf:Statement` node (often a blank node). This module
gives every statement node a stable IRI and derives the plain triple it states, unless
the statement is contradicted. Derived triples land in one named graph per evidence
status (`graph/derived/verified`, `graph/derived/unverified`), so a query can restrict
itself to facts a source states: the *verified view* is every graph but the unverified
ones. See ontology/workflow-kg.ttl for the model."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from ..namespaces import GRAPH, STATEMENT, WF
from .load import SourceFile
from .store import term_to_rdflib

VERIFIED_GRAPH = GRAPH["derived/verified"]
UNVERIFIED_GRAPH = GRAPH["derived/unverified"]
UNVERIFIED_INFERRED_GRAPH = GRAPH["inferred/unverified"]
# Graphs a verified view leaves out: plain triples only an Unverified statement states,
# and what the reasoner infers only from them.
UNVERIFIED_GRAPHS = (str(UNVERIFIED_GRAPH), str(UNVERIFIED_INFERRED_GRAPH))
EVIDENCE_VIEWS = ("all", "verified")


def statement_iri(subject: Node, predicate: Node, obj: Node, taken: set[URIRef]) -> URIRef:
    """A stable IRI for a statement: a hash of its triple, with a counter on collision."""
    digest = hashlib.sha1(f"{subject.n3()} {predicate.n3()} {obj.n3()}".encode()).hexdigest()
    iri = STATEMENT[digest[:16]]
    n = 2
    while iri in taken:
        iri = STATEMENT[f"{digest[:16]}-{n}"]
        n += 1
    taken.add(iri)
    return iri


def _rename(graph: Graph, old: Node, new: URIRef) -> None:
    for p, o in list(graph.predicate_objects(old)):
        graph.remove((old, p, o))
        graph.add((new, p, o))
    for s, p in list(graph.subject_predicates(old)):
        graph.remove((s, p, old))
        graph.add((s, p, new))


def skolemise_statements(files: Iterable[SourceFile]) -> None:
    """Replace blank-node statements by stable IRIs, in place."""
    taken: set[URIRef] = set()
    for source in files:
        for node in sorted(source.graph.subjects(RDF.type, WF.Statement), key=str):
            if isinstance(node, URIRef):
                taken.add(node)
    for source in files:
        graph = source.graph
        for node in list(graph.subjects(RDF.type, WF.Statement)):
            if not isinstance(node, BNode):
                continue
            s, p, o = (graph.value(node, prop) for prop in (RDF.subject, RDF.predicate, RDF.object))
            if s is None or p is None or o is None:
                continue  # incomplete: SHACL reports it
            _rename(graph, node, statement_iri(s, p, o, taken))


def _least(graph: Graph, node: Node, prop: URIRef) -> Node | None:
    """One value of a statement's part: the least, where a statement (which the shapes
    refuse) has several, so that every way of deriving picks the same."""
    return min(graph.objects(node, prop), key=str, default=None)


def derive_triples(graph: Graph) -> dict[URIRef, Graph]:
    """The plain triples stated by the non-contradicted statements of `graph`, by the
    graph they belong in: a triple some Verified statement states is verified; one that
    only Unverified statements state is unverified."""
    verified, unverified = Graph(), Graph()
    for node in graph.subjects(RDF.type, WF.Statement):
        status = _least(graph, node, WF.evidenceStatus)
        if status == WF.Contradicted:
            continue
        s, p, o = (_least(graph, node, prop) for prop in (RDF.subject, RDF.predicate, RDF.object))
        if s is not None and p is not None and o is not None:
            (verified if status == WF.Verified else unverified).add((s, p, o))
    unverified -= verified
    return {VERIFIED_GRAPH: verified, UNVERIFIED_GRAPH: unverified}


def apply(files: Iterable[SourceFile]) -> dict[URIRef, Graph]:
    """Skolemise statements (in place) and return the plain triples they state, by the
    named graph of their evidence status (see derive_triples)."""
    files = list(files)
    skolemise_statements(files)
    everything = Graph()
    for source in files:
        everything += source.graph
    return derive_triples(everything)


def verified_view(named_graphs: Iterable[str]) -> list[str]:
    """The graphs that make up the verified view: every named graph but the unverified."""
    return [g for g in named_graphs if g not in UNVERIFIED_GRAPHS]


# ------------------------------------------------------------ the same, in a store
_TYPE, _STATEMENT_CLASS = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(WF.Statement))
_PARTS = tuple(ox.NamedNode(str(p)) for p in (RDF.subject, RDF.predicate, RDF.object))
_DERIVE = f"""
SELECT ?n ?s ?p ?o ?status WHERE {{
  ?n a <{WF.Statement}> ; <{RDF.subject}> ?s ; <{RDF.predicate}> ?p ; <{RDF.object}> ?o .
  OPTIONAL {{ ?n <{WF.evidenceStatus}> ?status }}
}}"""


def _first(store: ox.Store, s, p, graph):
    return next((q.object for q in store.quads_for_pattern(s, p, None, graph)), None)


def apply_in_store(store: ox.Store, graphs: list[str]) -> dict[URIRef, int]:
    """`apply` for files loaded into `store` (one named graph each, kg.load.load_into):
    skolemise their statements in place, add the derived triples to the graphs of their
    evidence status, and return how many each got. Nothing is copied out of the store."""
    names = [ox.NamedNode(g) for g in graphs]
    taken: set[URIRef] = set()
    blank: list[tuple[ox.NamedNode, ox.BlankNode]] = []
    for graph in names:
        for quad in store.quads_for_pattern(None, _TYPE, _STATEMENT_CLASS, graph):
            if isinstance(quad.subject, ox.NamedNode):
                taken.add(URIRef(quad.subject.value))
            elif isinstance(quad.subject, ox.BlankNode):
                blank.append((graph, quad.subject))
    ordered = []
    for at, (graph, node) in enumerate(blank):
        parts = [_first(store, node, p, graph) for p in _PARTS]
        if any(part is None for part in parts):
            continue  # incomplete: SHACL reports it
        # statements of the same triple are told apart by what else they say, so that
        # each keeps its IRI from one build to the next (blank node labels do not)
        content = sorted(f"{q.predicate} {'_' if isinstance(q.object, ox.BlankNode) else q.object}"
                         for q in store.quads_for_pattern(node, None, None, graph))
        ordered.append((names.index(graph), [str(t) for t in parts], content, at, graph, node))
    for *_, graph, node in sorted(ordered):
        parts = [_first(store, node, p, graph) for p in _PARTS]
        iri = ox.NamedNode(str(statement_iri(*(term_to_rdflib(t) for t in parts), taken)))
        old = list(store.quads_for_pattern(node, None, None, graph))
        old += store.quads_for_pattern(None, None, node, graph)
        for quad in old:
            store.remove(quad)
        store.extend(ox.Quad(iri if q.subject == node else q.subject, q.predicate,
                             iri if q.object == node else q.object, graph) for q in old)
    verified: set[ox.Triple] = set()
    unverified: set[ox.Triple] = set()
    stated: dict = {}  # statement -> (s, p, o, status), the least value of each (_least)
    for row in store.query(_DERIVE, default_graph=names):
        n, *parts = row
        held = stated.get(n)
        stated[n] = tuple(parts) if held is None else tuple(
            a if b is None or (a is not None and a.value <= b.value) else b
            for a, b in zip(held, parts, strict=True))
    for s, p, o, status in stated.values():
        if status is not None and status.value == str(WF.Contradicted):
            continue
        target = verified if status is not None and status.value == str(WF.Verified) \
            else unverified
        target.add(ox.Triple(s, p, o))
    unverified -= verified
    for name, triples in ((VERIFIED_GRAPH, verified), (UNVERIFIED_GRAPH, unverified)):
        graph = ox.NamedNode(str(name))
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return {VERIFIED_GRAPH: len(verified), UNVERIFIED_GRAPH: len(unverified)}
