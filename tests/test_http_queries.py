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


# ------------------------------------------------------------ answers that never mislead
# The HTTP twins of the cases in tests/test_queries.py, on one app per module.

def test_an_unknown_prefixed_name_is_an_error_on_every_route(api, mini_graph):
    with pytest.raises(ParameterError) as err:
        mini_graph.query("engine-backends", {"engine": "wfr:engine-aa"})
    assert "did you mean wfr:engine-a (Engine A)" in str(err.value)
    rest = api.get("/api/queries/engine-backends", params={"engine": "wfr:engine-aa"})
    assert rest.status_code == 400 and rest.json()["message"] == str(err.value)
    page = api.get("/queries/engine-backends", params={"engine": "wfr:engine-aa"},
                   headers={"Accept": "text/html"})
    assert page.status_code == 400 and "wfr:engine-a" in page.text
    assert "Traceback" not in page.text
    cite = api.get("/api/cite", params={"query": "engine-backends", "engine": "wfr:engine-aa"})
    assert cite.status_code == 400 and cite.json()["message"] == str(err.value)


def test_the_verified_view_leaves_out_statement_rows_on_every_route(api):
    """mini.ttl: Engine A on DB Y is Contradicted, Engine B on DB Y Unverified; Engine A
    on DB X is Verified (statement nodes: the row filter, not the graphs, drops them)."""
    everything = api.get("/api/queries/engine-backends").json()
    verified = api.get("/api/queries/engine-backends", params={"evidence": "verified"}).json()
    assert {r["status"].rsplit("#", 1)[1] for r in everything["rows"]} == {
        "Verified", "Contradicted", "Unverified"}
    assert [(r["engine"].rsplit("/", 1)[1], r["backend"].rsplit("/", 1)[1])
            for r in verified["rows"]] == [("engine-a", "db-x")]
    assert verified["withheld"] == len(everything["rows"]) - 1
    page = api.get("/queries/engine-backends", params={"evidence": "verified"},
                   headers={"Accept": "text/html"})
    assert page.status_code == 200 and "/resource/db-y" not in page.text  # no DB Y row
    assert "/resource/db-y" in api.get("/queries/engine-backends",
                                       headers={"Accept": "text/html"}).text
    sparql = api.get("/sparql", params={
        "query": "SELECT ?st WHERE { ?st wf:evidenceStatus wf:Contradicted }",
        "evidence": "verified"}, headers={"Accept": "application/sparql-results+json"})
    assert sparql.status_code == 200 and sparql.json()["results"]["bindings"] == []


def test_cite_takes_a_named_query_s_parameters_as_its_route_does(api, mini_graph):
    only_b = api.get("/api/cite", params={"query": "engine-backends",
                                          "engine": "wfr:engine-b"}).json()["entries"]
    every = api.get("/api/cite", params={"query": "engine-backends"}).json()["entries"]
    expected = mini_graph.citations(query="engine-backends", params={"engine": "wfr:engine-b"})
    assert [e["key"] for e in only_b] == [e.key for e in expected]
    assert len(only_b) < len(every)  # engine-a's sources (fixture-doc) are left out
    stray = api.get("/api/cite", params={"iri": "wfr:engine-b", "engine": "wfr:engine-b"})
    assert stray.status_code == 400 and "need query=NAME" in stray.json()["message"]
    unknown = api.get("/api/cite", params={"query": "engine-backends", "colour": "red"})
    assert unknown.status_code == 400 and "no parameter 'colour'" in unknown.json()["message"]


def test_json_cells_keep_their_full_text_and_concatenations_are_sorted(api, mini_graph):
    rows = api.get("/api/queries/plan-vs-evidence").json()["rows"]
    notes = {r["note"] for r in rows if "note" in r}
    assert notes and not any("…" in n for n in notes)
    for row in rows:
        for column in ("sources", "contradictedBy", "evidenceSupports"):
            items = row.get(column, "").split(" ")
            assert items == sorted(items), row
    listed = {q["name"]: q for q in api.get("/api/queries").json()}
    assert "plan-vs-evidence" in listed["plan-claims"]["description"]
    assert "plan-claims" in listed["plan-vs-evidence"]["description"]
