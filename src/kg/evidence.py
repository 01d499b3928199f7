"""The evidence model at build time.

A fact is authored once, as a `wf:Statement` node (often a blank node). This module
gives every statement node a stable IRI and derives the plain triple it states, unless
the statement is contradicted. See ontology/workflow-kg.ttl for the model."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from .load import SourceFile
from .namespaces import STATEMENT, WF


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


def derive_triples(graph: Graph) -> Graph:
    """The plain triples stated by the non-contradicted statements of `graph`."""
    derived = Graph()
    for node in graph.subjects(RDF.type, WF.Statement):
        if graph.value(node, WF.evidenceStatus) == WF.Contradicted:
            continue
        s, p, o = (graph.value(node, prop) for prop in (RDF.subject, RDF.predicate, RDF.object))
        if s is not None and p is not None and o is not None:
            derived.add((s, p, o))
    return derived


def apply(files: Iterable[SourceFile]) -> int:
    """Skolemise statements and add their derived triples to each file's graph.
    Returns how many plain triples were derived."""
    files = list(files)
    skolemise_statements(files)
    count = 0
    for source in files:
        derived = derive_triples(source.graph)
        count += len(derived)
        source.graph += derived
    return count
