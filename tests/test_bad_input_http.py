"""Bad input to the read routes is a 400 with a message, never a 500: a NUL byte in a
search, a limit that is not a number, a path from a resource to itself, a SERVICE port
out of range."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kg.query.guard import Policy
from kg_api import create_app


@pytest.fixture(scope="module")
def client(mini_graph):
    with TestClient(create_app(mini_graph, policy=Policy(time_limit=5), workers=1),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/api/search", {"q": "engine\x00a"}, "control character"),
    ("/api/search", {"q": "engine", "limit": "abc"}, "not a whole number: 'abc'"),
    ("/api/graph/path", {"from": "wfr:engine-a", "to": "wfr:engine-a"},
     "two different resources"),
    ("/sparql", {"query": "SELECT * { SERVICE <http://h:99999/q> { ?s ?p ?o } }"},
     "no valid port"),
])
def test_bad_input_is_a_400_with_a_message(client, path, params, message):
    response = client.get(path, params=params, headers={"accept": "application/json"})
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


# Each used to be ignored: a 200 with an empty or default answer.
@pytest.mark.parametrize(("path", "params", "unknown", "close"), [
    ("/api/search", {"qq": "saga"}, "qq", "q"),
    ("/search", {"qq": "saga"}, "qq", "q"),
    ("/api/class/WorkflowEngine", {"srot": "facts", "order": "desc"}, "srot", "sort"),
    ("/class/WorkflowEngine", {"srot": "facts"}, "srot", "sort"),
    ("/api/graph", {"focus": "wfr:engine-a", "dept": "2"}, "dept", "depth"),
    ("/api/graph/path", {"from": "wfr:engine-a", "too": "wfr:engine-b"}, "too", "to"),
    ("/sparql", {"qeury": "SELECT * { ?s ?p ?o }"}, "qeury", "query"),
    ("/api/decide", {"requir": "language=Python"}, "requir", "require"),
    ("/api/queries/engine-backends", {"engin": "wfr:engine-a"}, "engin", "engine"),
    ("/api/stats", {"verbose": "1"}, "verbose", None),
])
def test_an_unknown_parameter_is_a_400_naming_it_and_the_closest_one(client, path, params,
                                                                      unknown, close):
    response = client.get(path, params=params, headers={"accept": "application/json"})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert f"has no parameter {unknown!r}" in message
    if close:
        assert f"did you mean {close!r}?" in message and "it takes: " in message
        assert close in message.split("it takes: ")[1].split(", ")


def test_a_browser_gets_the_unknown_parameter_as_a_page(client):
    response = client.get("/search", params={"qq": "saga"}, headers={"accept": "text/html"})
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "has no parameter &#39;qq&#39; (did you mean &#39;q&#39;?)" in response.text


@pytest.mark.parametrize(("path", "params"), [
    ("/sparql", {"query": "ASK {}", "default-graph-uri": "urn:g", "named-graph-uri": "urn:h",
                 "format": "json"}),
    ("/api/queries/engine-backends", {"engine": "wfr:engine-a", "format": "csv",
                                      "evidence": "verified"}),
    ("/api/cite", {"query": "engine-backends", "engine": "wfr:engine-a"}),
    ("/queries/engine-backends", {"engine": "wfr:engine-a"}),
    ("/api/search", {"q": "engine", "status": "verified", "lang": "zh", "limit": "5"}),
    ("/api/class/WorkflowEngine", {"q": "engine", "sort": "facts", "order": "desc"}),
    ("/api/graph", {"focus": "wfr:engine-a", "depth": "2", "limit": "all"}),
])
def test_the_parameters_a_route_takes_are_still_taken(client, path, params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text


def test_a_bare_sparql_get_is_still_the_service_description(client):
    response = client.get("/sparql", headers={"accept": "text/turtle"})
    assert response.status_code == 200 and "sd:Service" in response.text


def test_decide_without_requirements_says_so_in_the_http_spelling(client):
    response = client.get("/api/decide")
    assert response.status_code == 400
    message = response.json()["message"]
    assert "require=language=Go" in message and "--require" not in message


# Each used to be a 200 with nothing found, as if no resource of the class matched.
@pytest.mark.parametrize(("path", "params", "what"), [
    ("/api/search", {"q": "engine", "type": "wf:Theori"}, "for the type filter"),
    ("/api/class/Entity", {"type": "wf:Theori"}, "for the type filter"),
    ("/api/graph", {"class": "wf:Theori"}, "for the graph filter"),
])
def test_an_unknown_class_in_a_filter_is_a_400_with_suggestions(client, path, params, what):
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"unknown class wf:Theori {what}; did you mean wf:Theory?"


def test_a_search_filter_takes_a_prefixed_class_name(client):
    by_curie = client.get("/api/search", params={"q": "engine", "type": "wf:WorkflowEngine"})
    by_iri = client.get("/api/search", params={
        "q": "engine", "type": "https://w3id.org/workflow-kg/ontology#WorkflowEngine"})
    assert by_curie.json()["total"] == by_iri.json()["total"] > 0
