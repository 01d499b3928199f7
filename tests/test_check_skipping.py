"""Which SHACL checks a small update may skip: those that read none of the predicates it
wrote (the version before it conformed). What each check reads is over-approximated, so
a wrong answer here is a check skipped that should have run: the cases below pin the
readings down; tests/test_update_incremental.py compares the result with a full
validation on random updates."""

from __future__ import annotations

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH

from kg.pipeline.constraints import shape_reads
from kg.pipeline.shapes import predicates_read

TYPE = str(RDF.type)


def test_a_query_reads_the_predicates_of_its_patterns_paths_and_exists_groups():
    reads = predicates_read(
        "SELECT ?this WHERE { ?this a ?t FILTER NOT EXISTS { ?this <urn:p> ?o . "
        "?o (<urn:x>/^<urn:y>)* [] } { SELECT ?this WHERE { ?this <urn:q> 1 } } }")
    assert reads >= {TYPE, "urn:p", "urn:x", "urn:y", "urn:q"}


def test_a_query_that_may_read_any_predicate_reads_everything():
    for text in ("SELECT ?this WHERE { ?this ?p ?o }",
                 "SELECT ?this WHERE { ?this <urn:p> ?o FILTER EXISTS { ?o ?q [] } }",
                 "SELECT ?this WHERE { ?this [ ?p 1 ] }",
                 "SELECT ?this WHERE { ?this !<urn:p> ?o }",
                 "SELECT ?this WHERE { ?this !(<urn:p>|^<urn:q>) ?o }",
                 "this is not SPARQL"):
        assert predicates_read(text) is None, text


def test_a_shape_reads_its_paths_its_nested_shapes_and_rdf_type():
    shapes = Graph()
    shape, prop, nested = URIRef("urn:shape"), BNode(), URIRef("urn:nested")
    shapes.add((shape, SH.targetClass, URIRef("urn:C")))
    shapes.add((shape, SH.property, prop))
    shapes.add((prop, SH.path, URIRef("urn:p")))
    shapes.add((prop, SH.node, nested))
    shapes.add((nested, SH.path, URIRef("urn:deep")))
    reads = shape_reads(shapes, shape)
    assert {TYPE, "urn:p", "urn:deep"} <= reads
    assert "urn:unrelated" not in reads


def test_a_label_write_runs_only_the_checks_that_read_labels(mini_graph, monkeypatch):
    """An alternative label added: the core checks that read no skos:altLabel are not
    run, and the update conforms as before."""
    from kg.namespaces import GRAPH, PREFIXES
    from kg.pipeline import shapes
    from kg.pipeline.update import pipeline, run_update
    from tests.test_update_incremental import Dataset

    ds = Dataset(mini_graph, str(GRAPH["data/mini.ttl"]))
    ran: list[int] = []
    real = shapes.evaluate
    monkeypatch.setattr(shapes, "evaluate", lambda run, queries: (
        ran.append(len(queries)), real(run, queries))[1])

    def write(predicate: str, value: str) -> None:
        store = ds.copy()
        change = run_update(store, f"INSERT DATA {{ GRAPH {ds.graph} {{ "
                                   f"<{PREFIXES['wfr']}engine-a> <{predicate}> {value} }} }}")
        _, report, path = pipeline(ds.project, ds.store, store, change, stamp="skipping")
        assert path == "local"
        return report

    assert write(PREFIXES["skos"] + "altLabel", '"another name"@en').conforms
    label_checks = ran[-1]
    report = write(PREFIXES["rdfs"] + "label", '"a second English label"@en')
    assert not report.conforms  # one English rdfs:label only: that check ran
    assert label_checks < ran[-1]
