"""The W3C SPARQL 1.1 Protocol test suite, run as data: each test of the vendored
manifest (tests/w3c/protocol) is one parametrised case, sent over HTTP to a real
`kg serve` with the update token.

The server serves a project with no ontology or data of its own, so that the suite's
`CLEAR ALL` / `DROP ALL` only remove the suite's graphs; it runs with `--allow-drop`,
since the suite removes whole graphs without the confirmation `kg serve` otherwise asks
for. Each test's `ut:graphData` is loaded into its graph (Graph Store PUT) first."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rdflib import RDF, RDFS, Graph, Namespace
from rdflib.collection import Collection

from kg import KnowledgeGraph
from tests.test_http_sparql import start_kg_serve

pytestmark = pytest.mark.server

SUITE = Path(__file__).resolve().parent / "w3c" / "protocol"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TOKEN = "w3c-suite-token"
FORMATS = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml",
                "text/csv", "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples"},
}


def _manifest() -> list[dict]:
    graph = Graph().parse(SUITE / "manifest.ttl", publicID=BASE + "manifest.ttl")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    cases = []
    for test in Collection(graph, graph.value(manifest, MF.entries)):
        requests = []
        for request in Collection(graph, graph.value(graph.value(test, MF.action),
                                                     HT.requests)):
            body = graph.value(request, HT.body)
            headers = graph.value(request, HT.headers)
            response = graph.value(request, HT.resp)
            expected = graph.value(response, MF.expectedBoolean)
            requests.append({
                "method": str(graph.value(request, HT.methodName)),
                "path": str(graph.value(request, HT.absolutePath)),
                "headers": {str(graph.value(h, HT.fieldName)): str(graph.value(h, HT.fieldValue))
                            for h in (Collection(graph, headers) if headers else [])},
                "body": None if body is None else str(graph.value(body, CNT.chars)).encode(
                    str(graph.value(body, CNT.characterEncoding) or "UTF-8")),
                "status": {str(s).rsplit("StatusCode", 1)[1][0]
                           for s in graph.objects(response, MF.expectedStatus)},
                "format": (str(graph.value(response, MF.expectedFormat))
                           if graph.value(response, MF.expectedFormat) else None),
                "boolean": None if expected is None else expected.toPython(),
            })
        data = {str(graph.value(d, RDFS.label)): SUITE / Path(str(graph.value(d, UT.graph))).name
                for d in graph.objects(test, UT.graphData)}
        cases.append(pytest.param(requests, data, id=str(test).rsplit("#", 1)[1]))
    return cases


CASES = _manifest()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("w3c") / "project"
    for folder in ("ontology", "data", "queries"):
        (root / folder).mkdir(parents=True)
    (root / "ontology" / "shapes.ttl").write_text("# no shapes: the suite's data only\n")
    KnowledgeGraph(root).build()
    process, base = start_kg_serve(root, "--allow-drop", "--time-limit", "10",
                                   env={"KG_UPDATE_TOKEN": TOKEN})
    yield base
    process.terminate()
    process.wait(timeout=10)


def _boolean(response: httpx.Response) -> bool:
    if "json" in response.headers["content-type"]:
        return response.json()["boolean"]
    return "<boolean>true</boolean>" in response.text


def test_the_manifest_has_every_test_of_the_suite():
    assert len(CASES) == 34


@pytest.mark.parametrize(("requests", "data"), CASES)
def test_sparql11_protocol(endpoint, requests, data):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for graph, path in data.items():
        loaded = httpx.put(f"{endpoint}/store", params={"graph": graph}, content=path.read_bytes(),
                           headers={**auth, "Content-Type": "application/n-triples"})
        assert loaded.status_code == 200, loaded.text
    for request in requests:
        url = endpoint + "/sparql" + request["path"].removeprefix("/sparql/")
        response = httpx.request(request["method"], url, content=request["body"],
                                 headers={**request["headers"], **auth}, timeout=30)
        assert str(response.status_code)[0] in request["status"], response.text
        if request["format"]:
            media = response.headers["content-type"].split(";")[0]
            assert media in FORMATS[request["format"]]
        if request["boolean"] is not None:
            assert _boolean(response) is request["boolean"]
