"""The ontology and the data as data: every term declared, labelled in English and
Chinese, defined; the public API pinned; the core free of the web framework."""

from __future__ import annotations

import subprocess
import sys

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

import kg
from kg.namespaces import WF
from tests.conftest import ROOT

ONTOLOGY = ROOT / "ontology" / "workflow-kg.ttl"


def ontology() -> Graph:
    return Graph().parse(ONTOLOGY)


def test_every_class_and_property_is_labelled_in_en_and_zh_and_defined():
    graph = ontology()
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {s for k in kinds for s in graph.subjects(RDF.type, k) if str(s).startswith(str(WF))}
    assert len(terms) > 100
    for term in terms:
        langs = {label.language for label in graph.objects(term, RDFS.label)}
        assert {"en", "zh"} <= langs, term
        assert graph.value(term, SKOS.definition) is not None, term


def test_data_and_queries_use_only_declared_terms():
    declared = {s for s in ontology().subjects() if isinstance(s, URIRef)}
    used: set[URIRef] = set()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        for triple in Graph().parse(path):
            used |= {t for t in triple if isinstance(t, URIRef) and str(t).startswith(str(WF))}
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = path.read_text()
        used |= {WF[name] for name in __import__("re").findall(r"\bwf:([A-Za-z]\w*)", text)}
    assert sorted(used - declared) == []


def test_public_api_is_pinned_and_sorted():
    assert kg.__all__ == sorted(kg.__all__)
    assert set(kg.__all__) == {
        "BuildResult", "ConsistencyReport", "InconsistentOntology", "KgError", "KnowledgeGraph",
        "NamedQuery", "Parameter", "ParameterError", "QueryError", "QueryNotFound",
        "QueryRegistry", "QueryResult", "RdfSyntaxError", "SparqlSyntaxError", "Stats",
        "StoreNotBuilt", "ValidationFailed", "ValidationReport", "Violation", "__version__"}


def test_core_does_not_import_the_web_framework():
    code = ("import sys, kg, kg.cli, kg.pipeline.build, kg.graph; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('fastapi', 'starlette', 'pydantic', 'kg_api')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
