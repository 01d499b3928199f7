"""Remote mode against a real Oxigraph server started on a free loopback port: `kg push`
through the Graph Store Protocol, then every named query gives the same answers
remotely as embedded; `kg query`, `kg stats`, `kg export` and `kg serve` run remotely."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys

import httpx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg import KnowledgeGraph, ParameterError
from kg.cli import main
from kg.errors import RemoteError
from kg.lab.local import free_port, wait_until_up
from kg.pipeline.oxigraph_server import OxigraphServer
from kg.pipeline.remote import STAGING, RemoteStore
from tests.remote_checks import (
    CASES,
    HISTORY,
    MEASUREMENT,
    ORDER_DEPENDENT,
    SmallWrites,
    Writer,
    cli,
    compare_commands,
    compare_named_queries,
    compare_service,
)
from tests.test_http_queries import example_params
from tests.test_http_sparql import start_kg_serve

pytestmark = pytest.mark.server


def _oxigraph() -> str:
    found = shutil.which("oxigraph") or os.path.join(os.path.dirname(sys.executable), "oxigraph")
    if not os.path.exists(found):
        pytest.skip("the oxigraph server (PyPI package `oxigraph`) is not installed")
    return found


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    port = free_port()
    process = subprocess.Popen(
        [_oxigraph(), "serve", "--location", str(tmp_path_factory.mktemp("oxigraph")),
         "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/query?query=ASK%7B%7D", process)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def pushed(oxigraph_server, mini_graph):
    args = ["--project", str(mini_graph.project.root), "--endpoint",
            oxigraph_server + "/query", "--update-endpoint", oxigraph_server + "/update",
            "--store-endpoint", oxigraph_server + "/store"]
    result = CliRunner().invoke(main, [*args, "push", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "pushed" in result.output
    return args


def canonical(result) -> list:
    if result.kind == "ask":
        return [result.boolean]
    if result.kind == "graph":
        return sorted(str(t) for t in result.triples())
    rows = [tuple(sorted((k, str(v)) for k, v in row.items()
                         if not isinstance(v, ox.BlankNode))) for row in result.rows()]
    return sorted(rows)


def test_every_named_query_answers_the_same_remotely(pushed, oxigraph_server, mini_graph):
    remote = KnowledgeGraph(mini_graph.project.root, endpoint=oxigraph_server + "/query",
                            store_endpoint=oxigraph_server + "/store")
    checked = 0
    for named in mini_graph.queries:
        params = example_params(named)
        if params is None:
            continue
        try:
            local = mini_graph.query(named.name, params)
        except ParameterError as err:  # an example naming what the fixture lacks
            with pytest.raises(ParameterError) as remote_err:
                remote.query(named.name, params)
            assert str(remote_err.value) == str(err)  # the same error on every store
            checked += 1
            continue
        assert canonical(remote.query(named.name, params)) == canonical(local), named.name
        checked += 1
    assert checked >= len(mini_graph.queries) - 3


def test_push_sent_every_named_graph(pushed, oxigraph_server, mini_graph):
    remote = KnowledgeGraph(mini_graph.project.root, endpoint=oxigraph_server + "/query")
    assert set(remote.store.named_graphs()) == set(mini_graph.store.named_graphs())


def test_cli_query_stats_export_run_remotely(pushed, mini_graph):
    runner = CliRunner()
    out = runner.invoke(main, [*pushed, "query", "-e",
                               "SELECT ?s WHERE { ?s a wf:WorkflowEngine } ORDER BY ?s",
                               "--format", "csv"], catch_exceptions=False)
    assert out.exit_code == 0 and out.output.split() == [
        "s", "https://w3id.org/workflow-kg/resource/engine-a",
        "https://w3id.org/workflow-kg/resource/engine-b"]
    stats = runner.invoke(main, [*pushed, "stats", "--format", "json"],
                          catch_exceptions=False)
    remote_stats = json.loads(stats.output)
    local = mini_graph.stats()
    assert remote_stats["classes"] == local.classes
    assert remote_stats["graphs"] == local.graphs
    export = runner.invoke(main, [*pushed, "export", "--format", "nq"], catch_exceptions=False)
    assert export.exit_code == 0
    def ground(quads) -> set[str]:  # blank node labels differ between stores
        return {str(q) for q in quads if not isinstance(q.subject, ox.BlankNode)
                and not isinstance(q.object, ox.BlankNode)}

    remote_quads = list(ox.parse(export.stdout_bytes, format=ox.RdfFormat.N_QUADS))
    local_quads = list(mini_graph.store.quads())
    assert len(remote_quads) == len(local_quads)
    assert ground(remote_quads) == ground(local_quads)


def test_kg_serve_against_the_remote_server(pushed, mini_graph, oxigraph_server):
    process, base = start_kg_serve(mini_graph.project.root, "--time-limit", "5", env={
        "KG_ENDPOINT": oxigraph_server + "/query", "KG_UPDATE_TOKEN": ""})
    try:
        response = httpx.get(base + "/sparql", params={
            "query": "SELECT ?s WHERE { ?s a wf:WorkflowEngine }"},
            headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert len(response.json()["results"]["bindings"]) == 2
        assert httpx.get(base + "/healthz").json()["store"] == "remote"
        assert httpx.get(base + "/api/queries/engine-backends").status_code == 200
        refused = httpx.get(base + "/sparql", params={
            "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
        assert refused.status_code == 403
        bad = httpx.get(base + "/sparql", params={"query": "SELECT ?s WHERE { ?s"})
        assert bad.status_code == 400
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def curated_remote(curated, tmp_path_factory):
    """The curated graph pushed to an Oxigraph server of its own (`kg push`)."""
    port = free_port()
    process = subprocess.Popen(
        [_oxigraph(), "serve", "--location", str(tmp_path_factory.mktemp("oxigraph-curated")),
         "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/query?query=ASK%7B%7D", process)
    graph = KnowledgeGraph(curated.project.root, store=curated.project.store_dir,
                           endpoint=base + "/query")
    out = cli(graph, "push")
    assert "pushed" in out and "Graph Store" not in out, out
    yield graph
    process.terminate()
    process.wait(timeout=10)


def test_curated_named_queries_pages_and_commands_answer_as_embedded(curated_remote, curated):
    assert curated_remote.store.kind == "oxigraph"
    assert compare_named_queries(curated, curated_remote) >= 12
    compare_service(curated, curated_remote)
    assert set(compare_commands(curated, curated_remote, {})) <= ORDER_DEPENDENT


def test_a_second_push_sends_nothing_and_a_dry_run_says_so(curated_remote, curated):
    plan = curated_remote.store.push(curated.store.quads())
    assert not plan.changes and plan.requests == 0
    assert "nothing to push" in cli(curated_remote, "push", "--dry-run")


def test_a_changed_graph_alone_is_sent_and_an_interrupted_push_changes_nothing(
        curated_remote, curated, monkeypatch):
    store = curated_remote.store
    quads = list(curated.store.quads())
    target = ox.NamedNode("https://w3id.org/workflow-kg/graph/data/plan.ttl")
    extra = ox.Quad(ox.NamedNode("https://w3id.org/workflow-kg/resource/temporal"),
                    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"),
                    ox.Literal("pushed by the test"), target)
    plan, _ = store.plan([*quads, extra])
    assert list(plan.send) == [target.value] and not plan.drop
    before = store.manifest()
    sent = []
    real = OxigraphServer.write_graph

    def failing(self, remote_store, graph, triples):
        sent.append(graph)
        raise OSError("connection reset by peer")

    monkeypatch.setattr(OxigraphServer, "write_graph", failing)
    with pytest.raises(OSError):
        store.push([*quads, extra])
    monkeypatch.setattr(OxigraphServer, "write_graph", real)
    assert sent and all(g.startswith(STAGING) for g in sent)
    assert store.manifest() == before and store.drop_staging() == []
    ask = 'ASK { ?s rdfs:comment "pushed by the test" }'
    assert curated_remote.sparql(ask).boolean is False
    done = store.push([*quads, extra])
    assert list(done.send) == [target.value] and curated_remote.sparql(ask).boolean is True
    back = store.push(quads)  # as the embedded store again, for the other tests
    assert list(back.send) == [target.value] and curated_remote.sparql(ask).boolean is False


def test_credentials_come_from_the_environment_only():
    with pytest.raises(RemoteError, match="KG_REMOTE_USER"):
        RemoteStore("http://user:secret@127.0.0.1:9/query")
    store = RemoteStore("http://127.0.0.1:9/query", environ={"KG_REMOTE_TOKEN": "t0ken"})
    assert store.transport.headers["Authorization"] == "Bearer t0ken"
    assert store.transport.opener.handlers  # TLS context of the default, verifying kind
    https = [h for h in store.transport.opener.handlers
             if type(h).__name__ == "HTTPSHandler"]
    assert https and https[0]._context.verify_mode == ssl.CERT_REQUIRED


def test_a_writer_reads_the_remote_once_and_again_after_another_writes(
        mini_graph, tmp_path, monkeypatch):
    """Writes through `kg serve --endpoint` copy the remote dataset only when it changed
    since this process's last write: two services A and B over one store, A writes
    twice (one copy), B writes (its own copy), A writes again (a fresh copy, which keeps
    B's change)."""
    import dataclasses

    from kg.pipeline import remote_write

    port = free_port()
    process = subprocess.Popen(
        [_oxigraph(), "serve", "--location", str(tmp_path / "oxigraph"),
         "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/query?query=ASK%7B%7D", process)
        graph = KnowledgeGraph(mini_graph.project.root, store=mini_graph.project.store_dir,
                               endpoint=base + "/query")
        cli(graph, "push", "-q")
        copies = []
        real = remote_write._copy
        monkeypatch.setattr(remote_write, "_copy",
                            lambda remote, layout: (copies.append(1), real(remote, layout)))
        service = dataclasses.replace(graph.project, store_dir=tmp_path / "service")
        engine = "<https://w3id.org/workflow-kg/resource/engine-a>"
        mini = "<https://w3id.org/workflow-kg/graph/data/mini.ttl>"

        def write(n: int) -> None:
            result = remote_write.apply(
                graph.remote, "apply_update", project=service, agent="test",
                on_copy=lambda: told.append(n), sparql=f"INSERT DATA {{ GRAPH {mini} {{ {engine} "
                       f"<http://www.w3.org/2004/02/skos/core#altLabel> \"copy {n}\"@en }} }}")
            assert result.added == 1

        told: list[int] = []  # the writes that said they were copying (on_copy)
        remote_write.forget()
        write(1)
        write(2)
        assert len(copies) == 1  # A's second write reused its copy
        a_copy = remote_write._KEPT.pop()
        write(3)  # B, with no copy of its own
        assert len(copies) == 2
        remote_write.forget()
        remote_write._KEPT.append(a_copy)
        write(4)  # A again: the remote changed since its copy
        assert len(copies) == 3 and told == [1, 3, 4]
        labels = graph.remote.query(
            f"SELECT ?l WHERE {{ GRAPH {mini} {{ {engine} "
            "<http://www.w3.org/2004/02/skos/core#altLabel> ?l } }").values("l")
        assert {f"copy {n}" for n in (1, 2, 3, 4)} <= {str(v) for v in labels}
    finally:
        remote_write.forget()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def writer(curated_remote, curated, tmp_path_factory):
    writer = Writer(curated_remote.remote, curated, tmp_path_factory.mktemp("small-writes"))
    yield writer
    writer.restore()


class TestSmallWritesOverOxigraphServer(SmallWrites):
    """Oxigraph server runs one update request as one transaction."""

    def test_a_difference_with_a_blank_node_sends_the_graph_whole(self, writer):
        """A case's measurement (a blank node) added, then removed. Which graphs go whole
        is decided before any request (RemoteStore._deltas), the same for every store, so
        one store shows it; each store's staging of a whole graph is what its first push
        does."""
        writer.write(f"INSERT DATA {{ GRAPH <{CASES}> {{ {MEASUREMENT.replace('?m', '_:m')} }} }}")
        (plan,) = writer.plans  # the history graph goes whole if this is the first write
        assert set(plan.whole) - {HISTORY} == {CASES} and set(plan.delta) <= {HISTORY}
        assert "graph store" in [kind for kind, _, _ in writer.sent]
        writer.assert_same()
        writer.write(f"DELETE WHERE {{ GRAPH <{CASES}> {{ {MEASUREMENT} }} }}")
        assert writer.plans[0].whole == [CASES]
        writer.assert_same()
