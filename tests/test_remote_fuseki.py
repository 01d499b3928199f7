"""Apache Jena Fuseki as the remote store: a server of the test's own (a TDB2 dataset
with the union default graph, on a loopback port) started once for the module from the
jar `make fuseki` fetches from Maven Central; skipped, saying why, where it is absent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from kg import KnowledgeGraph
from kg.lab.local import free_port
from tests.remote_checks import (
    ORDER_DEPENDENT,
    cli,
    compare_commands,
    compare_named_queries,
    compare_service,
    wait_for,
)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
PREFIX fuseki: <http://jena.apache.org/fuseki#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX tdb2: <http://jena.apache.org/2016/tdb#>
<#service> rdf:type fuseki:Service ; fuseki:name "kg" ;
    fuseki:endpoint [ fuseki:operation fuseki:query ; fuseki:name "query" ] ;
    fuseki:endpoint [ fuseki:operation fuseki:update ; fuseki:name "update" ] ;
    fuseki:endpoint [ fuseki:operation fuseki:gsp-rw ; fuseki:name "data" ] ;
    fuseki:dataset <#dataset> .
<#dataset> rdf:type tdb2:DatasetTDB2 ; tdb2:location "{location}" ;
    tdb2:unionDefaultGraph true .
"""


@pytest.fixture(scope="module")
def fuseki(tmp_path_factory):
    jars = sorted((ROOT / ".cache" / "fuseki").glob("jena-fuseki-server-*.jar"))
    if not jars or shutil.which("java") is None:
        pytest.skip("no Fuseki jar: `make fuseki` fetches it from Maven Central")
    folder = tmp_path_factory.mktemp("fuseki")
    (folder / "config.ttl").write_text(CONFIG.replace("{location}", str(folder / "tdb2")))
    port = free_port()
    process = subprocess.Popen(
        ["java", "-Xmx1g", "-jar", str(jars[-1]), "--localhost", "--port", str(port),
         "--config", str(folder / "config.ttl")],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/kg"
    wait_for(lambda: httpx.get(base + "/query", params={"query": "ASK {}"},
                               timeout=2).status_code == 200, process, 60, "Fuseki")
    yield base
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def remote(fuseki, curated) -> KnowledgeGraph:
    graph = KnowledgeGraph(curated.project.root, store=curated.project.store_dir,
                           endpoint=fuseki + "/query")
    out = cli(graph, "push")
    assert "pushed" in out, out
    return graph


def test_fuseki_answers_as_embedded(remote, curated, fuseki):
    assert remote.store.kind == "fuseki"
    assert remote.store.store_endpoint == fuseki + "/data"
    assert compare_named_queries(curated, remote) >= 12
    compare_service(curated, remote)
    assert set(compare_commands(curated, remote, {})) <= ORDER_DEPENDENT


def test_a_second_push_sends_nothing(remote, curated):
    plan = remote.store.push(curated.store.quads())
    assert not plan.changes and plan.requests == 0
