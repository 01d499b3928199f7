"""Small updates, checked by what they touch. An update of a few triples (a label, a
definition, a figure) need not recompute the OWL 2 RL closure of the whole graph nor
validate every node, which costs seconds at the curated size:

- **inferences**: when no OWL 2 RL rule can fire on the changed triples, the inferred
  graph stays as it is. That holds when each changed triple's predicate has no axiom
  besides its declaration, labels and definitions, or only a domain and range that the
  subject and object already have (additions only: a removal might take away the
  support of an inferred type), and no touched node is in an owl:sameAs;
- **validation**: the shapes are checked on the touched nodes (subjects and objects of
  the changed triples) and the nodes that link to them, over their neighbourhood (the
  triples of every node they link to or that links to them) and the ontology, and only
  their results count. A constraint that reaches further than one link
  from its focus node is checked by the next `kg validate` or `kg build`.

Anything else (the ontology or shapes changed, types, sub-properties, more than `SMALL`
triples) takes the full path of kg.pipeline.update."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH

from ..namespaces import GRAPH
from .project import Project
from .shapes import ValidationReport, validate_graph
from .store import term_to_rdflib

SMALL = 500  # triples added plus removed
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
TYPE = ox.NamedNode(RDF_NS + "type")
SAME_AS = ox.NamedNode(OWL_NS + "sameAs")
DESCRIPTIVE = {RDFS_NS + "label", RDFS_NS + "comment", RDFS_NS + "isDefinedBy",
               RDFS_NS + "seeAlso"} | {SKOS_NS + n for n in (
                   "prefLabel", "altLabel", "definition", "note", "scopeNote", "example",
                   "editorialNote", "changeNote", "historyNote")}
DECLARATIONS = {OWL_NS + "ObjectProperty", OWL_NS + "DatatypeProperty",
                OWL_NS + "AnnotationProperty", RDF_NS + "Property"}
DOMAIN, RANGE = RDFS_NS + "domain", RDFS_NS + "range"


def schema_graphs(project: Project) -> set[str]:
    """The named graphs of the ontology files and the shapes."""
    return {str(GRAPH[project.relative(p)])
            for p in project.ontology_files() + [project.shapes_file]}


def _has(store: ox.Store, s, p, o) -> bool:
    return next(iter(store.quads_for_pattern(s, p, o, None)), None) is not None


def inert(store: ox.Store, added: set[ox.Quad], removed: set[ox.Quad],
          schema: set[str]) -> bool:
    """Whether no OWL 2 RL rule can fire on the changed triples (see the module's text);
    `store` is the dataset after the change, inferences included."""
    changed = added | removed
    if not changed or len(changed) > SMALL:
        return False
    axioms: dict[ox.NamedNode, list[tuple[str, ox.NamedNode]]] = {}
    for quad in changed:
        if isinstance(quad.graph_name, ox.NamedNode) and quad.graph_name.value in schema:
            return False
        predicate = quad.predicate
        if predicate.value.startswith((RDF_NS, OWL_NS)) or (
                predicate.value.startswith(RDFS_NS) and predicate.value not in DESCRIPTIVE):
            return False
        if predicate not in axioms:
            found = []
            for axiom in store.quads_for_pattern(predicate, None, None, None):
                kind = axiom.predicate.value
                if kind in DESCRIPTIVE or (kind == TYPE.value
                                           and axiom.object.value in DECLARATIONS):
                    continue
                if kind not in (DOMAIN, RANGE) or not isinstance(axiom.object, ox.NamedNode):
                    return False
                found.append((kind, axiom.object))
            if any(q.predicate.value != RDF_NS + "predicate"
                   for q in store.quads_for_pattern(None, None, predicate, None)):
                return False  # a sub-property, an inverse, a restriction's property...
            axioms[predicate] = found
        for kind, cls in axioms[predicate]:
            node = quad.subject if kind == DOMAIN else quad.object
            if quad in removed or not _has(store, node, TYPE, cls):
                return False
    nodes = touched(changed)
    return not any(_has(store, n, SAME_AS, None) or _has(store, None, SAME_AS, n)
                   for n in nodes)


def touched(changed: set[ox.Quad]) -> set:
    """The IRIs and blank nodes of the changed triples' subjects and objects."""
    return {t for q in changed for t in (q.subject, q.object)
            if isinstance(t, ox.NamedNode | ox.BlankNode)}


def validate_touched(project: Project, store: ox.Store, changed: set[ox.Quad],
                     shapes: Graph, ontology: Graph, skip: set[str]) -> ValidationReport:
    """SHACL results for the touched nodes and the nodes that link to them, validated
    over their neighbourhood (their triples, their neighbours' triples) and the ontology.
    `skip` names graphs that are not data (inferences, metadata, history, the shapes)."""

    def data(quads):
        return (q for q in quads if not (isinstance(q.graph_name, ox.NamedNode)
                                         and q.graph_name.value in skip))

    focus = touched(changed)
    focus |= {q.subject for n in list(focus) for q in data(
        store.quads_for_pattern(None, None, n, None))}
    around = set(focus)
    for node in focus:  # what they link to, and what links to them (statement nodes...)
        around |= {q.object for q in data(store.quads_for_pattern(node, None, None, None))
                   if isinstance(q.object, ox.NamedNode | ox.BlankNode)}
        around |= {q.subject for q in data(store.quads_for_pattern(None, None, node, None))}
    graph = Graph()
    for node in around:
        for quad in data(store.quads_for_pattern(node, None, None, None)):
            graph.add(tuple(term_to_rdflib(t) for t in
                            (quad.subject, quad.predicate, quad.object)))
    terms = {p for _, p, _ in graph} | set(graph.objects(None, RDF.type))
    for hierarchy in (RDFS.subClassOf, RDFS.subPropertyOf):
        for triple in ontology.triples((None, hierarchy, None)):
            graph.add(triple)
            terms.add(triple[2])
    for term in terms:  # what the ontology says of the terms the neighbourhood uses
        for triple in ontology.triples((term, None, None)):
            graph.add(triple)
    nodes = {term_to_rdflib(n) for n in focus}
    return validate_graph(graph, targeted(shapes, graph, nodes), focus=nodes)


TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
NOWHERE = URIRef("urn:x-kg:no-focus-node")  # a target that is in no graph


def targeted(shapes: Graph, data: Graph, focus: set) -> Graph:
    """`shapes` with each shape's targets replaced by the focus nodes it targets in
    `data` (as sh:targetNode), so that the ontology's own terms and the neighbours in
    `data` are not validated. (pySHACL's `focus_nodes` option would do this, but it
    also restricts the value nodes of qualified value shapes, which breaks
    sh:qualifiedMinCount.)"""
    out = Graph()
    out += shapes
    shape_nodes = {s for p in TARGETS for s in shapes.subjects(p, None)}
    for shape in shape_nodes:
        hits: set = set()
        for cls in shapes.objects(shape, SH.targetClass):
            hits |= {n for n in focus if any(
                cls in data.transitive_objects(t, RDFS.subClassOf)
                for t in data.objects(n, RDF.type))}
        hits |= focus & set(shapes.objects(shape, SH.targetNode))
        for prop in shapes.objects(shape, SH.targetSubjectsOf):
            hits |= {n for n in focus if (n, prop, None) in data}
        for prop in shapes.objects(shape, SH.targetObjectsOf):
            hits |= {n for n in focus if (None, prop, n) in data}
        for predicate in TARGETS:
            out.remove((shape, predicate, None))
        for node in hits or {NOWHERE}:
            out.add((shape, SH.targetNode, node))
    return out
