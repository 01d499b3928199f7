"""The SPARQL 1.1 Protocol endpoint over a real socket: `kg serve` on the fixture project,
SPARQLWrapper and httpx as clients, answers compared with those of `kg query`."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from SPARQLWrapper import CSV, JSON, JSONLD, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from kg.cli import main
from kg.lab.local import free_port, wait_until_up

pytestmark = pytest.mark.server

TIME_LIMIT = 1.5
ENGINES = "SELECT ?s ?label WHERE { ?s a wf:WorkflowEngine ; rdfs:label ?label } ORDER BY ?s ?label"
CONSTRUCT = ("CONSTRUCT { ?s a wf:WorkflowEngine ; rdfs:label ?l } "
             "WHERE { ?s a wf:WorkflowEngine ; rdfs:label ?l }")
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def start_kg_serve(project: Path, *args: str, env: dict | None = None):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "--project", str(project), "serve",
         "--port", str(port), *args],
        env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/healthz", process)
    return process, base


@pytest.fixture(scope="module")
def server(mini_graph):
    process, base = start_kg_serve(mini_graph.project.root, "--time-limit", str(TIME_LIMIT),
                                   "--max-rows", "5000", "--max-body", "20000",
                                   env={"KG_UPDATE_TOKEN": ""})
    yield base
    process.terminate()
    process.wait(timeout=10)


def kg_query(graph, sparql: str, fmt: str) -> bytes:
    result = CliRunner().invoke(main, ["--project", str(graph.project.root), "query", "-e",
                                       sparql, "--format", fmt], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def client(base: str, query: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(base + "/sparql")
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


def rows_of(sparql_json: dict) -> list[dict]:
    return [{k: v["value"] for k, v in b.items()} for b in sparql_json["results"]["bindings"]]


def test_select_json_equals_kg_query(server, mini_graph):
    answer = client(server, ENGINES, JSON).queryAndConvert()
    expected = json.loads(kg_query(mini_graph, ENGINES, "json"))
    assert rows_of(answer) == rows_of(expected)
    assert len(rows_of(answer)) == 4  # two engines, a label in English and Chinese each


def test_select_xml_and_csv_equal_kg_query(server, mini_graph):
    xml_doc = client(server, ENGINES, XML).queryAndConvert()
    parsed = ox.parse_query_results(xml_doc.toxml().encode(),
                                    format=ox.QueryResultsFormat.XML)
    xml_rows = [{v.value: s[v].value for v in parsed.variables if s[v] is not None}
                for s in parsed]
    assert xml_rows == rows_of(json.loads(kg_query(mini_graph, ENGINES, "json")))
    csv_text = client(server, ENGINES, CSV).queryAndConvert().decode()
    expected = kg_query(mini_graph, ENGINES, "csv").decode()
    assert list(csv.reader(io.StringIO(csv_text))) == list(csv.reader(io.StringIO(expected)))


def test_ask(server):
    assert client(server, "ASK { wfr:engine-a a wf:WorkflowEngine }", JSON
                  ).queryAndConvert()["boolean"] is True
    assert client(server, "ASK { wfr:engine-a a wf:Course }", JSON
                  ).queryAndConvert()["boolean"] is False


def _triples(data: bytes, rdf_format) -> set[str]:
    return {str(t) for t in ox.parse(data, format=rdf_format)}


def test_construct_turtle_and_jsonld_equal_kg_query(server, mini_graph):
    expected = _triples(kg_query(mini_graph, CONSTRUCT, "nt"), ox.RdfFormat.N_TRIPLES)
    assert len(expected) == 6
    turtle = client(server, CONSTRUCT, TURTLE).query().response.read()
    assert _triples(turtle, ox.RdfFormat.TURTLE) == expected
    jsonld = client(server, CONSTRUCT, JSONLD).query().response.read()
    assert _triples(jsonld, ox.RdfFormat.JSON_LD) == expected


@pytest.mark.parametrize("method", ["get", "form", "direct"])
def test_three_ways_to_send_a_query(server, method):
    url = server + "/sparql"
    headers = {"Accept": "application/sparql-results+json"}
    query = "SELECT ?s WHERE { ?s a wf:WorkflowEngine }"
    if method == "get":
        response = httpx.get(url, params={"query": query}, headers=headers)
    elif method == "form":
        response = httpx.post(url, data={"query": query}, headers=headers)
    else:
        response = httpx.post(url, content=query, headers={
            **headers, "Content-Type": "application/sparql-query"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    assert len(response.json()["results"]["bindings"]) == 2


def test_tsv_and_default_graph_uri(server):
    graph = "https://w3id.org/workflow-kg/graph/data/mini.ttl"
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a wf:WorkflowEngine }"
    tsv = httpx.get(server + "/sparql", params={"query": query, "default-graph-uri": graph},
                    headers={"Accept": "text/tab-separated-values"})
    assert tsv.status_code == 200 and tsv.text.splitlines()[0] == "?n"
    assert tsv.text.splitlines()[1] == "2"
    none = httpx.get(server + "/sparql", headers={"Accept": "application/json"}, params={
        "query": query, "default-graph-uri": "https://w3id.org/workflow-kg/graph/inferred"})
    assert none.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_malformed_query_is_400_with_the_parser_message(server):
    response = httpx.get(server + "/sparql", params={"query": "SELECT ?s WHERE { ?s ?p"})
    assert response.status_code == 400
    assert "line 1, column 17: this '{' is never closed" in response.json()["message"]
    with pytest.raises(QueryBadFormed):
        client(server, "SELECT * WHERE { ?s ?p }", JSON).query()


def test_unsupported_accept_is_406_and_unsupported_body_is_415(server):
    response = httpx.get(server + "/sparql", params={"query": ENGINES},
                         headers={"Accept": "image/png"})
    assert response.status_code == 406
    response = httpx.get(server + "/sparql", params={"query": CONSTRUCT},
                         headers={"Accept": "text/csv"})
    assert response.status_code == 406
    response = httpx.post(server + "/sparql", content=b"{}",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 415


def test_service_description_without_a_query(server):
    response = httpx.get(server + "/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    triples = _triples(response.content, ox.RdfFormat.TURTLE)
    assert any("sparql-service-description#Service" in t for t in triples)
    assert any(f"<{server}/sparql>" in t for t in triples)


class Listener:
    """A TCP listener that records whether anybody connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ # a comment\n service <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
    "PREFIX ex: <http://127.0.0.1:{port}/>\nSELECT * WHERE {{ SERVICEex:x {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o . {{ SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/> "
    "{{ ?a ?b ?c }} }} }} }}",
])
def test_service_is_refused_and_the_listener_receives_nothing(server, template):
    listener = Listener()
    try:
        query = template.format(port=listener.port)
        response = httpx.post(server + "/sparql", data={"query": query})
        time.sleep(0.3)
        assert response.status_code == 403, response.text
        assert "SERVICE" in response.json()["message"]
        assert listener.connections == 0
    finally:
        listener.close()


def test_load_is_refused(server):
    response = httpx.post(server + "/sparql", data={"query": "LOAD <http://example.org/x>"})
    assert response.status_code == 400  # not a query
    response = httpx.post(server + "/sparql", data={"update": "LOAD <http://example.org/x>"})
    assert response.status_code == 403


def test_from_a_local_file_reads_nothing(server):
    passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()
    marker = next((line.split(":")[0] for line in passwd if line), "root")
    for query in ["SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
                  "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
                  "SELECT * WHERE { GRAPH <file:///etc/passwd> { ?s ?p ?o } }"]:
        for accept in ["application/sparql-results+json", "text/csv"]:
            response = httpx.get(server + "/sparql", params={"query": query},
                                 headers={"Accept": accept})
            assert response.status_code in (200, 403)
            assert f"{marker}:x:" not in response.text
            assert "/bin/" not in response.text
    response = httpx.get(server + "/sparql", params={
        "query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "file:///etc/passwd"},
        headers={"Accept": "text/csv"})
    assert response.status_code == 403


def test_expensive_query_stops_at_the_limit_while_others_are_answered(server):
    outcome = {}

    def expensive():
        started = time.monotonic()
        response = httpx.post(server + "/sparql", data={"query": EXPENSIVE}, timeout=30)
        outcome["status"], outcome["seconds"] = response.status_code, time.monotonic() - started
        outcome["body"] = response.json()

    thread = threading.Thread(target=expensive)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    quick = httpx.get(server + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                      headers={"Accept": "application/json"})
    answered_at = time.monotonic()
    still_running = thread.is_alive()
    thread.join()
    assert quick.status_code == 200 and quick.json()["boolean"] is True
    # answered while the expensive query was still running, not after it
    assert still_running and answered_at - started < TIME_LIMIT
    assert outcome["status"] == 503
    assert "time limit" in outcome["body"]["message"]
    assert TIME_LIMIT - 0.1 <= outcome["seconds"] <= TIME_LIMIT + 0.75
    # the killed worker was replaced: the service still answers
    assert httpx.get(server + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_result_size_and_body_size_limits(server):
    response = httpx.get(server + "/sparql", params={
        "query": "SELECT * WHERE { ?a ?b ?c . ?d a wf:WorkflowEngine . ?e a wf:StorageBackend }"})
    assert response.status_code == 400 and "limit" in response.json()["message"]
    big = "SELECT * WHERE { ?s ?p ?o } " + "#" * 30_000
    response = httpx.post(server + "/sparql", content=big,
                          headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_errors_are_short_messages_never_tracebacks(server):
    for response in [httpx.get(server + "/sparql", params={"query": "SELECT ?x {"}),
                     httpx.get(server + "/api/queries/nope"),
                     httpx.get(server + "/api/queries/cases-by-technology",
                               params={"limit": "many"})]:
        assert 400 <= response.status_code < 500
        assert "Traceback" not in response.text and len(response.text) < 2000


def test_update_without_token_is_refused_when_read_only(server):
    response = httpx.post(server + "/sparql", content="INSERT DATA { wfr:a wfr:b wfr:c }",
                          headers={"Content-Type": "application/sparql-update",
                                   "Authorization": "Bearer guess"})
    assert response.status_code == 403
    assert httpx.put(server + "/store?graph=urn:x", content=b"",
                     headers={"Content-Type": "text/turtle"}).status_code == 403


def test_healthz_and_stats(server):
    assert httpx.get(server + "/healthz").json()["status"] == "ok"
    stats = httpx.get(server + "/api/stats").json()
    assert stats["classes"]["wf:WorkflowEngine"] == 2
    assert "https://w3id.org/workflow-kg/graph/data/mini.ttl" in stats["graphs"]
    assert stats["build"]["input_hash"]


def test_concurrent_queries(server):
    results = []

    def ask():
        results.append(httpx.get(server + "/sparql", params={"query": ENGINES},
                                 headers={"Accept": "application/json"}).status_code)

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 12


def test_evidence_verified_parameter_selects_the_verified_view(server):
    ask = "ASK { wfr:engine-b wf:supportsBackend wfr:db-y }"  # only an Unverified statement
    headers = {"Accept": "application/sparql-results+json"}
    url = server + "/sparql"
    assert httpx.get(url, params={"query": ask}, headers=headers).json()["boolean"] is True
    verified = httpx.get(url, params={"query": ask, "evidence": "verified"}, headers=headers)
    assert verified.json()["boolean"] is False
    posted = httpx.post(url + "?evidence=verified", content=ask, headers={
        **headers, "Content-Type": "application/sparql-query"})
    assert posted.json()["boolean"] is False
    bad = httpx.get(url, params={"query": ask, "evidence": "proven"}, headers=headers)
    assert bad.status_code == 400 and "unknown evidence view" in bad.json()["message"]
