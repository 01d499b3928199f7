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
