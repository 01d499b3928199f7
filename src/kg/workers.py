"""Time-limited query execution. pyoxigraph has no timeout, so each query runs in one of a
small pool of worker processes, each holding the live store open read-only; a worker
still busy at the time limit is killed (SIGKILL) and replaced, which really stops the
work. Workers reopen the store when a build or an update swaps a new one in.

`QueryRunner` is what the HTTP service calls: guard (kg.guard), then run the query in a
worker (embedded store) or on the remote server (kg.remote), within the limits."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import errors
from .errors import QueryTimeout, Refused, ResultTooLarge, WorkerFailed
from .guard import Policy, check_query
from .namespaces import PREFIXES
from .queries import with_values
from .results import QueryResult
from .syntax import explain

if TYPE_CHECKING:
    from .graph import KnowledgeGraph

DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class Job:
    """One query for a worker: picklable, no RDF terms (bindings are already in the text)."""

    sparql: str
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_rows: int = 10_000
    max_bytes: int = 50_000_000


class _Bounded:
    """A write-only buffer that refuses to grow past `limit` bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise ResultTooLarge(f"the answer is larger than {self.limit} bytes")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def execute(store: ox.Store, job: Job) -> QueryResult:
    """Run one job on an open store, all graphs as the default graph unless the job names
    a dataset, and check the answer against the size limits."""
    kwargs: dict = {"prefixes": PREFIXES}
    if job.default_graph is None:
        kwargs["use_default_graph_as_union"] = True
    else:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graph]
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    try:
        result = store.query(job.sparql, **kwargs)
        if isinstance(result, ox.QueryBoolean):
            return QueryResult.from_pyoxigraph(result)
        out = _Bounded(job.max_bytes)  # raises ResultTooLarge through the serialiser
        if isinstance(result, ox.QueryTriples):
            ox.serialize(result, out, format=ox.RdfFormat.N_TRIPLES)
            kind, rows = "graph", out.getvalue().count(b"\n")
        else:
            result.serialize(out, format=ox.QueryResultsFormat.JSON)
            kind = "select"
            rows = len(json.loads(out.getvalue() or b"{}").get("results", {})
                       .get("bindings", []))
    except SyntaxError as err:
        raise errors.SparqlSyntaxError(explain(job.sparql, str(err))) from err
    except OSError as err:  # evaluation errors, including a failing allowed SERVICE
        raise errors.QueryError(f"the query failed: {err}") from err
    if rows > job.max_rows:
        raise ResultTooLarge(f"the answer has {rows} rows; the limit is {job.max_rows}: "
                             "add a LIMIT")
    return QueryResult(kind, out.getvalue())


def _serve(store_dir: str) -> None:  # pragma: no cover - runs in a worker process
    """A worker's loop: jobs come on stdin, answers go out on the original stdout (fd 1
    then points at stderr so that nothing else can write into the answers)."""
    from .store import StoreLayout

    jobs = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    layout = StoreLayout(Path(store_dir))
    path: Path | None = None
    store: ox.Store | None = None
    while True:
        try:
            job = jobs.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            live = layout.live()
            if live is None:
                raise errors.StoreNotBuilt(f"no store in {store_dir}: run `kg build` first")
            if store is None or live != path:
                store, path = ox.Store.read_only(str(live)), live
            result = execute(store, job)
            answers.send(("ok", result.kind, result.payload))
        except errors.KgError as err:
            answers.send(("error", type(err).__name__, str(err)))
        except Exception as err:  # a bug: report it as one (500), keep the trace in the log
            import traceback

            traceback.print_exc()
            answers.send(("error", "WorkerFailed", f"internal error in the worker: {err!r}"))


class _Worker:
    """One worker process (`python -m kg.workers STORE_DIR`), talking over its pipes."""

    def __init__(self, store_dir: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kg.workers", str(store_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.send = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.recv = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()

    def _close_pipes(self) -> None:
        for connection in (self.send, self.recv):
            with contextlib.suppress(OSError):
                connection.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=5)
        self._close_pipes()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.send.send(None)
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._close_pipes()


class WorkerPool:
    """A fixed number of query worker processes over one store directory."""

    def __init__(self, store_dir: Path, *, size: int = DEFAULT_WORKERS):
        self.store_dir = store_dir
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        worker = _Worker(self.store_dir)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()
        if not self._closed:
            self._idle.put(self._spawn())

    def run(self, job: Job, *, timeout: float) -> QueryResult:
        """Run `job` in a free worker; kill it if it has not answered within `timeout`
        seconds (waiting for a free worker counts)."""
        deadline = time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise QueryTimeout(f"no query worker became free within {timeout:g} s") from None
        try:
            worker.send.send(job)
            if not worker.recv.poll(max(0.0, deadline - time.monotonic())):
                self._replace(worker)
                raise QueryTimeout(f"the query ran over the time limit of {timeout:g} s "
                                   "and was stopped")
            message = worker.recv.recv()
        except (EOFError, OSError) as err:
            self._replace(worker)
            raise WorkerFailed("the query worker stopped unexpectedly") from err
        self._idle.put(worker)
        if message[0] == "ok":
            return QueryResult(message[1], message[2])
        error_class = getattr(errors, message[1], errors.QueryError)
        raise error_class(message[2])

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()


class QueryRunner:
    """Guarded, time- and size-limited queries over a KnowledgeGraph's store: worker
    processes for the embedded store, the remote server's own client otherwise."""

    def __init__(self, graph: KnowledgeGraph, policy: Policy | None = None, *,
                 workers: int = DEFAULT_WORKERS):
        self.graph = graph
        self.policy = policy or Policy()
        self.pool: WorkerPool | None = None
        if graph.remote is None:
            self.pool = WorkerPool(graph.project.store_dir, size=workers)

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
              default_graph: list[str] | None = None,
              named_graphs: list[str] | None = None) -> QueryResult:
        """Check the query against the policy, then run it within the limits.
        `default_graph` / `named_graphs` are the protocol's dataset (None: the query's
        FROM clauses if any, else all graphs as the default graph)."""
        text = with_values(sparql, dict(bindings or {}))
        checked = check_query(text, self.policy)
        for iri in [*(default_graph or []), *(named_graphs or [])]:
            if iri.lower().startswith("file:"):
                raise Refused(f"<{iri}>: local-file graphs are never read")
        if default_graph is None and named_graphs is None and checked.has_dataset:
            default_graph = list(checked.from_graphs)
            named_graphs = list(checked.from_named)
        if self.pool is None:
            return self._remote(text, default_graph, named_graphs)
        job = Job(text, tuple(default_graph) if default_graph is not None else None,
                  tuple(named_graphs) if named_graphs is not None else None,
                  self.policy.max_rows, self.policy.max_result_bytes)
        return self.pool.run(job, timeout=self.policy.time_limit)

    def _remote(self, text: str, default_graph, named_graphs) -> QueryResult:
        remote = self.graph.remote
        assert remote is not None
        result = remote.query(text, default_graph=default_graph, named_graphs=named_graphs,
                              timeout=self.policy.time_limit)
        if len(result.payload) > self.policy.max_result_bytes:
            raise ResultTooLarge(f"the answer is larger than {self.policy.max_result_bytes} "
                                 "bytes; add a LIMIT")
        rows = len(result.rows()) if result.kind == "select" else len(result.triples())
        if rows > self.policy.max_rows:
            raise ResultTooLarge(f"the answer has {rows} rows; the limit is "
                                 f"{self.policy.max_rows}: add a LIMIT")
        return result

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


if __name__ == "__main__":  # pragma: no cover - the worker process
    _serve(sys.argv[1])
