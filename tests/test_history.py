"""Store history: each accepted update is a new version with a PROV record in the graph
<.../graph/history>; `kg history` lists the versions, `kg rollback` (and the HTTP twins,
behind the token) make an older one live again; `kg build` does not silently discard
updates."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kg import KnowledgeGraph
from kg.namespaces import GRAPH, HISTORY_GRAPH
from kg.pipeline.store import StoreLayout
from kg.pipeline.update import apply_update
from kg.query.guard import Policy
from kg_api import create_app

MINI = str(GRAPH["data/mini.ttl"])
ALT = f"GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel 'history'@en }}"
HAS_ALT = f"ASK {{ {ALT} }}"


def test_each_update_is_a_new_version_with_a_prov_record(cli):
    assert cli("build", "-q").exit_code == 0
    graph = KnowledgeGraph(cli.project)
    result = apply_update(graph.project, f"INSERT DATA {{ {ALT} }}", agent="alice")
    record = graph.sparql(f"""
        SELECT ?who ?added ?removed ?text ?used ?generated WHERE {{ GRAPH <{HISTORY_GRAPH}> {{
          ?a a prov:Activity ; prov:wasAssociatedWith/rdfs:label ?who ;
             wf:triplesAdded ?added ; wf:triplesRemoved ?removed ; wf:updateText ?text ;
             prov:used ?used ; prov:generated ?generated ; prov:endedAtTime ?t }} }}""")
    rows = record.rows()
    assert len(rows) == 1
    row = {k: v.value for k, v in rows[0].items()}
    assert (row["who"], row["added"], row["removed"]) == ("alice", "1", "0")
    assert "history" in row["text"] and row["generated"].endswith(result.version)
    listed = json.loads(cli("history", "--format", "json").output)
    assert [v["kind"] for v in listed] == ["update", "build"]
    assert listed[0]["live"] and listed[0]["name"] == result.version
    assert listed[0]["previous"] == listed[1]["name"] and listed[0]["agent"] == "alice"


def test_rollback_restores_the_version_before_an_update(cli):
    assert cli("build", "-q").exit_code == 0
    graph = KnowledgeGraph(cli.project)
    apply_update(graph.project, f"INSERT DATA {{ {ALT} }}")
    assert graph.sparql(HAS_ALT).boolean is True
    result = cli("rollback")
    assert result.exit_code == 0, result.output
    graph.reopen()
    assert graph.sparql(HAS_ALT).boolean is False
    listed = json.loads(cli("history", "--format", "json").output)
    assert [v["live"] for v in listed] == [False, True]
    assert cli("rollback", listed[0]["name"].rsplit("-", 1)[0]).exit_code == 0
    graph.reopen()
    assert graph.sparql(HAS_ALT).boolean is True


def test_rollback_to_an_unknown_version_names_the_kept_ones(cli):
    assert cli("build", "-q").exit_code == 0
    result = cli("rollback", "19990101")
    assert result.exit_code == 2 and "is not a kept version (kept: " in result.output


def test_build_after_an_update_says_the_store_has_updates_instead_of_up_to_date(cli):
    assert cli("build", "-q").exit_code == 0
    graph = KnowledgeGraph(cli.project)
    apply_update(graph.project, f"INSERT DATA {{ {ALT} }}")
    result = cli("build", "-q")
    assert result.exit_code == 1
    assert "1 update(s)" in result.output and "kg export" in result.output
    assert "up to date" not in result.output
    graph.reopen()
    assert graph.sparql(HAS_ALT).boolean is True  # nothing discarded
    assert cli("build", "-q", "--force").exit_code == 0
    graph.reopen()
    assert graph.sparql(HAS_ALT).boolean is False
    assert "up to date" in cli("build", "-q").output


@pytest.fixture
def client(mini_project):
    graph = KnowledgeGraph(mini_project)
    graph.build()
    app = create_app(graph, policy=Policy(time_limit=5, update_token="t"), workers=1)
    with TestClient(app) as client:
        yield client


def test_http_history_and_rollback_need_the_token(client):
    assert client.get("/api/history").status_code == 401
    assert client.post("/api/rollback").status_code == 401
    auth = {"Authorization": "Bearer t"}
    done = client.post("/sparql", content=f"INSERT DATA {{ {ALT} }}",
                       headers={**auth, "Content-Type": "application/sparql-update"})
    assert done.status_code == 200
    versions = client.get("/api/history", headers=auth).json()
    assert versions[0]["name"] == done.json()["version"] and versions[0]["live"]
    back = client.post("/api/rollback", headers=auth)
    assert back.status_code == 200 and back.json()["version"]["name"] == versions[1]["name"]
    ask = client.get("/sparql", params={"query": HAS_ALT},
                     headers={"Accept": "application/sparql-results+json"})
    assert ask.json()["boolean"] is False
    missing = client.post("/api/rollback", params={"version": "nope"}, headers=auth)
    assert missing.status_code == 404


def test_versions_made_either_side_of_a_second_sort_in_the_order_they_were_made(
        tmp_path, monkeypatch):
    """A version's name is the instant it was begun, its second and nanoseconds read
    together: read apart, a version begun just after a second ticked over could take the
    old second with the new nanoseconds and sort before an older one."""
    import time

    from kg.pipeline.store import StoreLayout

    instants = iter([1_700_000_000_999_999_999, 1_700_000_001_000_000_001])
    monkeypatch.setattr(time, "time_ns", lambda: next(instants))
    layout = StoreLayout(tmp_path)
    first, second = layout.new_partial(), layout.new_partial()
    assert first.name < second.name


def test_each_version_keeps_every_earlier_write_as_another_process_reads_it(cli):
    """A version is published without a flush (its last write is in RocksDB's log, put
    on disk by fsync): the next version is made from it with that log, so a chain of
    writes loses none of them. Read by a fresh process, from the store on disk."""
    import subprocess
    import sys

    from kg.pipeline import update

    assert cli("build", "-q").exit_code == 0
    graph = KnowledgeGraph(cli.project)
    labels = [f"chain {n}" for n in range(4)]
    for n, label in enumerate(labels):
        apply_update(graph.project, f"INSERT DATA {{ GRAPH <{MINI}> {{ "
                                    f"wfr:engine-a skos:altLabel '{label}'@en }} }}")
        if n == 1:
            update.prepare(graph.project)  # as the service's writer does between writes
    update.forget_prepared(StoreLayout(graph.project.store_dir))
    read = subprocess.run(
        [sys.executable, "-m", "kg.cli", "--project", str(cli.project), "query", "--format",
         "json", "-e", f"SELECT ?l WHERE {{ GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel ?l }} }}"],
        capture_output=True, text=True, check=True)
    found = {row["l"]["value"] for row in json.loads(read.stdout)["results"]["bindings"]}
    assert set(labels) <= found, read.stdout
