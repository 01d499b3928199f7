"""SPARQL Update and Graph Store writes with the update token: validated against the
shapes, applied in one swap, or rejected (422) with nothing changed."""

from __future__ import annotations

import pytest

from kg.pipeline.store import StoreLayout
from tests.conftest import writable_service

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update"}
ALT = "ASK { wfr:engine-a skos:altLabel 'EA'@en }"


@pytest.fixture(scope="module")
def writable(tmp_path_factory):
    with writable_service(tmp_path_factory.mktemp("writable"), time_limit=5,
                          update_token=TOKEN) as served:
        yield served


def ask(client, query: str) -> bool:
    return client.get("/sparql", params={"query": query},
                      headers={"Accept": "application/json"}).json()["boolean"]


def test_update_without_or_with_a_wrong_token_is_401(writable):
    client, _ = writable
    body = "INSERT DATA { wfr:engine-a skos:altLabel 'EA'@en }"
    response = client.post("/sparql", content=body, headers=UPDATE)
    assert response.status_code == 401 and "Bearer" in response.headers["www-authenticate"]
    response = client.post("/sparql", content=body,
                           headers={**UPDATE, "Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert ask(client, ALT) is False


def test_invalid_update_is_422_with_the_report_and_changes_nothing(writable):
    client, graph = writable
    layout = StoreLayout(graph.project.store_dir)
    before = layout.live()
    count = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                       headers={"Accept": "text/csv"}).text
    response = client.post("/sparql", headers={**UPDATE, **AUTH}, content=(
        "INSERT DATA { wfr:engine-a wf:supportsBackend wfr:db-z }"))
    assert response.status_code == 422
    report = response.json()["report"]
    assert not report["conforms"] and report["violations"]
    assert any("evidence" in v["message"] or "wfr:db-z" in str(v) for v in report["violations"])
    assert layout.live() == before
    assert client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                      headers={"Accept": "text/csv"}).text == count


def test_valid_update_is_visible_to_the_next_query(writable):
    client, _ = writable
    response = client.post("/sparql", headers={**UPDATE, **AUTH}, content=(
        "INSERT DATA { wfr:engine-a skos:altLabel 'EA'@en }"))
    assert response.status_code == 200, response.text
    assert response.json()["change"] == 1
    assert ask(client, ALT) is True
    form = client.post("/update", headers=AUTH, data={
        "update": "DELETE DATA { wfr:engine-a skos:altLabel 'EA'@en }"})
    assert form.status_code == 200 and ask(client, ALT) is False


def test_load_is_refused_even_with_the_token(writable):
    client, _ = writable
    response = client.post("/sparql", headers={**UPDATE, **AUTH},
                           content="LOAD <http://127.0.0.1:9/x.ttl>")
    assert response.status_code == 403


def test_graph_store_writes_are_validated(writable):
    client, _ = writable
    graph = "https://w3id.org/workflow-kg/graph/extra"
    bad = client.put(f"/store?graph={graph}", headers={**AUTH, "Content-Type": "text/turtle"},
                     content=b"<https://w3id.org/workflow-kg/resource/q> a "
                             b"<https://w3id.org/workflow-kg/ontology#WorkflowEngine> .")
    assert bad.status_code == 422
    good = client.put(f"/store?graph={graph}", headers={**AUTH, "Content-Type": "text/turtle"},
                      content=b"<https://w3id.org/workflow-kg/resource/engine-b> "
                              b"<http://www.w3.org/2004/02/skos/core#altLabel> \"EB\"@en .")
    assert good.status_code == 200, good.text
    read = client.get("/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    assert "EB" in read.text
    assert client.delete(f"/store?graph={graph}", headers=AUTH).status_code == 409
    assert client.delete(f"/store?graph={graph}&confirm=drop", headers=AUTH).status_code == 200
    assert "EB" not in client.get("/store", params={"graph": graph}).text
