"""`kg stats` and `kg export`."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, URIRef

W = "https://w3id.org/workflow-kg/resource/"


def test_stats_counts_instances_and_graphs(built_cli):
    stats = json.loads(built_cli("stats", "--format", "json").stdout)
    assert stats["classes"]["wf:WorkflowEngine"] == 2
    assert stats["classes"]["wf:Technology"] == 6  # engines, backends and the SDK, inferred
    assert stats["classes"]["wf:CaseStudy"] == 2
    assert "https://w3id.org/workflow-kg/graph/data/mini.ttl" in stats["graphs"]
    assert stats["build"]["input_hash"]
    text = built_cli("stats").stdout
    assert "wf:WorkflowEngine" in text and "triples per graph" in text


def test_stats_before_build_is_a_clear_error(cli):
    result = cli("stats")
    assert result.exit_code == 1 and "kg build" in result.stderr


@pytest.mark.parametrize("fmt", ["ttl", "nt", "nq", "trig", "jsonld"])
def test_export_round_trips(built_cli, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    assert built_cli("export", "--format", fmt, "-o", str(out)).exit_code == 0
    rdflib_format = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig",
                     "jsonld": "json-ld"}[fmt]
    fact = (URIRef(W + "engine-a"), URIRef("https://w3id.org/workflow-kg/ontology#supportsBackend"),
            URIRef(W + "db-x"))
    if fmt in ("nq", "trig", "jsonld"):
        dataset = Dataset()
        dataset.parse(out, format=rdflib_format)
        graphs = {str(g.identifier) for g in dataset.graphs() if len(g)}
        assert "https://w3id.org/workflow-kg/graph/inferred" in graphs
        assert any(fact in g for g in dataset.graphs())
    else:
        graph = Graph().parse(out, format=rdflib_format)
        assert fact in graph
        # the contradicted claim is exported only as its statement, never as a triple
        assert (fact[0], fact[1], URIRef(W + "db-y")) not in graph
    assert len(list(ox.parse(path=str(out), format={
        "ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
        "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[fmt]))) > 1000
