"""Availability under load: the worker pool's fair, bounded queue (429 with Retry-After
when full, a per-client share), queue time apart from execution time, dead idle workers
replaced, answers counted while they are produced, and answers cached per store version.
No test asserts a duration: each checks who was answered, and with what."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg import KnowledgeGraph
from kg.errors import Overloaded, QueryTimeout, ResultTooLarge, WorkerFailed
from kg.pipeline.update import apply_update
from kg.query.guard import Policy
from kg.workers import Job, QueryRunner, WorkerPool, default_workers, execute
from kg_api import create_app

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CHEAP = "ASK { wfr:engine-a a wf:WorkflowEngine }"


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


@pytest.fixture
def executor():
    with ThreadPoolExecutor(max_workers=8) as pool:
        yield pool


def submit(executor, pool: WorkerPool, sparql: str, client: str, *, timeout: float,
           queue_wait: float | None = None) -> Future:
    return executor.submit(pool.run, Job(sparql), timeout=timeout, client=client,
                           queue_wait=queue_wait, costly=sparql == RUNAWAY)


def test_pool_size_comes_from_the_machine(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    assert default_workers() == 32
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert default_workers() == 8
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert default_workers() == 4


def test_a_full_queue_answers_overloaded_at_once_with_retry_after(mini_graph, executor):
    pool = WorkerPool(mini_graph.project.store_dir, size=1, max_queue=1)
    try:
        runaway = submit(executor, pool, RUNAWAY, "a", timeout=2)
        wait_for(lambda: pool.executed == 1, "the runaway query started")
        queued = submit(executor, pool, CHEAP, "b", timeout=2, queue_wait=60)
        wait_for(lambda: len(pool._waiting) == 1, "the second query waits")
        with pytest.raises(Overloaded) as refused:
            pool.run(Job(CHEAP), timeout=2, client="c")
        assert refused.value.retry_after >= 1
        assert not queued.done()
        # queue time is not execution time: the waiting query waited about as long as
        # the time limit, then ran with the whole limit of its own
        with pytest.raises(QueryTimeout):
            runaway.result()
        assert queued.result().boolean is True
    finally:
        pool.close()


def test_one_clients_runaway_queries_do_not_starve_another(mini_graph, executor):
    pool = WorkerPool(mini_graph.project.store_dir, size=4)
    assert pool.per_client == 1
    try:
        runaways = [submit(executor, pool, RUNAWAY, "greedy", timeout=20) for _ in range(5)]
        wait_for(lambda: pool.executed == 1 and len(pool._waiting) == 4,
                 "one runaway runs, four wait")
        answer = pool.run(Job(CHEAP), timeout=20, client="polite")
        assert answer.boolean is True
        assert not any(f.done() for f in runaways), "the cheap query had to wait for them"
        assert pool._running == {"greedy": 1}
    finally:
        pool.close()
        for future in runaways:
            with pytest.raises(Exception):  # noqa: B017 - stopped by close: any failure
                future.result()


def test_an_idle_worker_that_died_is_replaced_before_it_gets_a_request(mini_graph):
    pool = WorkerPool(mini_graph.project.store_dir, size=1)
    try:
        (worker,) = pool._idle
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        assert pool.run(Job(CHEAP), timeout=20).boolean is True
        assert pool._idle[0] is not worker and pool._idle[0].alive
    finally:
        pool.close()


def test_a_worker_that_dies_while_it_runs_a_query_is_reported_as_such(mini_graph):
    """The pool's blocking path raised UnboundLocalError (a 500 "internal error")
    instead of WorkerFailed when the worker died before it answered."""
    pool = WorkerPool(mini_graph.project.store_dir, size=1)
    try:
        (worker,) = pool._idle
        threading.Timer(0.5, os.kill, (worker.process.pid, signal.SIGKILL)).start()
        with pytest.raises(WorkerFailed, match="stopped unexpectedly"):
            pool.run(Job(RUNAWAY), timeout=60)
        assert pool.run(Job(CHEAP), timeout=20).boolean is True
    finally:
        pool.close()


def test_a_large_answer_is_read_whole_on_an_event_loop_that_makes_pipes_non_blocking(
        mini_graph):
    """uvloop (what `kg serve` runs on) leaves a pipe it watched non-blocking: an answer
    larger than the pipe's buffer was read before the worker had written it all
    (BlockingIOError), taken for a dead worker, and answered 500 WorkerFailed."""
    uvloop = pytest.importorskip("uvloop")
    pool = WorkerPool(mini_graph.project.store_dir, size=1)
    big = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 5000"

    async def ask() -> list:
        answers = []
        for _ in range(3):
            taken = pool.try_take()
            assert taken is not None
            answers.append(await pool.run_async(taken, Job(big), timeout=60))
        return answers

    try:
        answers = uvloop.run(ask())
        assert all(len(answer.payload) > 1 << 20 for answer in answers)
    finally:
        pool.close()


def test_a_huge_answer_is_refused_while_it_is_produced():
    store = ox.Store()
    store.bulk_extend(ox.Quad(ox.NamedNode(f"http://example.org/{i}"),
                              ox.NamedNode("http://example.org/p"), ox.Literal(str(i)))
                      for i in range(2000))
    # 8e9 solutions: only counting them as they are produced can refuse this in time
    job = Job("SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", max_rows=100,
              max_bytes=10**12)
    with pytest.raises(ResultTooLarge, match="more than 100 rows"):
        execute(store, job)
    graph_job = Job("CONSTRUCT { ?a ?d ?g } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                    max_rows=100, max_bytes=10**12)
    with pytest.raises(ResultTooLarge, match="more than 100 rows"):
        execute(store, graph_job)
    assert len(execute(store, Job("SELECT * { ?s ?p ?o }", max_rows=2000)).rows()) == 2000


@pytest.mark.slow
def test_a_repeated_query_is_answered_from_the_cache_until_the_store_changes(mini_project):
    graph = KnowledgeGraph(mini_project)
    graph.build()
    runner = QueryRunner(graph, Policy(time_limit=20), workers=1)
    ask = "ASK { wfr:engine-a skos:altLabel 'cached'@en }"
    try:
        assert runner.query(ask).boolean is False
        assert runner.query(ask).boolean is False
        assert runner.cached(ask) is not None
        assert runner.pool is not None and runner.pool.executed == 1
        apply_update(graph.project, "INSERT DATA { wfr:engine-a skos:altLabel 'cached'@en }")
        assert runner.cached(ask) is None
        assert runner.query(ask).boolean is True
        assert runner.pool.executed == 2
    finally:
        runner.close()


def test_a_full_queue_is_429_with_retry_after_over_http(mini_graph):
    app = create_app(mini_graph, policy=Policy(time_limit=2), workers=1, max_queue=0)
    with TestClient(app) as client:
        pool = app.state.runner.pool
        slow = threading.Thread(target=client.post, args=("/sparql",),
                                kwargs={"data": {"query": RUNAWAY}})
        slow.start()
        wait_for(lambda: pool.executed == 1, "the runaway query started")
        response = client.get("/sparql", params={"query": CHEAP + " # not cached"})
        slow.join()
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert "busy" in response.json()["message"]
        assert client.get("/sparql", params={"query": CHEAP}).status_code == 200


@pytest.mark.parametrize("runaway_clients", [["proxy"] * 4, [f"c{i}" for i in range(6)]],
                         ids=["one-address", "six-addresses"])
def test_cheap_queries_keep_a_share_of_the_workers_while_runaways_run(
        mini_graph, executor, runaway_clients):
    """Behind a reverse proxy every client has the proxy's address: the runaways and the
    cheap query share one client key. The guard's estimate puts the runaways in the
    costly share, which leaves a reserved worker to cheap queries."""
    runner = QueryRunner(mini_graph, Policy(time_limit=30), workers=4)
    assert runner.pool is not None and runner.pool.reserved == 1
    try:
        runaways = [executor.submit(runner.query, RUNAWAY + f" # {i}", client=client)
                    for i, client in enumerate(runaway_clients)]
        running = min(len(set(runaway_clients)), 3)  # one per client, three in all
        wait_for(lambda: runner.pool.executed == running
                 and len(runner.pool._waiting) == len(runaways) - running,
                 "the runaways hold the costly share")
        assert runner.query(CHEAP + " # uncached", client="proxy").boolean is True
        assert not any(f.done() for f in runaways), "the cheap query had to wait for them"
    finally:
        runner.close()
        for future in runaways:
            with pytest.raises(Exception):  # noqa: B017 - stopped by close: any failure
                future.result()


def test_a_shape_stopped_at_the_time_limit_is_costly_the_next_time(mini_graph):
    # one whole-store scan only: the guard's estimate takes it as cheap
    runaway = ("SELECT (COUNT(*) AS ?n) {{ ?a rdfs:label ?b . ?c rdfs:label ?d . "
               "?e rdfs:label ?f . ?{v} ?h ?i }} # {n}")
    runner = QueryRunner(mini_graph, Policy(time_limit=1), workers=1)
    try:
        with pytest.raises(QueryTimeout):
            runner.query(runaway.format(v="g", n=1))
        assert runner.stats["costly"] == 0 and runner.stats["stopped"] == 1
        # another comment and another variable name: the same shape
        with pytest.raises(QueryTimeout):
            runner.query(runaway.format(v="x", n=2))
        assert runner.stats["costly"] == 1
    finally:
        runner.close()


def test_a_query_past_the_memory_cap_is_503_and_the_service_goes_on(mini_graph):
    sort_all = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
    app = create_app(mini_graph, policy=Policy(time_limit=60), workers=1,
                     memory_limit=256 << 20)
    with TestClient(app) as client:
        response = client.post("/sparql", data={"query": sort_all})
        assert response.status_code == 503
        assert response.json()["error"] == "MemoryLimit"
        assert "256 MiB" in response.json()["message"]
        assert client.get("/sparql", params={"query": CHEAP}).status_code == 200
        assert app.state.runner.stats["stopped"] == 1


def test_each_answer_says_whether_the_cache_gave_it_and_metrics_count_them(mini_graph):
    app = create_app(mini_graph, workers=1)
    ask = CHEAP + " # cache header"
    with TestClient(app) as client:
        first = client.get("/sparql", params={"query": ask})
        second = client.get("/sparql", params={"query": ask})
        named = client.get("/api/queries/engine-backends")
        assert [first.headers["x-kg-cache"], second.headers["x-kg-cache"]] == ["miss", "hit"]
        assert named.headers["x-kg-cache"] in ("hit", "miss")
        metrics = client.get("/api/metrics").json()
        assert metrics["cache_hits"] >= 1 and metrics["cache_misses"] >= 2
        assert metrics["executed"] == metrics["cache_misses"]
        assert client.get("/api/stats").json()["service"]["cache_hits"] >= 1


def test_a_store_not_built_yet_is_503_without_the_store_path(mini_project):
    app = create_app(KnowledgeGraph(mini_project), workers=1)
    with TestClient(app) as client:
        response = client.get("/sparql", params={"query": "ASK {}"})
    assert response.status_code == 503
    assert "kg build" in response.json()["message"]
    assert str(mini_project) not in response.text and "/tmp" not in response.text


def test_literals_that_look_like_a_solution_boundary_are_counted_exactly():
    store = ox.Store()
    store.bulk_extend(ox.Quad(ox.NamedNode(f"http://example.org/{i}"),
                              ox.NamedNode("http://example.org/p"),
                              ox.Literal("a},{}b" if i % 2 else "x},{"))
                      for i in range(300))
    answer = execute(store, Job("SELECT * { ?s ?p ?o }", max_rows=300))
    assert len(answer.rows()) == 300
    assert {row["o"].value for row in answer.rows()} == {"a},{}b", "x},{"}
    with pytest.raises(ResultTooLarge, match="more than 299 rows"):
        execute(store, Job("SELECT * { ?s ?p ?o }", max_rows=299))


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_workers_are_forked_from_one_zygote_and_read_the_store_read_only(mini_graph):
    pool = WorkerPool(mini_graph.project.store_dir, size=2)
    try:
        zygote = pool._zygote.process.pid
        assert _parent(zygote) == os.getpid()
        assert {_parent(w.process.pid) for w in pool._idle} == {zygote}
        # RocksDB lets only one process open a store for writing: a worker that held
        # the live store open for writing would make this fail
        ox.Store(str(mini_graph.store.path)).flush()
        assert pool.run(Job(CHEAP), timeout=20).boolean is True
    finally:
        pool.close()


def test_a_runaway_query_is_killed_and_the_abort_of_a_worker_is_reported(mini_graph):
    pool = WorkerPool(mini_graph.project.store_dir, size=1)
    try:
        (worker,) = pool._idle
        with pytest.raises(QueryTimeout):
            pool.run(Job(RUNAWAY), timeout=1)
        wait_for(lambda: not os.path.exists(f"/proc/{worker.process.pid}"),
                 "the runaway's worker killed and reaped")
        (fresh,) = pool._idle
        os.kill(fresh.process.pid, signal.SIGABRT)
        with pytest.raises(EOFError):
            fresh.answer(10)
        assert fresh.process.returncode == -signal.SIGABRT
    finally:
        pool.close()


def test_workers_come_back_when_the_zygote_was_killed(mini_graph):
    pool = WorkerPool(mini_graph.project.store_dir, size=1)
    try:
        (worker,) = pool._idle
        os.kill(pool._zygote.process.pid, signal.SIGKILL)
        pool._zygote.process.wait(timeout=10)
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        assert pool.run(Job(CHEAP), timeout=20).boolean is True
        assert pool._idle[0] is not worker and pool._idle[0].alive
    finally:
        pool.close()


def test_a_store_copied_into_memory_a_batch_at_a_time_has_every_quad(mini_graph, monkeypatch):
    """open_store copies a small store into memory in batches (so that the copy does not
    hold the interpreter lock throughout): every quad arrives, the last part batch too."""
    import pyoxigraph as ox

    from kg.pipeline import store as store_module

    layout = store_module.StoreLayout(mini_graph.project.store_dir)
    live = layout.live()
    disk = ox.Store.read_only(str(live))
    everything = set(disk.quads_for_pattern(None, None, None, None))
    batch = len(everything) // 3 + 1  # three batches, the last a part one
    assert len(everything) % batch
    monkeypatch.setattr(store_module, "COPY_BATCH", batch)
    memory = store_module.open_store(layout, live, memory_quads=10**9, disk=disk)
    assert set(memory.quads_for_pattern(None, None, None, None)) == everything
