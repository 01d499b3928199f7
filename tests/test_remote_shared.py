"""One remote store shared by two `kg serve` processes (Oxigraph server, and Virtuoso):
a write through one, with the update token, is validated as over the embedded store and
read through the other (SPARQL endpoint, named query, entity page, search); a rejected
write changes neither; the reader's per-version caches (the catalogue behind search)
never serve an answer from before the other's write. Each store kind's server is
started once for the module, on loopback."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.lab.local import (
    VIRTUOSO_ENV,
    free_port,
    start_virtuoso,
    virtuoso_missing,
    wait_until_up,
)
from kg.namespaces import GRAPH, HISTORY_GRAPH

pytestmark = pytest.mark.server

TOKEN = "shared-store-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}
MINI = str(GRAPH["data/mini.ttl"])
PREFIXES = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX wfr: <https://w3id.org/workflow-kg/resource/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
OLD_NOTE = "The docs list only DB X."


def new_note(note: str) -> str:
    """An update replacing the evidence note of the fixture's Contradicted statement."""
    return PREFIXES + f"""DELETE {{ GRAPH <{MINI}> {{ ?st wf:evidenceNote ?old }} }}
INSERT {{ GRAPH <{MINI}> {{ ?st wf:evidenceNote "{note}" }} }}
WHERE {{ GRAPH <{MINI}> {{ ?st rdf:subject wfr:engine-a ; rdf:object wfr:db-y ;
                            wf:evidenceNote ?old }} }}"""


# ------------------------------------------------------------------ the stores
def _oxigraph(folder) -> tuple[subprocess.Popen, str, dict, list[str]]:
    binary = os.path.join(os.path.dirname(sys.executable), "oxigraph")
    if not os.path.exists(binary):
        pytest.skip("the oxigraph server (PyPI package `oxigraph`) is not installed")
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(folder), "--bind",
                                f"127.0.0.1:{port}", "--union-default-graph"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/query?query=ASK%7B%7D", process)
    return process, base + "/query", {}, ["--store-kind", "oxigraph"]


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def store(request, tmp_path_factory):
    """(endpoint, environment with credentials, global CLI options) of a running store."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "oxigraph":
        process, endpoint, env, options = _oxigraph(folder)
        yield endpoint, env, options
        process.terminate()
        process.wait(timeout=10)
        return
    if virtuoso_missing():
        pytest.skip(virtuoso_missing())
    server = start_virtuoso(folder / "db")
    yield server.endpoint, VIRTUOSO_ENV, ["--store-kind", "virtuoso"]
    server.stop()


def _serve(project, store_dir, endpoint: str, env: dict, options: list[str]):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "--project", str(project), "--store", str(store_dir),
         "--endpoint", endpoint, *options, "serve", "--port", str(port)],
        env={**os.environ, **env, "KG_UPDATE_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/healthz", process, 60)
    return process, base


@pytest.fixture(scope="module")
def pair(store, tmp_path_factory):
    """The fixture project pushed to the store, and two services over it (each with a
    store folder of its own, as on two machines): (writer's URL, reader's URL)."""
    from tests.conftest import FIXTURES, make_project

    endpoint, env, options = store
    root = make_project(tmp_path_factory.mktemp("shared") / "project", FIXTURES / "mini.ttl")
    built = CliRunner().invoke(main, ["--project", str(root), "build", "-q"])
    assert built.exit_code == 0, built.output
    pushed = CliRunner(env=env).invoke(
        main, ["--project", str(root), "--endpoint", endpoint, *options, "push", "-q"])
    assert pushed.exit_code == 0, pushed.output
    servers = [_serve(root, tmp_path_factory.mktemp(name), endpoint, env, options)
               for name in ("service-a", "service-b")]
    yield servers[0][1], servers[1][1]
    for process, _ in servers:
        process.terminate()
        process.wait(timeout=20)


# ------------------------------------------------------------------ reading
def notes(base: str) -> list[str]:
    """The evidence notes the named query engine-backends gives for engine A."""
    rows = httpx.get(base + "/api/queries/engine-backends",
                     params={"engine": "wfr:engine-a"}, timeout=60).json()
    return sorted(r["note"] for r in rows["rows"] if r.get("note"))


def ask(base: str, query: str) -> bool:
    response = httpx.get(base + "/sparql", params={"query": PREFIXES + query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def count(base: str) -> int:
    response = httpx.get(base + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) "
                                                            "WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def search(base: str, text: str) -> list[str]:
    response = httpx.get(base + "/api/search", params={"q": text}, timeout=60)
    assert response.status_code == 200, response.text
    return [hit["curie"] for hit in response.json()["results"]]


def post(base: str, body: str, **headers) -> httpx.Response:
    return httpx.post(base + "/sparql", content=body, headers={**UPDATE, **headers},
                      timeout=120)


# ------------------------------------------------------------------ the tests
def test_a_write_through_one_service_is_read_through_the_other(pair):
    a, b = pair
    note = "The vendor docs name DB X as the only backend."
    assert notes(b) == [OLD_NOTE]
    response = post(a, new_note(note))
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1 and response.json()["removed"] == 1
    assert response.json()["version"]
    assert notes(b) == [note] and notes(a) == [note]
    assert ask(b, f'ASK {{ ?st wf:evidenceNote "{note}" }}')
    assert not ask(b, f'ASK {{ ?st wf:evidenceNote "{OLD_NOTE}" }}')
    # the write's PROV record is on the store, for every service to read
    assert ask(b, f"ASK {{ GRAPH <{HISTORY_GRAPH}> {{ ?a a <http://www.w3.org/ns/prov#Activity> ; "
                  f"wf:triplesAdded 1 }} }}")


def test_a_rejected_write_changes_neither_service(pair):
    """A SHACL violation (a Contradicted fact whose note says nothing) and a write to
    a system graph: refused with the embedded store's answers, and both services read
    what they read before."""
    a, b = pair
    before = (notes(a), notes(b), count(a), count(b))
    invalid = post(a, new_note("silent"))
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["report"]["violations"]
    system = post(a, f"INSERT DATA {{ GRAPH <{HISTORY_GRAPH}> {{ <urn:x:a> <urn:x:b> "
                     "<urn:x:c> } }")
    assert system.status_code == 403, system.text
    unauthorised = post(b, new_note("A note sent without the service's update token."),
                        Authorization="Bearer wrong")
    assert unauthorised.status_code == 401
    assert (notes(a), notes(b), count(a), count(b)) == before


def test_the_readers_cached_search_is_not_stale_after_the_other_wrote(pair):
    """Search reads a catalogue made once per store version: the reader made one
    before the write, and answers from a new one after it."""
    a, b = pair
    assert search(b, "Zephyrine") == []  # the reader's catalogue of this version
    response = post(a, PREFIXES + f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-b "
                                  "skos:altLabel 'Zephyrine'@en } }")
    assert response.status_code == 200, response.text
    assert search(b, "Zephyrine") == ["wfr:engine-b"]
    page = httpx.get(b + "/resource/engine-b", headers={"Accept": "text/turtle"}, timeout=60)
    assert page.status_code == 200 and "Zephyrine" in page.text


def test_a_graph_store_write_through_one_service_is_read_through_the_other(pair):
    a, b = pair
    target = "https://w3id.org/workflow-kg/graph/data/shared-extra"
    response = httpx.post(a + "/store", params={"graph": target}, headers={
        **AUTH, "Content-Type": "text/turtle"}, timeout=120, content=(
        '<https://w3id.org/workflow-kg/resource/engine-b> '
        '<http://www.w3.org/2004/02/skos/core#altLabel> "Quillfeather"@en .'))
    assert response.status_code == 200, response.text
    assert ask(b, f'ASK {{ GRAPH <{target}> {{ wfr:engine-b skos:altLabel "Quillfeather"@en }} }}')


def test_history_and_rollback_are_refused_over_a_remote_store(pair):
    a, _ = pair
    response = httpx.get(a + "/api/history", headers=AUTH, timeout=30)
    assert response.status_code == 403 and "history graph" in response.json()["message"]
