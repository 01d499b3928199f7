"""Writes that cannot take the service down or bend the evidence: updates run in a
writer process of their own, under a time limit, with operator chains bounded; only data
graphs are writable; derived graphs follow from statements; a mass delete is confirmed by
the share of a graph it removes; history is kept by age and size, the version before a
large removal pinned; each update's text is stored once."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from kg import KnowledgeGraph
from kg.namespaces import GRAPH, HISTORY_GRAPH
from kg.pipeline import store as store_module
from kg.pipeline.store import StoreLayout
from tests.conftest import triple_count, writable_service

TOKEN = "isolation-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}
MINI = str(GRAPH["data/mini.ttl"])
EXTRA = "https://w3id.org/workflow-kg/graph/extra-isolation"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
SLOW = ("INSERT { GRAPH <" + EXTRA + "> { <urn:x:n> <urn:x:p> ?n } } WHERE { "
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <" + str(GRAPH["data/mini.ttl"]) + "> { "
        "?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w } } }")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with writable_service(tmp_path_factory.mktemp("isolation"), time_limit=3,
                          update_token=TOKEN) as served:
        yield served


def count(client) -> int:
    return triple_count(client)


def live(graph: KnowledgeGraph):
    return StoreLayout(graph.project.store_dir).live()


def alive(client) -> bool:
    return client.get("/healthz").status_code == 200 and count(client) > 0


# ------------------------------------------------------------------ crashes and time
@pytest.mark.parametrize("update", [
    "INSERT { <urn:a> <urn:b> <urn:c> } WHERE { FILTER (" + "||".join(["1"] * 15000) + ") }",
    "INSERT { <urn:a> <urn:b> <urn:c> } WHERE { " + " UNION ".join(["{}"] * 9000) + " }",
    "INSERT { <urn:a> <urn:b> <urn:c> } WHERE { BIND (" + "+".join(["1"] * 12000) + " AS ?x) }",
    "INSERT { <urn:a> <urn:b> <urn:c> } WHERE { FILTER (" + "||(".join(
        ["||".join(["1"] * 300)] * 30) + ")" * 29 + ") }",
], ids=["or-chain-30kB", "union-chain-90kB", "plus-chain", "chains-inside-brackets"])
def test_operator_chains_that_crash_a_parser_are_refused_and_the_server_lives(served, update):
    client, graph = served
    store, before = live(graph), count(client)
    response = client.post("/sparql", content=update, headers=UPDATE)
    assert response.status_code == 403, response.text
    assert "chains more than" in response.json()["message"]
    assert alive(client) and count(client) == before and live(graph) == store


def test_a_crash_of_the_writer_is_a_500_with_a_message_and_the_next_write_works(served):
    """The writer dies of SIGSEGV in the middle of a write (as a parser's stack
    overflow ends it): the request gets a message, the store is unchanged, the
    service answers, and the next write goes through a new writer."""
    client, graph = served
    client.post("/sparql", content="DROP SILENT GRAPH <urn:x:warm-up>", headers=UPDATE)
    writer = client.app.state.writer
    store, before, pid = live(graph), count(client), writer.pid
    assert pid is not None

    def crash() -> None:
        time.sleep(1.0)
        os.kill(pid, signal.SIGSEGV)

    threading.Thread(target=crash).start()
    response = client.post("/sparql", content=SLOW, headers=UPDATE)
    assert response.status_code == 500, response.text
    message = response.json()["message"]
    assert "crashed" in message and "SIGSEGV" in message and "unchanged" in message
    assert "Traceback" not in response.text and str(graph.project.root) not in response.text
    assert alive(client) and count(client) == before and live(graph) == store
    done = client.post("/sparql", headers=UPDATE, content=(
        f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel 'after crash'@en }} }}"))
    assert done.status_code == 200, done.text
    assert writer.pid != pid


def test_a_slow_write_is_stopped_at_the_time_limit_and_changes_nothing(served):
    client, graph = served
    store, before = live(graph), count(client)
    started = time.monotonic()
    response = client.post("/sparql", content=SLOW, headers=UPDATE)
    assert response.status_code == 503, response.text
    assert "longer than 3 s" in response.json()["message"]
    assert time.monotonic() - started < 30
    assert alive(client) and count(client) == before and live(graph) == store
    again = client.post("/sparql", headers=UPDATE, content=(
        f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-b skos:altLabel 'after timeout'@en }} }}"))
    assert again.status_code == 200, again.text


# ------------------------------------------------------------------ the system's graphs
SYSTEM = ["ontology/shapes.ttl", "meta", "inferred", "inferred/unverified",
          "derived/verified", "derived/unverified"]


@pytest.mark.parametrize("name", SYSTEM + ["history"])
def test_a_write_into_a_system_graph_is_403_and_changes_nothing(served, name):
    client, graph = served
    iri = f"{GRAPH}{name}" if name != "history" else str(HISTORY_GRAPH)
    store, before = live(graph), count(client)
    fact = "wfr:engine-a wf:supportsBackend wfr:db-y"
    response = client.post("/sparql", headers=UPDATE, content=(
        f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel 'real change'@en }} "
        f"GRAPH <{iri}> {{ {fact} }} }}"))
    assert response.status_code == 403, response.text
    assert iri in response.json()["message"]
    put = client.put("/store", params={"graph": iri}, content=b"<urn:a> <urn:b> <urn:c> .",
                     headers={**AUTH, "Content-Type": "text/turtle"})
    assert put.status_code == 403 and iri in put.json()["message"]
    assert client.delete("/store", params={"graph": iri, "confirm": "drop"},
                         headers=AUTH).status_code == 403
    assert count(client) == before and live(graph) == store


def test_history_records_cannot_be_erased_along_with_a_real_change(served):
    client, graph = served
    client.post("/sparql", headers=UPDATE, content=(
        f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel 'recorded'@en }} }}"))
    store = live(graph)
    response = client.post("/sparql", headers=UPDATE, content=(
        f"INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-b skos:altLabel 'x'@en }} }} ; "
        f"DELETE WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?s ?p ?o }} }}"))
    assert response.status_code == 403 and str(HISTORY_GRAPH) in response.json()["message"]
    assert live(graph) == store


def test_derived_graphs_follow_the_statements_an_update_writes(mini_project):
    """A statement added Verified derives its plain triple into derived/verified; graded
    Contradicted, the plain triple is gone from every derived graph."""
    from kg.pipeline.update import apply_update

    graph = KnowledgeGraph(mini_project)
    graph.build()
    statement = "wfr:statement-test-b-x"
    facts = (f"{statement} a wf:Statement ; rdf:subject wfr:engine-b ; "
             "rdf:predicate wf:supportsBackend ; rdf:object wfr:db-x ; "
             "cito:citesAsEvidence src:fixture-doc ; wf:evidenceStatus wf:Verified .")
    apply_update(graph.project, f"INSERT DATA {{ GRAPH <{MINI}> {{ {facts} }} }}")
    derived = ("ASK {{ GRAPH <{g}> {{ wfr:engine-b wf:supportsBackend wfr:db-x }} }}")
    graph.reopen()
    assert graph.sparql(derived.format(g=GRAPH["derived/verified"])).boolean is True
    apply_update(graph.project, f"""
        DELETE DATA {{ GRAPH <{MINI}> {{ {statement} wf:evidenceStatus wf:Verified }} }} ;
        INSERT DATA {{ GRAPH <{MINI}> {{ {statement} wf:evidenceStatus wf:Contradicted ;
            wf:contradictedBy src:fixture-doc ;
            wf:evidenceNote "The fixture document states that engine B cannot use db-x."@en
        }} }}""")
    graph.reopen()
    for name in ("derived/verified", "derived/unverified"):
        assert graph.sparql(derived.format(g=GRAPH[name])).boolean is False


# ------------------------------------------------------------------ removals and history
def test_removing_most_of_a_graph_needs_confirmation_and_pins_the_version_before(served):
    client, graph = served
    triples = " ".join(f"<urn:x:s{i}> <urn:x:p> {i} ." for i in range(40))
    put = client.put("/store", params={"graph": EXTRA}, content=triples.encode(),
                     headers={**AUTH, "Content-Type": "text/turtle"})
    assert put.status_code == 200, put.text
    most = (f"DELETE {{ GRAPH <{EXTRA}> {{ ?s <urn:x:p> ?o }} }} "
            f"WHERE {{ GRAPH <{EXTRA}> {{ ?s <urn:x:p> ?o FILTER (?o > 0) }} }}")
    refused = client.post("/sparql", content=most, headers=UPDATE)
    assert refused.status_code == 409, refused.text
    assert "39 of 40 triples" in refused.json()["message"]
    before = live(graph)
    done = client.post("/sparql", content=most, headers=UPDATE, params={"confirm": "drop"})
    assert done.status_code == 200 and done.json()["removed"] == 39
    assert before.name in " ".join(done.json()["notes"])
    assert StoreLayout(graph.project.store_dir).pinned(before)
    history = client.get("/api/history", headers=AUTH).json()
    assert [v["pinned"] for v in history if v["name"] == before.name] == [True]


def test_clean_keeps_versions_by_number_age_and_pin(tmp_path, monkeypatch):
    layout = StoreLayout(tmp_path)
    layout.stores.mkdir(parents=True)
    made = []
    for i in range(8):
        path = layout.stores / f"2026010{i}T000000-0"
        path.mkdir()
        (path / "data").write_bytes(b"x" * 1000)
        os.utime(path, (1000.0 * i, 1000.0 * i))
        made.append(path)
    layout.activate(made[-1])
    layout.pin(made[0])
    monkeypatch.setattr(store_module, "KEEP_PREVIOUS", 2)
    monkeypatch.setattr(store_module, "KEEP_SECONDS", 2500)
    monkeypatch.setattr(store_module, "KEEP_BYTES", 1500)
    dropped = layout.clean(now=7000.0)
    kept = layout.versions()
    # live (7), pinned (0), the 2 newest (5, 6), by age those younger than 2500 s (5, 6
    # already; 4 is 3000 s old): everything else goes
    assert kept == [made[0], made[5], made[6], made[7]]
    assert sorted(dropped) == made[1:5]


def test_each_update_text_is_stored_once_and_the_record_holds_its_start(mini_project):
    from kg.pipeline.update import TEXT_IN_RECORD, apply_update

    graph = KnowledgeGraph(mini_project)
    graph.build()
    comment = "# " + "c" * 300_000 + "\n"
    texts = [f"{comment}INSERT DATA {{ GRAPH <{MINI}> {{ wfr:engine-a skos:altLabel 'T{i}'@en }} }}"
             for i in range(3)]
    for text in texts:
        apply_update(graph.project, text)
    stored = sorted((graph.project.store_dir / "texts").glob("*.rq"))
    assert sorted(p.read_text() for p in stored) == sorted(texts)
    graph.reopen()
    rows = graph.sparql(f"SELECT ?t WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?a wf:updateText ?t }} }}"
                        ).rows()
    assert len(rows) == 3
    assert all(len(r["t"].value) < TEXT_IN_RECORD + 200 for r in rows)
    assert all("texts/" in r["t"].value for r in rows)


def test_a_prepared_version_is_used_only_while_its_store_is_live(mini_project):
    """The next version opened between writes (kg.pipeline.update.prepare) carries the
    write when the live store is the one it was made from; after a rollback it is
    thrown away and the write applies to the store made live."""
    from kg.pipeline import update
    from kg.pipeline.history import rollback

    graph = KnowledgeGraph(mini_project)
    graph.build()
    layout = StoreLayout(graph.project.store_dir)
    label = "INSERT DATA {{ GRAPH <{g}> {{ wfr:engine-a skos:altLabel '{t}'@en }} }}"
    ask = "ASK {{ wfr:engine-a skos:altLabel '{t}'@en }}"
    update.prepare(graph.project)
    prepared = update._PREPARED[0].partial
    first = update.apply_update(graph.project, label.format(g=MINI, t="one"))
    assert first.store_path.name == prepared.name.removeprefix("partial-")
    update.prepare(graph.project)
    stale = update._PREPARED[0].partial
    rollback(graph.project)  # the version before "one" is live again
    second = update.apply_update(graph.project, label.format(g=MINI, t="two"))
    assert not stale.exists() and not list(layout.stores.glob("partial-*"))
    assert second.store_path.name != stale.name.removeprefix("partial-")
    graph.reopen()
    assert graph.sparql(ask.format(t="two")).boolean is True
    assert graph.sparql(ask.format(t="one")).boolean is False


@pytest.mark.parametrize("said, expected", [
    ([], "Split it into smaller updates"),
    ([("copying",)], "still copying the remote store's dataset"),
])
def test_a_write_over_the_time_limit_says_whether_it_was_copying_the_remote(
        mini_graph, said, expected):
    """The writer's supervisor, given what the writer process said before it fell
    silent: a write over a remote store that was still copying the remote dataset is
    told apart from an update that is too large (the advice differs)."""
    from multiprocessing import Pipe

    from kg.errors import QueryTimeout
    from kg.pipeline.writer import Writer

    receive, send = Pipe(duplex=False)
    writer = Writer(mini_graph.project)
    writer._recv = receive
    for message in said:
        send.send(message)
    with pytest.raises(QueryTimeout, match=expected):
        writer._answer(0.2)
    send.close()
