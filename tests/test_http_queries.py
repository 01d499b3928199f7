"""Named queries as a REST API, the OpenAPI spec and the offline docs, through the ASGI
app (in-process, real worker processes)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from kg.errors import ParameterError
from kg.query.guard import Policy
from kg_api import create_app


@pytest.fixture(scope="module")
def api(mini_graph):
    with TestClient(create_app(mini_graph, policy=Policy(time_limit=5), workers=2)) as client:
        yield client


def test_every_named_query_has_a_documented_route(api, mini_graph):
    spec = api.get("/openapi.json").json()
    listed = {q["name"]: q for q in api.get("/api/queries").json()}
    assert set(listed) == {q.name for q in mini_graph.queries}
    for named in mini_graph.queries:
        operation = spec["paths"][f"/api/queries/{named.name}"]["get"]
        assert operation["summary"] == named.title
        documented = {p["name"]: p for p in operation["parameters"]}
        for param in named.parameters:
            assert documented[param.name]["required"] == param.required
            assert documented[param.name]["schema"]["type"] in ("string", "integer",
                                                                "number", "boolean")
        assert "format" in documented


def example_params(named) -> dict[str, str] | None:
    """Defaults, then the values of the header's example; None if a required one lacks."""
    params = {p.name: p.default for p in named.parameters if p.default is not None}
    for example in named.examples:
        params.update(re.findall(r"--param\s+(\w+)=(\S+)", example))
    if any(p.required and p.name not in params for p in named.parameters):
        return None
    return params


def test_every_named_query_answers_as_kg_does(api, mini_graph):
    for named in mini_graph.queries:
        params = example_params(named)
        if params is None:
            continue
        response = api.get(f"/api/queries/{named.name}", params=params)
        try:
            expected = mini_graph.query(named.name, params)
        except ParameterError as err:  # an example naming what the fixture lacks
            assert response.status_code == 400, (named.name, response.text)
            assert response.json()["message"] == str(err)
            continue
        assert response.status_code == 200, (named.name, response.text)
        if expected.kind == "select":
            body = response.json()
            assert body["variables"] == expected.variables
            assert body["rows"] == [{k: v.value for k, v in row.items()}
                                    for row in expected.rows()]


def test_named_query_as_csv_and_with_a_parameter(api):
    response = api.get("/api/queries/engine-backends", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["backend"].rsplit("/", 1)[-1] for r in rows} >= {"db-x", "db-y"}
    by_accept = api.get("/api/queries/engine-backends", headers={"Accept": "text/csv"})
    assert by_accept.text == response.text


def test_parameters_are_bound_as_terms_never_spliced(api, mini_graph):
    named = next(q for q in mini_graph.queries
                 if any(p.type == "string" for p in q.parameters))
    param = next(p for p in named.parameters if p.type == "string")
    hostile = '" } } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #'
    response = api.get(f"/api/queries/{named.name}", params={param.name: hostile})
    assert response.status_code == 200, response.text


def test_bad_parameters_are_400_and_unknown_queries_404(api):
    assert api.get("/api/queries/engine-backends", params={"nope": "1"}).status_code == 400
    response = api.get("/api/queries/engine-backend")
    assert response.status_code == 404 and "engine-backends" in response.json()["message"]


def test_docs_work_offline(api):
    page = api.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert api.get(source).status_code == 200
    assert "cdn" not in page.text.lower()


def test_named_query_in_the_verified_view(api):
    params = {"backend": "wfr:db-y", "format": "json"}
    everything = api.get("/api/queries/technology-selection", params=params)
    verified = api.get("/api/queries/technology-selection",
                       params={**params, "evidence": "verified"})
    assert everything.status_code == verified.status_code == 200, verified.text
    assert "engine-b" in everything.text  # its backend db-y rests on an Unverified statement
    assert "engine-b" not in verified.text
    bad = api.get("/api/queries/technology-selection", params={**params, "evidence": "proven"})
    assert bad.status_code == 400 and "unknown evidence view" in bad.json()["message"]
