"""OWL 2 RL materialisation: the fast engine (`reasonable` over the data, owlrl over the
ontology) gives exactly the graph owlrl alone gives, on the fixture and curated data; so
does the build's way over its store (in parts by subject, only the triples that can fire
a rule), in both evidence views."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg.pipeline import evidence, reason
from kg.pipeline.build import compile_inputs
from kg.pipeline.reason import materialise, materialise_store
from kg.pipeline.store import term_to_rdflib

_OWLRL: dict[object, Graph] = {}  # owlrl's closure of a project's data, computed once


def owlrl_of(project, compiled, verified_only: bool = False) -> Graph:
    """owlrl alone over the asserted data (all of it, or the verified view), once per
    project and view: the slow reference both comparisons below share."""
    key = (project.root, verified_only)
    if key not in _OWLRL:
        _OWLRL[key] = materialise(compiled.asserted(verified_only=verified_only),
                                  ontology=compiled.ontology_graph(), engine="owlrl")
    return _OWLRL[key]


def both_engines(project) -> tuple[Graph, Graph]:
    compiled = compile_inputs(project)
    asserted = compiled.asserted()
    ontology = compiled.ontology_graph()
    return (materialise(asserted, ontology=ontology, engine="reasonable"),
            owlrl_of(project, compiled))


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
    # the views as kg.pipeline.reason.materialise_views defines them, from owlrl over
    # everything and over the verified data
    unverified = set(compiled.asserted() - compiled.asserted(verified_only=True))
    on_all, on_verified_ref = owlrl_of(project, compiled), owlrl_of(project, compiled, True)
    ref_verified = set(on_verified_ref) - unverified
    ref_unverified = set(on_all) - set(on_verified_ref)
    assert _as_rdflib(on_verified) == ref_verified
    assert _as_rdflib(only_unverified) == ref_unverified
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


def test_parts_that_equate_two_resources_fall_back_to_all_the_data_at_once(
        mini_project, monkeypatch):
    """Two organisations of one case (a functional property) make them the same: the
    children say so and the data is reasoned over at once, as owlrl does."""
    from kg.namespaces import TURTLE_PREFIXES
    from kg.pipeline.project import find_project

    (mini_project / "data" / "same.ttl").write_text(
        TURTLE_PREFIXES
        + "\nwfr:case-two a wf:CaseStudy ; wf:organisation wfr:org-o , wfr:org-p .\n",
        encoding="utf-8")
    answers = []
    each_part = reason._each_part

    def spy(jobs, workers, folder):
        for answer in each_part(jobs, workers, folder):
            answers.append((len(jobs), answer is None))
            yield answer

    monkeypatch.setattr(reason, "_each_part", spy)
    project = find_project(mini_project, mini_project / ".kg")
    assert _store_views_match_owlrl(project, monkeypatch, chunk=50, workers=2) > 50
    assert answers[-2][0] > 1 and answers[-2][1]  # a part said so, in a child...
    assert answers[-1] == (1, False)  # ...and all the data at once answered


def test_a_reasoning_child_that_fails_is_an_error_with_its_message(
        mini_graph, monkeypatch, tmp_path):
    child = tmp_path / "child.py"
    child.write_text("import sys\nsys.stderr.write('the reasoner broke')\nsys.exit(1)\n")
    monkeypatch.setattr(reason, "CHILD", child)
    with pytest.raises(RuntimeError, match="part 0 of the data failed.*the reasoner broke"):
        _store_views_match_owlrl(mini_graph.project, monkeypatch, chunk=50, workers=2)
