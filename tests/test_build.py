"""`kg build`: one named graph per file, inferences apart, VoID counts, atomic swap, no-op
on unchanged inputs, and a failed or killed build that leaves the previous store intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kg import KnowledgeGraph, RdfSyntaxError, ValidationFailed
from kg.namespaces import GRAPH, INFERRED_GRAPH, META_GRAPH

ENGINES = "SELECT ?e WHERE { ?e a wf:WorkflowEngine } ORDER BY ?e"


def engines(graph: KnowledgeGraph) -> list[str]:
    return graph.sparql(ENGINES).values("e")


def test_one_named_graph_per_file_and_inferences_apart(mini_graph):
    graphs = mini_graph.store.named_graphs()
    assert str(GRAPH["data/mini.ttl"]) in graphs
    assert str(GRAPH["ontology/workflow-kg.ttl"]) in graphs
    assert str(GRAPH["ontology/shapes.ttl"]) in graphs
    # an engine is a technology by subclass reasoning: only in the inferred graph
    asserted = f"ASK {{ GRAPH <{GRAPH['data/mini.ttl']}> {{ wfr:engine-a a wf:Technology }} }}"
    inferred = f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ wfr:engine-a a wf:Technology }} }}"
    assert mini_graph.sparql(asserted).boolean is False
    assert mini_graph.sparql(inferred).boolean is True
    # derived plain triples live in a graph per evidence status, not in the file
    fact = "wfr:engine-a wf:supportsBackend wfr:db-x"
    in_file = f"ASK {{ GRAPH <{GRAPH['data/mini.ttl']}> {{ {fact} }} }}"
    assert mini_graph.sparql(in_file).boolean is False
    in_verified = f"ASK {{ GRAPH <{GRAPH['derived/verified']}> {{ {fact} }} }}"
    assert mini_graph.sparql(in_verified).boolean is True
    unverified = "wfr:engine-b wf:supportsBackend wfr:db-y"
    in_unverified = f"ASK {{ GRAPH <{GRAPH['derived/unverified']}> {{ {unverified} }} }}"
    assert mini_graph.sparql(in_unverified).boolean is True


def test_void_description_counts_match_the_graphs(mini_graph):
    described = mini_graph.sparql(f"""
        PREFIX void: <http://rdfs.org/ns/void#>
        SELECT ?g ?n WHERE {{ GRAPH <{META_GRAPH}> {{ ?g void:triples ?n }} }}""").rows()
    counts = {row["g"].value: int(row["n"].value) for row in described}
    actual = mini_graph.stats().graphs
    for graph_iri, n in actual.items():
        assert counts[graph_iri] == n
    # the dataset total is the sum of its graphs, and its hash is recorded
    dataset = counts.pop("https://w3id.org/workflow-kg/dataset")
    assert dataset == sum(actual.values())
    ident = mini_graph.sparql(f"""
        SELECT ?id WHERE {{ GRAPH <{META_GRAPH}> {{
            <https://w3id.org/workflow-kg/dataset> dcterms:identifier ?id }} }}""").values("id")
    assert ident == [f"sha256:{mini_graph.store.info['input_hash']}"]


def test_unchanged_inputs_are_a_noop_and_a_change_rebuilds(mini_project):
    graph = KnowledgeGraph(mini_project)
    first = graph.build()
    assert first.built
    again = graph.build()
    assert not again.built and again.store_path == first.store_path
    with (mini_project / "data" / "mini.ttl").open("a") as handle:
        handle.write('\nwfr:engine-c a wf:WorkflowEngine ; rdfs:label "C"@en , "C"@zh ;'
                     ' skos:definition "C."@en ; wf:alternativeTo wfr:engine-a .\n')
    third = graph.build()
    assert third.built and third.store_path != first.store_path
    assert "https://w3id.org/workflow-kg/resource/engine-c" in engines(graph)


@pytest.mark.parametrize(("bad", "error"), [
    ('wfr:x a wf:Mechanism ; rdfs:label "broken .\n', RdfSyntaxError),
    ('wfr:engine-b wf:implementsMechanism wfr:mech-log .\n', ValidationFailed),
])
def test_failed_build_leaves_previous_store(mini_project, bad, error):
    graph = KnowledgeGraph(mini_project)
    graph.build()
    before = engines(graph)
    live = graph.project.store_dir / "current"
    target = os.readlink(live)
    (mini_project / "data" / "bad.ttl").write_text(
        "@prefix wf: <https://w3id.org/workflow-kg/ontology#> .\n"
        "@prefix wfr: <https://w3id.org/workflow-kg/resource/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n" + bad)
    with pytest.raises(error):
        graph.build()
    assert os.readlink(live) == target
    assert engines(KnowledgeGraph(mini_project)) == before
    assert not list((graph.project.store_dir / "stores").glob("partial-*"))


def _kg(project: Path, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kg.cli", "--project", str(project), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_killed_build_keeps_previous_store_and_next_build_completes(mini_project):
    graph = KnowledgeGraph(mini_project)
    graph.build()
    before = engines(graph)
    (mini_project / "data" / "mini.ttl").open("a").write(
        '\nwfr:engine-k a wf:WorkflowEngine ; rdfs:label "K"@en , "K"@zh ;'
        ' skos:definition "K."@en ; wf:alternativeTo wfr:engine-a .\n')
    proc = _kg(mini_project, "build")
    for line in proc.stderr:  # progress lines; kill -9 once the new store is being written
        if "loading into a new store" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # the previous store still answers, from a new process
    query = _kg(mini_project, "query", "-e", ENGINES, "--format", "csv")
    out, err = query.communicate(timeout=60)
    assert query.returncode == 0, err
    assert [line for line in out.splitlines()[1:] if line] == before
    # and the next build completes, cleaning what the killed one left
    rebuilt = _kg(mini_project, "build")
    _, err = rebuilt.communicate(timeout=120)
    assert rebuilt.returncode == 0, err
    assert "https://w3id.org/workflow-kg/resource/engine-k" in engines(KnowledgeGraph(mini_project))
    assert not list((mini_project / ".kg" / "stores").glob("partial-*"))


def test_a_small_store_is_read_from_memory_once_it_has_answered_a_few_queries(mini_graph):
    """A one-shot command reads the store on disk (copying it costs more than its few
    queries); a process that goes on asking reads a copy in memory, with the same answers."""
    from kg.pipeline.store import WARM_QUERIES, EmbeddedStore

    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    small = EmbeddedStore(mini_graph.project.store_dir)
    disk = small._opened
    answers = {small.query(count).values("n")[0] for _ in range(WARM_QUERIES - 1)}
    assert small._opened is disk
    answers.add(small.query(count).values("n")[0])
    assert small._opened is not disk and len(answers) == 1 and int(answers.pop()) > 100
    large = EmbeddedStore(mini_graph.project.store_dir, memory_quads=100)
    disk = large._opened
    for _ in range(WARM_QUERIES + 1):
        large.query(count)
    assert large._opened is disk  # over memory_quads: read on disk for good
