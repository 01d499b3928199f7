"""The verified view: plain triples derived from Unverified statements stay in the default
graph but out of `--evidence verified`, for queries, paths and citations."""

from __future__ import annotations

import json

import pytest

from kg.errors import QueryError

UNVERIFIED_FACT = "ASK { wfr:engine-b wf:supportsBackend wfr:db-y }"
VERIFIED_FACT = "ASK { wfr:engine-a wf:supportsBackend wfr:db-x }"


def test_verified_view_leaves_out_unverified_facts(mini_graph):
    assert mini_graph.sparql(UNVERIFIED_FACT).boolean is True
    assert mini_graph.sparql(UNVERIFIED_FACT, evidence="verified").boolean is False
    assert mini_graph.sparql(VERIFIED_FACT, evidence="verified").boolean is True
    # entities, statements and their evidence are still there, so the gap stays queryable
    gap = """ASK { ?st rdf:subject wfr:engine-b ; wf:evidenceStatus wf:Unverified }"""
    assert mini_graph.sparql(gap, evidence="verified").boolean is True
    # inferred types of verified resources remain (the inferred graph is in the view)
    typed = "ASK { wfr:engine-a a wf:Technology }"
    assert mini_graph.sparql(typed, evidence="verified").boolean is True


def test_named_query_in_the_verified_view(mini_graph):
    params = {"backend": "wfr:db-y"}  # engine-b's backend db-y is only claimed
    everything = mini_graph.query("technology-selection", params)
    verified = mini_graph.query("technology-selection", params, evidence="verified")
    engine_b = "https://w3id.org/workflow-kg/resource/engine-b"
    assert engine_b in everything.values("engine")
    assert engine_b not in verified.values("engine")


def test_unknown_view_is_a_clear_error(mini_graph):
    with pytest.raises(QueryError, match="unknown evidence view 'proven'"):
        mini_graph.sparql(VERIFIED_FACT, evidence="proven")


def test_cli_query_evidence_option(built_cli):
    assert built_cli("query", "-e", UNVERIFIED_FACT).stdout.strip() == "true"
    verified = built_cli("query", "-e", UNVERIFIED_FACT, "--evidence", "verified")
    assert verified.stdout.strip() == "false"
    bad = built_cli("query", "-e", UNVERIFIED_FACT, "--evidence", "proven")
    assert bad.exit_code == 2 and "proven" in bad.stderr


def test_path_marks_unverified_steps_and_the_verified_view_avoids_them(built_cli):
    everything = built_cli("path", "engine-b", "db-y", "--limit", "1")
    assert everything.exit_code == 0, everything.stderr
    assert everything.stdout.splitlines() == [
        "1. (1 step) Engine B --supports backend [unverified]--> DB Y"]
    verified = built_cli("path", "engine-b", "db-y", "--evidence", "verified")
    assert "[unverified]" not in verified.stdout
    assert "supports backend" not in verified.stdout  # the only direct link is unverified


def test_cite_in_the_verified_view_leaves_out_sources_of_unverified_facts(built_cli):
    keys = {item["id"] for item in json.loads(
        built_cli("cite", "engine-a", "--format", "csl-json").stdout)}
    assert "fixture-doc" in keys  # engine-a's verified facts cite the docs
    # the contradicted statement about engine-a cites the docs too, but so do verified
    # facts; the paper is cited only by facts about other entities
    verified = {item["id"] for item in json.loads(
        built_cli("cite", "engine-a", "--format", "csl-json", "--evidence", "verified").stdout)}
    assert verified == {"fixture-doc"}


def test_curated_path_to_payment_atomicity_avoids_unverified_links(curated):
    everything = curated.paths("wfr:temporal", "wfr:payment-atomicity", limit=5)
    verified = curated.paths("wfr:temporal", "wfr:payment-atomicity", limit=5,
                             evidence="verified")
    assert verified
    assert all(step.evidence != "unverified" for p in verified for step in p.steps)
    # a step resting on a statement says so: the derived link's status is shown
    assert any(step.evidence == "verified" for p in verified for step in p.steps)
    unverified_before = [p for p in everything
                         if any(step.evidence == "unverified" for step in p.steps)]
    assert all(p not in verified for p in unverified_before)


def test_inferences_that_only_unverified_facts_support_are_kept_apart():
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF, RDFS

    from kg.namespaces import WF, WFR
    from kg.pipeline.reason import materialise_views

    verified, unverified = Graph(), Graph()
    verified.add((WF.Engine, RDFS.subClassOf, WF.Technology))
    verified.add((WFR.a, RDF.type, WF.Engine))
    unverified.add((WFR.b, RDF.type, WF.Engine))
    on_verified, only_unverified = materialise_views(verified, unverified)
    assert (WFR.a, RDF.type, WF.Technology) in on_verified
    assert (WFR.b, RDF.type, WF.Technology) in only_unverified
    assert (WFR.b, RDF.type, WF.Technology) not in on_verified
    assert not any(t in verified or t in unverified for t in on_verified + only_unverified)
    assert isinstance(next(iter(only_unverified))[0], URIRef)
