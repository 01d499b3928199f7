"""Time-limited query execution. pyoxigraph has no timeout, so each query runs in one of a
pool of worker processes, each holding the live store open (copied into memory when it
fits); a worker still busy at the time limit is killed (SIGKILL) and replaced, which
really stops the work. Workers reopen the store when a build or an update swaps a new
one in.

Admission is separate from execution: a query first waits in a bounded queue (its own
time budget), then runs under the time limit. The queue is fair between clients: one
client holds at most `per_client` workers and half the queue, so one client's runaway
queries cannot starve the rest; a full queue answers `Overloaded` (HTTP 429) at once.
Answers are cached per store version, so a repeated query never reaches a worker.

`QueryRunner` is what the HTTP service calls: guard (kg.query.guard), then run the query in a
worker (embedded store) or on the remote server (kg.pipeline.remote), within the limits."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import errors
from .errors import (
    Overloaded,
    QueryTimeout,
    QueueTimeout,
    Refused,
    ResultTooLarge,
    WorkerFailed,
)
from .namespaces import PREFIXES
from .pipeline.store import StoreLayout, open_store
from .query.guard import Checked, Policy, check_query
from .query.queries import with_values
from .query.results import QueryResult
from .query.syntax import explain

if TYPE_CHECKING:
    from .graph import KnowledgeGraph

# a store this small is copied into each worker's memory (KG_MEMORY_QUADS overrides)
DEFAULT_MEMORY_QUADS = int(os.environ.get("KG_MEMORY_QUADS", "1000000"))
DEFAULT_CACHE_BYTES = 64_000_000  # answers kept per store version
LOAD_LIMIT = 300.0  # seconds a worker may take to start or to open a new store


def default_workers() -> int:
    """Workers for this machine: four per CPU the process may use, at least 4, at most
    32. More workers than CPUs is what keeps the service available: while runaway
    queries burn the CPUs until their time limit, a cheap query still finds a worker
    and the operating system shares the CPUs between them."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(4, min(32, 4 * cpus))


DEFAULT_WORKERS = default_workers()


@dataclass(frozen=True)
class Job:
    """One query for a worker: picklable, no RDF terms (bindings are already in the text)."""

    sparql: str
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_rows: int = 10_000
    max_bytes: int = 50_000_000


class _Counted:
    """A write-only buffer for a line-based serialisation (TSV, N-Triples) that counts
    lines as the serialiser writes them and stops it as soon as the answer has more
    than `max_lines` lines or `max_bytes` bytes: a huge answer is refused while it is
    produced, before it fills the memory."""

    def __init__(self, max_lines: int, max_bytes: int):
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.parts: list[bytes] = []
        self.size = 0
        self.lines = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.lines += data.count(b"\n")
        if self.lines > self.max_lines:
            raise ResultTooLarge(f"the answer has more than {self.max_lines} rows")
        if self.size > self.max_bytes:
            raise ResultTooLarge(f"the answer is larger than {self.max_bytes} bytes")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def execute(store: ox.Store, job: Job) -> QueryResult:
    """Run one job on an open store, all graphs as the default graph unless the job names
    a dataset, and check the answer against the size limits while it is produced.
    Solutions are counted as TSV lines (one per solution, header first), then given
    as SPARQL JSON."""
    kwargs: dict = {"prefixes": PREFIXES}
    if job.default_graph is None:
        kwargs["use_default_graph_as_union"] = True
    else:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graph]
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    too_many = (f"the answer has more than {job.max_rows} rows; the limit is "
                f"{job.max_rows}: add a LIMIT")
    try:
        result = store.query(job.sparql, **kwargs)
        if isinstance(result, ox.QueryBoolean):
            return QueryResult.from_pyoxigraph(result)
        if isinstance(result, ox.QueryTriples):
            out = _Counted(job.max_rows, job.max_bytes)
            ox.serialize(result, out, format=ox.RdfFormat.N_TRIPLES)
            return QueryResult("graph", out.getvalue())
        out = _Counted(job.max_rows + 1, job.max_bytes)  # + 1: the header line
        result.serialize(out, format=ox.QueryResultsFormat.TSV)
        solutions = ox.parse_query_results(out.getvalue(), format=ox.QueryResultsFormat.TSV)
        return QueryResult("select", solutions.serialize(format=ox.QueryResultsFormat.JSON)
                           or b"")
    except ResultTooLarge as err:
        raise ResultTooLarge(too_many if "rows" in str(err) else str(err)) from None
    except SyntaxError as err:
        raise errors.SparqlSyntaxError(explain(job.sparql, str(err))) from err
    except OSError as err:  # evaluation errors, including a failing allowed SERVICE
        if isinstance(err.__cause__ or err.__context__, ResultTooLarge):
            raise ResultTooLarge(too_many) from None
        raise errors.QueryError(f"the query failed: {err}") from err


def _serve(store_dir: str, memory_quads: int) -> None:  # pragma: no cover - in a worker
    """A worker's loop: jobs come on stdin, answers go out on the original stdout (fd 1
    then points at stderr so that nothing else can write into the answers). "ready"
    follows the start, and "loading" ... "ready" surrounds the opening of a new store,
    so that neither counts against a query's time limit."""
    jobs = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    layout = StoreLayout(Path(store_dir))
    path: Path | None = layout.live()
    store: ox.Store | None = open_store(layout, path, memory_quads) if path else None
    answers.send(("ready",))
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
                answers.send(("loading",))
                store, path = None, None  # let the old copy go before loading the new
                store, path = open_store(layout, live, memory_quads), live
                answers.send(("ready",))
            result = execute(store, job)
            answers.send(("ok", result.kind, result.payload))
        except errors.KgError as err:
            answers.send(("error", type(err).__name__, str(err)))
        except Exception as err:  # a bug: report it as one (500), keep the trace in the log
            import traceback

            traceback.print_exc()
            answers.send(("error", "WorkerFailed", f"internal error in the worker: {err!r}"))


# A worker imports only the modules it needs, not the package (its __init__ loads the
# build, SHACL and graph-analysis stacks): it starts in about half the time.
_BOOT = """import sys, types
package = types.ModuleType("kg")
package.__path__ = [sys.argv[1]]
sys.modules["kg"] = package
from kg.workers import _serve
_serve(sys.argv[2], int(sys.argv[3]))
"""


class _Worker:
    """One worker process (running `_serve`), talking over its pipes."""

    def __init__(self, store_dir: Path, memory_quads: int):
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(Path(__file__).parent), str(store_dir),
             str(memory_quads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.send = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.recv = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Wait for the worker's "ready" (it has started and opened the store)."""
        if not self.ready:
            if not self.recv.poll(LOAD_LIMIT) or self.recv.recv() != ("ready",):
                raise WorkerFailed("a query worker did not start")
            self.ready = True

    def answer(self, timeout: float) -> tuple | None:
        """The next answer, within `timeout` seconds of execution (the opening of a new
        store does not count), or None at the limit."""
        while True:
            if not self.recv.poll(timeout):
                return None
            message = self.recv.recv()
            if message != ("loading",):
                return message
            self.ready = False
            self.wait_ready()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _close_pipes(self) -> None:
        for connection in (self.send, self.recv):
            with contextlib.suppress(OSError):
                connection.close()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
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


@dataclass(eq=False)
class _Ticket:
    client: str


class WorkerPool:
    """Worker processes over one store directory, handed out by a fair, bounded queue.

    - `size` workers (default: from the machine, see default_workers);
    - one client holds at most `per_client` of them at once (default: a quarter, so
      that several clients looping runaway queries still leave workers free);
    - at most `max_queue` queries wait (default: 8 per worker), at most half of them
      from one client; beyond that `run` raises Overloaded at once;
    - the oldest waiting query whose client is under its share goes next."""

    def __init__(self, store_dir: Path, *, size: int | None = None,
                 per_client: int | None = None, max_queue: int | None = None,
                 memory_quads: int = DEFAULT_MEMORY_QUADS):
        self.store_dir = store_dir
        self.size = size or default_workers()
        self.per_client = per_client or max(1, self.size // 4)
        self.max_queue = 8 * self.size if max_queue is None else max_queue
        self.memory_quads = memory_quads
        self.executed = 0  # jobs handed to a worker
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._waiting: list[_Ticket] = []
        self._running: dict[str, int] = {}
        self._all: set[_Worker] = set()
        self._seconds = 0.1  # moving average of a query's execution time
        self._closed = False
        workers = [self._spawn() for _ in range(self.size)]
        for worker in workers:  # all start at once; the service is up when they are
            worker.wait_ready()
        self._idle.extend(workers)

    # ------------------------------------------------------------- workers
    def _spawn(self) -> _Worker:
        worker = _Worker(self.store_dir, self.memory_quads)
        with self._cond:
            self._all.add(worker)
        return worker

    def _renew(self, worker: _Worker) -> _Worker:
        """Kill `worker` (if still running) and start a fresh one in its place."""
        with self._cond:
            self._all.discard(worker)
        worker.kill()
        return self._spawn()

    # ------------------------------------------------------------- admission
    def _retry_after(self) -> int:
        backlog = len(self._waiting) + 1
        return max(1, min(60, math.ceil(self._seconds * backlog / self.size)))

    def _next(self) -> _Ticket | None:
        return next((t for t in self._waiting
                     if self._running.get(t.client, 0) < self.per_client), None)

    def _acquire(self, client: str, wait: float) -> _Worker:
        deadline = time.monotonic() + wait
        with self._cond:
            if (self._idle and self._next() is None
                    and self._running.get(client, 0) < self.per_client):
                self._running[client] = self._running.get(client, 0) + 1
                return self._idle.pop()  # nobody waits ahead: no queue at all
            if len(self._waiting) >= self.max_queue:
                raise Overloaded(f"the service is busy: {len(self._waiting)} queries are "
                                 "waiting; try again later", retry_after=self._retry_after())
            mine = sum(1 for t in self._waiting if t.client == client)
            if mine >= max(1, self.max_queue // 2):
                raise Overloaded(f"{mine} of your queries are already waiting; try again "
                                 "when they are answered", retry_after=self._retry_after())
            ticket = _Ticket(client)
            self._waiting.append(ticket)
            try:
                while not (self._idle and self._next() is ticket):
                    if self._closed:
                        raise WorkerFailed("the service is stopping")
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise QueueTimeout(f"no query worker became free within {wait:g} s; "
                                           "the query did not run",
                                           retry_after=self._retry_after())
                    self._cond.wait(remaining)
                self._running[client] = self._running.get(client, 0) + 1
                return self._idle.pop()
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def _release(self, worker: _Worker, client: str, seconds: float | None) -> None:
        with self._cond:
            left = self._running.get(client, 1) - 1
            if left:
                self._running[client] = left
            else:
                self._running.pop(client, None)
            if seconds is not None:
                self._seconds = 0.8 * self._seconds + 0.2 * seconds
            if self._closed:
                self._all.discard(worker)
            else:
                self._idle.append(worker)
            self._cond.notify_all()
        if self._closed:
            worker.stop()

    # ------------------------------------------------------------- running
    def run(self, job: Job, *, timeout: float, client: str = "",
            queue_wait: float | None = None) -> QueryResult:
        """Run `job` in a free worker, `timeout` seconds from the moment a worker takes
        it (killed past that). Waiting for a worker is limited separately by
        `queue_wait` (default: `timeout`) and raises QueueTimeout."""
        worker = self._acquire(client, timeout if queue_wait is None else queue_wait)
        seconds: float | None = None
        try:
            if not worker.alive:  # died while idle: never hand it a request
                worker = self._renew(worker)
            try:
                worker.wait_ready()
                worker.send.send(job)
            except OSError:  # died between the check and the send
                worker = self._renew(worker)
                worker.wait_ready()
                worker.send.send(job)
            self.executed += 1
            started = time.monotonic()
            message = worker.answer(timeout)
            if message is None:
                worker = self._renew(worker)
                raise QueryTimeout(f"the query ran over the time limit of {timeout:g} s "
                                   "and was stopped")
            seconds = time.monotonic() - started
        except (EOFError, OSError) as err:
            worker = self._renew(worker)
            raise WorkerFailed("the query worker stopped unexpectedly") from err
        finally:
            self._release(worker, client, seconds)
        if message[0] == "ok":
            return QueryResult(message[1], message[2])
        error_class = getattr(errors, message[1], errors.QueryError)
        raise error_class(message[2])

    def close(self) -> None:
        """Stop the idle workers, kill the busy ones (their queries fail)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = self._all.difference(idle)
            self._all.clear()
            self._cond.notify_all()
        for worker in idle:
            worker.stop()
        for worker in busy:
            with contextlib.suppress(OSError):
                worker.process.kill()


class AnswerCache:
    """Answers by query text and dataset, for one store version (the live store's path:
    a build or an update always publishes a new one). Least recently used answers go
    first once the payloads pass `max_bytes`."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = max_bytes
        self.version: str | None = None
        self._answers: OrderedDict[tuple, QueryResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, version: str, key: tuple) -> QueryResult | None:
        with self._lock:
            if version != self.version:
                return None
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, version: str, key: tuple, answer: QueryResult) -> None:
        size = len(answer.payload)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if version != self.version:
                self._answers.clear()
                self._bytes = 0
                self.version = version
            old = self._answers.pop(key, None)
            self._bytes += size - (len(old.payload) if old else 0)
            self._answers[key] = answer
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.payload)

    def __len__(self) -> int:
        return len(self._answers)


@functools.lru_cache(maxsize=4096)
def _checked(text: str, policy: Policy) -> Checked:
    return check_query(text, policy)


class QueryRunner:
    """Guarded, time- and size-limited queries over a KnowledgeGraph's store: worker
    processes and an answer cache for the embedded store, the remote server's own
    client otherwise."""

    def __init__(self, graph: KnowledgeGraph, policy: Policy | None = None, *,
                 workers: int | None = None, per_client: int | None = None,
                 max_queue: int | None = None, queue_wait: float | None = None,
                 cache_bytes: int = DEFAULT_CACHE_BYTES,
                 memory_quads: int = DEFAULT_MEMORY_QUADS):
        self.graph = graph
        self.policy = policy or Policy()
        # seconds a query may wait for a worker, apart from its time limit (default: three
        # time limits; a full queue answers at once, so this only bounds a slow drain)
        self.queue_wait = 3 * self.policy.time_limit if queue_wait is None else queue_wait
        self.pool: WorkerPool | None = None
        self.cache: AnswerCache | None = None
        if graph.remote is None:
            self.layout = StoreLayout(graph.project.store_dir)
            self.pool = WorkerPool(graph.project.store_dir, size=workers,
                                   per_client=per_client, max_queue=max_queue,
                                   memory_quads=memory_quads)
            if cache_bytes > 0:
                self.cache = AnswerCache(cache_bytes)

    def _version(self) -> str | None:
        """The live store's name: one system call, where resolving the path takes
        several (this runs on every request)."""
        try:
            return os.readlink(self.layout.current)
        except OSError:
            return None

    @staticmethod
    def _key(text: str, default_graph: list[str] | None,
             named_graphs: list[str] | None) -> tuple:
        return (text, None if default_graph is None else tuple(default_graph),
                None if named_graphs is None else tuple(named_graphs))

    def cached(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
               default_graph: list[str] | None = None,
               named_graphs: list[str] | None = None) -> QueryResult | None:
        """The cached answer for the live store, or None: cheap enough to call on an
        event loop before handing the query to a thread."""
        if self.cache is None:
            return None
        live = self._version()
        if live is None:
            return None
        text = with_values(sparql, dict(bindings or {}))
        return self.cache.get(live, self._key(text, default_graph, named_graphs))

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
              default_graph: list[str] | None = None,
              named_graphs: list[str] | None = None, client: str = "") -> QueryResult:
        """Check the query against the policy, then answer it from the cache or run it
        within the limits. `default_graph` / `named_graphs` are the protocol's dataset
        (None: the query's FROM clauses if any, else all graphs as the default graph).
        `client` (e.g. the remote address) is whose share of the workers it uses."""
        text = with_values(sparql, dict(bindings or {}))
        key = self._key(text, default_graph, named_graphs)
        live = self._version() if self.cache is not None else None
        if live is not None and self.cache is not None:
            answer = self.cache.get(live, key)
            if answer is not None:
                return answer
        checked = _checked(text, self.policy)
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
        answer = self.pool.run(job, timeout=self.policy.time_limit, client=client,
                               queue_wait=self.queue_wait)
        if live is not None and self.cache is not None and not checked.services:
            self.cache.put(live, key, answer)  # a SERVICE answer may change: not cached
        return answer

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

