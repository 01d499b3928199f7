"""OWL 2 RL materialisation: the fast engine (`reasonable` over the data, owlrl over the
ontology) gives exactly the graph owlrl alone gives, on the fixture and curated data."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg.pipeline.build import compile_inputs
from kg.pipeline.reason import materialise
from kg.pipeline.shapes import union


def both_engines(project) -> tuple[Graph, Graph]:
    compiled = compile_inputs(project)
    asserted = compiled.asserted()
    ontology = union(compiled.ontology)
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
