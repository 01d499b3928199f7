"""Authorised writes that cannot lose data: whole-graph removals need `confirm=drop` and
never empty a curated file's graph, answers count what changed, concurrent writes are
409, request bodies are parsed under limits, and a failed write leaves nothing behind."""

from __future__ import annotations

import errno
import os

import pytest

from kg import KnowledgeGraph
from kg.errors import StoreWriteFailed
from kg.namespaces import GRAPH
from kg.pipeline.store import StoreLayout
from kg.pipeline.update import apply_update
from kg_api.app import status_of
from tests.conftest import triple_count, writable_service

TOKEN = "safety-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
MINI = str(GRAPH["data/mini.ttl"])
EXTRA = "https://w3id.org/workflow-kg/graph/extra"
TURTLE = {**AUTH, "Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with writable_service(tmp_path_factory.mktemp("safety"), time_limit=5,
                          update_token=TOKEN, token_name="alice") as served:
        yield served


def count(client) -> int:
    return triple_count(client)


def live(graph: KnowledgeGraph):
    return StoreLayout(graph.project.store_dir).live()


@pytest.mark.parametrize("update", [
    "DROP ALL", "CLEAR ALL", "CLEAR NAMED", "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
    f"DROP GRAPH <{MINI}>",
])
def test_whole_graph_removal_without_confirm_is_409_and_keeps_every_triple(served, update):
    client, graph = served
    before, store = count(client), live(graph)
    response = client.post("/sparql", content=update, headers=UPDATE)
    assert response.status_code == 409, response.text
    message = response.json()["message"]
    assert "confirm=drop" in message and "graph/meta" not in message
    assert count(client) == before and live(graph) == store


@pytest.mark.parametrize("update", ["DROP ALL", "CLEAR NAMED", f"CLEAR GRAPH <{MINI}>"])
def test_confirmed_removal_of_a_curated_graph_fails_validation(served, update):
    client, graph = served
    before = count(client)
    response = client.post("/sparql", params={"confirm": "drop"}, content=update,
                           headers=UPDATE)
    assert response.status_code == 422, response.text
    files = {v["file"] for v in response.json()["report"]["violations"]}
    assert "data/mini.ttl" in files
    assert count(client) == before


def test_confirmed_drop_of_a_graph_written_by_updates_succeeds(served):
    client, _ = served
    put = client.put(f"/store?graph={EXTRA}", headers=TURTLE, content=(
        b"<https://w3id.org/workflow-kg/resource/engine-b> "
        b"<http://www.w3.org/2004/02/skos/core#altLabel> \"EB\"@en ."))
    assert put.status_code == 200 and put.json()["added"] == 1
    form = client.post("/update", headers=AUTH,
                       data={"update": f"DROP GRAPH <{EXTRA}>", "confirm": "drop"})
    assert form.status_code == 200, form.text
    assert form.json()["removed"] == 1 and EXTRA not in form.json()["graphs"]


def test_update_answer_counts_triples_added_and_removed(served):
    client, graph = served
    label = f"GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel 'A-one'@en , 'A-two'@en }}"
    added = client.post("/sparql", content=f"INSERT DATA {{ {label} }}", headers=UPDATE)
    assert added.json()["added"] == 2 and added.json()["removed"] == 0
    removed = client.post("/sparql", content=f"DELETE DATA {{ {label} }}", headers=UPDATE)
    assert (removed.json()["added"], removed.json()["removed"]) == (0, 2)


def test_delete_without_graph_that_matches_nothing_says_so_and_publishes_nothing(served):
    """An update without GRAPH reads and writes the default graph, which holds only what
    updates put there: deleting a curated label that way removes nothing, and says so."""
    client, graph = served
    store = live(graph)
    response = client.post("/sparql", content="DELETE WHERE { wfr:engine-a rdfs:label ?l }",
                           headers=UPDATE)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["added"], body["removed"]) == ("unchanged", 0, 0)
    assert body["version"] is None and live(graph) == store


def test_update_without_graph_writes_the_default_graph(served):
    client, _ = served
    triple = "wfr:engine-b skos:altLabel 'B default'@en"
    response = client.post("/sparql", content=f"INSERT DATA {{ {triple} }}", headers=UPDATE)
    assert response.json()["graphs"]["default"] == 1
    assert client.post("/sparql", content=f"DELETE DATA {{ {triple} }}",
                       headers=UPDATE).json()["removed"] == 1


def test_update_during_a_build_is_409_with_retry_after_and_no_path(served):
    client, graph = served
    with StoreLayout(graph.project.store_dir).locked():
        response = client.post("/sparql", headers=UPDATE, content=(
            "INSERT DATA { wfr:engine-a skos:altLabel 'locked'@en }"))
    assert response.status_code == 409
    assert response.headers["retry-after"].isdigit()
    assert "build.lock" not in response.text and str(graph.project.root) not in response.text


def test_clear_of_a_missing_graph_is_400_unless_silent(served):
    client, _ = served
    missing = "https://w3id.org/workflow-kg/graph/missing"
    response = client.post("/sparql", content=f"CLEAR GRAPH <{missing}>", headers=UPDATE)
    assert response.status_code == 400 and "SILENT" in response.json()["message"]
    silent = client.post("/sparql", content=f"DROP SILENT GRAPH <{missing}>", headers=UPDATE)
    assert silent.status_code == 200 and silent.json()["status"] == "unchanged"


def test_update_nested_3000_deep_is_refused_and_the_server_lives(served):
    client, _ = served
    deep = "INSERT { ?s ?p ?o } WHERE { " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000 + " }"
    response = client.post("/sparql", content=deep, headers=UPDATE)
    assert response.status_code == 403 and "nests" in response.json()["message"]
    assert count(client) > 0


def _entity_bomb(levels: int, fan: int) -> bytes:
    entities = ['<!ENTITY e0 "' + "a" * 100 + '">'] + [
        f'<!ENTITY e{i} "' + f"&e{i - 1};" * fan + '">' for i in range(1, levels + 1)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(entities) + "]>\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:s="http://www.w3.org/2004/02/skos/core#"><rdf:Description rdf:about='
            '"https://w3id.org/workflow-kg/resource/engine-b">'
            f"<s:altLabel>&e{levels};</s:altLabel></rdf:Description></rdf:RDF>").encode()


@pytest.mark.parametrize("levels,fan", [(4, 20), (9, 10)],
                         ids=["huge-literal", "billion-laughs"])
def test_rdfxml_entity_expansion_in_a_store_body_is_413_and_the_server_lives(
        served, levels, fan):
    client, graph = served
    store = live(graph)
    body = _entity_bomb(levels, fan)
    assert len(body) < 1000
    response = client.put(f"/store?graph={EXTRA}", content=body,
                          headers={**AUTH, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 413, response.text
    assert live(graph) == store and count(client) > 0


def test_jsonld_store_body_is_accepted(served):
    client, _ = served
    body = (b'{"@id": "https://w3id.org/workflow-kg/resource/engine-b", '
            b'"http://www.w3.org/2004/02/skos/core#altLabel": {"@value": "EB-json", '
            b'"@language": "en"}}')
    response = client.post(f"/store?graph={EXTRA}", content=body,
                           headers={**AUTH, "Content-Type": "application/ld+json"})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1
    assert client.delete(f"/store?graph={EXTRA}&confirm=drop", headers=AUTH).status_code == 200


def test_jsonld_remote_context_is_not_fetched(served):
    client, _ = served
    body = b'{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "urn:x", "p": "v"}'
    response = client.post(f"/store?graph={EXTRA}", content=body,
                           headers={**AUTH, "Content-Type": "application/ld+json"})
    assert response.status_code == 415 and "remote contexts" in response.json()["message"]


def test_failed_write_on_a_full_disk_leaves_no_partial_store(served, monkeypatch):
    client, graph = served
    layout = StoreLayout(graph.project.store_dir)
    store, kept = live(graph), set(layout.versions())

    def full(self, partial, info):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(StoreLayout, "publish", full)  # in this process: the core's write
    with pytest.raises(StoreWriteFailed, match="No space left on device") as failed:
        apply_update(graph.project, "INSERT DATA { wfr:engine-a skos:altLabel 'disk'@en }")
    assert status_of(failed.value) == 507
    assert live(graph) == store and set(layout.versions()) == kept
    # none of this process's (the service's writer may hold the next version open in
    # its own, kg.pipeline.update.prepare)
    left = [p for p in layout.stores.glob("partial-*") if p.name.endswith(f"-{os.getpid()}")]
    assert not left, {p.name: sorted(f.name for f in p.iterdir()) for p in left}


def test_build_on_a_full_disk_prints_one_line_and_leaves_no_partial_store(cli, monkeypatch):
    assert cli("build", "-q").exit_code == 0
    layout = StoreLayout(cli.project / ".kg")
    store = layout.live()

    def full(self, partial, info):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(StoreLayout, "publish", full)
    result = cli("build", "-q", "--force")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert layout.live() == store and not list(layout.stores.glob("partial-*"))


def test_more_than_one_update_parameter_is_400_and_changes_nothing(served):
    client, graph = served
    store, before = live(graph), count(client)
    response = client.post("/sparql", headers={**AUTH, "Content-Type":
                                               "application/x-www-form-urlencoded"},
                           content="update=CLEAR%20NAMED&update=CLEAR%20NAMED&confirm=drop")
    assert response.status_code == 400
    two = client.get("/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")])
    assert two.status_code == 400
    assert live(graph) == store and count(client) == before


def test_using_graph_uri_parameters_become_using_clauses_of_each_modify():
    from kg.errors import QueryError
    from kg.pipeline.update import with_using

    update = ("INSERT { GRAPH <urn:t> { ?s a ?c } } WHERE { { SELECT ?s ?c WHERE { ?s a ?c } } }"
              " ; DELETE WHERE { ?s <urn:p> ?o }")
    rewritten = with_using(update, ["urn:a"], ["urn:b"])
    assert rewritten.count("USING <urn:a> USING NAMED <urn:b> WHERE") == 1
    assert "DELETE WHERE" in rewritten and "SELECT ?s ?c WHERE" in rewritten
    with pytest.raises(QueryError, match="give the dataset once"):
        with_using("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["urn:a"], [])


@pytest.mark.parametrize("update_text", [
    f"DELETE WHERE {{ GRAPH <{MINI}> {{ wfr:engine-a skos:definition ?d }} }}",
    f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-a wf:colour 'red' }} }}",
])
def test_small_update_that_breaks_a_shape_is_still_refused(served, update_text):
    client, graph = served
    store = live(graph)
    response = client.post("/sparql", content=update_text, headers=UPDATE)
    assert response.status_code == 422, response.text
    assert live(graph) == store
