"""OWL 2 RL materialisation: the fast engine (`reasonable` over the data, owlrl over the
ontology) gives exactly the graph owlrl alone gives, on the fixture and curated data; so
does the build's way over its store (in parts by subject, only the triples that can fire
a rule), in both evidence views."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg.pipeline import evidence, reason
from kg.pipeline.build import compile_inputs
from kg.pipeline.reason import materialise, materialise_store, materialise_views
from kg.pipeline.store import term_to_rdflib


def both_engines(project) -> tuple[Graph, Graph]:
    compiled = compile_inputs(project)
    asserted = compiled.asserted()
    ontology = compiled.ontology_graph()
    return (materialise(asserted, ontology=ontology, engine="reasonable"),
            materialise(asserted, ontology=ontology, engine="owlrl"))


def as_set(graph: Graph) -> set:
    return set(graph)


def test_reasonable_gives_owlrls_inferred_graph_on_the_fixture(mini_graph):
    fast, reference = both_engines(mini_graph.project)
    assert len(reference) > 50
    assert as_set(fast) == as_set(reference)


@pytest.mark.slow
def test_reasonable_gives_owlrls_inferred_graph_on_the_curated_data(curated):
    fast, reference = both_engines(curated.project)
    assert len(reference) > 1000
    assert as_set(fast) == as_set(reference)


def _as_rdflib(triples) -> set:
    return {tuple(term_to_rdflib(t) for t in (x.subject, x.predicate, x.object))
            for x in triples}


def _store_views_match_owlrl(project, monkeypatch, chunk: int, workers: int | None = None
                             ) -> int:
    compiled = compile_inputs(project)
    monkeypatch.setattr(reason, "CHUNK", chunk)  # many parts even on small data
    ontology = compiled.ontology_graph()
    data_graphs = [f.graph_iri for f in compiled.data] + [str(g) for g in compiled.derived_counts]
    assert reason._parts(compiled.store, ontology, data_graphs) > 1  # really in parts
    on_verified, only_unverified = materialise_store(
        compiled.store, verified=compiled.graph_names(verified_only=True),
        unverified=[str(evidence.UNVERIFIED_GRAPH)], ontology=ontology,
        schema_graphs=[f.graph_iri for f in compiled.ontology], workers=workers)
    unverified = compiled.asserted() - compiled.asserted(verified_only=True)
    ref_verified, ref_unverified = materialise_views(
        compiled.asserted(verified_only=True), unverified)  # owlrl over everything
    assert _as_rdflib(on_verified) == set(ref_verified)
    assert _as_rdflib(only_unverified) == set(ref_unverified)
    return len(ref_verified) + len(ref_unverified)


@pytest.mark.parametrize("workers", [1, 2])  # the parts here, and in child processes
def test_the_builds_reasoning_in_parts_gives_owlrls_views_on_the_fixture(
        mini_graph, monkeypatch, workers):
    assert _store_views_match_owlrl(mini_graph.project, monkeypatch, chunk=50,
                                    workers=workers) > 50


@pytest.mark.slow
def test_the_builds_reasoning_in_parts_gives_owlrls_views_on_the_curated_data(
        curated, monkeypatch):
    assert _store_views_match_owlrl(curated.project, monkeypatch, chunk=2000) > 1000
