"""Time-limited query execution. pyoxigraph has no timeout, so each query runs in one of a
pool of worker processes, each holding the live store open (the one on-disk store, read
only); a worker still busy at the time limit, or past its memory cap, is killed (SIGKILL)
and replaced, which really stops the work. Workers reopen the store when a build or an
update swaps a new one in.

Admission is separate from execution: a query first waits in a bounded queue (its own
time budget), then runs under the time limit. The queue is fair between clients and
aware of cost: costly queries (the guard's estimate, or a shape that ran long before)
get at most three quarters of the workers and one client's share of them, cheap ones go
first, so neither one client's runaway queries nor runaways from behind one proxy starve
the rest; a full queue answers `Overloaded` (HTTP 429) at once. Answers are cached per
store version, so a repeated query never reaches a worker.

`QueryRunner` is what the HTTP service calls: guard (kg.query.guard), then run the query in
a worker (embedded store) or on the remote server (kg.pipeline.remote), within the
limits; `answer_async` awaits the worker on an event loop, with no thread."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import errors
from .errors import (
    MemoryLimit,
    Overloaded,
    QueryTimeout,
    QueueTimeout,
    Refused,
    ResultTooLarge,
    WorkerFailed,
)
from .namespaces import PREFIXES
from .pipeline.store import StoreLayout, open_store
from .query.guard import Checked, Policy, check_query, plain
from .query.queries import with_values
from .query.results import QueryResult
from .query.syntax import explain

if TYPE_CHECKING:
    from asyncio import Future

    from .graph import KnowledgeGraph

# a store this small is copied into each worker's memory (KG_MEMORY_QUADS overrides);
# by default none is: every worker reads the one on-disk store, opened read-only, and
# the operating system's page cache holds its data once for all of them
DEFAULT_MEMORY_QUADS = int(os.environ.get("KG_MEMORY_QUADS", "0"))
DEFAULT_CACHE_BYTES = 64_000_000  # answers kept per store version
LOAD_LIMIT = 300.0  # seconds a worker may take to start or to open a new store
ADDRESS_HEADROOM = 1 << 30  # address space a worker has beyond twice its memory limit


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
    base_iri: str | None = None


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


class _Solutions(_Counted):
    """A buffer for SPARQL JSON solutions that counts them while the serialiser writes:
    `},{` (two solutions' boundary) starts no JSON string, so outside a literal that
    happens to hold it, each one is a new solution."""

    def __init__(self, max_rows: int, max_bytes: int):
        super().__init__(max_rows, max_bytes)
        self.tail = b""

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.size += len(data)
        joined = self.tail + data
        self.lines += joined.count(b"},{") - self.tail.count(b"},{")
        self.tail = joined[-2:]
        if self.lines >= self.max_lines:  # boundaries: one fewer than the solutions
            raise ResultTooLarge(f"the answer has more than {self.max_lines} rows")
        if self.size > self.max_bytes:
            raise ResultTooLarge(f"the answer is larger than {self.max_bytes} bytes")
        self.parts.append(data)
        return len(data)


def execute(store: ox.Store, job: Job) -> QueryResult:
    """Run one job on an open store, all graphs as the default graph unless the job names
    a dataset, and check the answer against the size limits while it is produced.
    Solutions are written as SPARQL JSON straight away and counted by the boundaries
    between them as they are written; when that count passes the limit (it can only be
    too high, never too low), they are counted exactly, as TSV lines."""
    kwargs: dict = {"prefixes": PREFIXES, "base_iri": job.base_iri}
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
        try:
            out = _Solutions(job.max_rows, job.max_bytes)
            result.serialize(out, format=ox.QueryResultsFormat.JSON)
            return QueryResult("select", out.getvalue())
        except (ResultTooLarge, OSError) as err:
            cause = err if isinstance(err, ResultTooLarge) else err.__cause__ or err.__context__
            if not (isinstance(cause, ResultTooLarge) and "rows" in str(cause)):
                raise
        # the JSON count may be high (a literal that looks like a boundary): count exactly
        out = _Counted(job.max_rows + 1, job.max_bytes)  # + 1: the header line
        store.query(job.sparql, **kwargs).serialize(out, format=ox.QueryResultsFormat.TSV)
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


def _serve(store_dir: str, memory_quads: int,
           memory_limit: int = 0) -> None:  # pragma: no cover - in a worker
    """A worker's loop: jobs come on stdin, answers go out on the original stdout (fd 1
    then points at stderr so that nothing else can write into the answers). "ready"
    follows the start, and "loading" ... "ready" surrounds the opening of a new store,
    so that neither counts against a query's time limit. With a `memory_limit` the
    worker's address space is capped too (a backstop behind the pool's watch on its
    resident memory): an allocation past it fails instead of taking the machine."""
    if memory_limit:
        import resource

        cap = 2 * memory_limit + ADDRESS_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    jobs = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    layout = StoreLayout(Path(store_dir))
    path: Path | None = layout.live()
    store: ox.Store | None = open_store(layout, path, memory_quads) if path else None
    version = _link(layout)
    answers.send(("ready",))
    while True:
        try:
            job = jobs.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            if store is None or _link(layout) != version:  # one system call per query
                live = layout.live()
                if live is None:
                    raise errors.StoreNotBuilt("no store has been built yet: run `kg build` "
                                               "first")
                answers.send(("loading",))
                store, path = None, None  # let the old copy go before loading the new
                version = _link(layout)
                store, path = open_store(layout, live, memory_quads), live
                answers.send(("ready",))
            result = execute(store, job)
            answers.send(("ok", result.kind, result.payload))
        except errors.KgError as err:
            answers.send(("error", type(err).__name__, str(err)))
        except MemoryError:
            answers.send(("error", "MemoryLimit", "the query ran out of the memory a query "
                          "may use and was stopped; narrow it or add a LIMIT"))
        except Exception as err:  # a bug: report it as one (500), keep the trace in the log
            import traceback

            traceback.print_exc()
            answers.send(("error", "WorkerFailed", f"internal error in the worker: {err!r}"))


def _zygote(store_dir: str, memory_quads: int,
            memory_limit: int) -> None:  # pragma: no cover - in the zygote
    """The process the workers are forked from. It has imported what a worker needs
    once, so that each worker shares those pages with it (copy on write) instead of
    holding a copy of its own. A request on fd 0 (a Unix socket) brings two file
    descriptors, a worker's job pipe and answer pipe: it forks a worker on them and
    answers its pid. When a worker exits, it sends ("exited", code) on that worker's
    answer pipe, so that the pool learns how it ended (a failed allocation aborts).
    The socket's end (the pool is gone) ends it."""
    import gc
    import socket

    requests = socket.socket(fileno=os.dup(0))
    answer_pipes: dict[int, int] = {}  # worker pid -> this process's copy of its answer pipe

    def reap(*_: object) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            fd = answer_pipes.pop(pid, None)
            if fd is not None:
                os.set_blocking(fd, False)  # never wait for a reader that has gone
                pipe = Connection(fd, readable=False)
                with contextlib.suppress(OSError):
                    pipe.send(("exited", os.waitstatus_to_exitcode(status)))
                pipe.close()

    gc.collect()
    gc.freeze()  # a worker's collector then leaves the shared objects' pages alone
    signal.signal(signal.SIGCHLD, reap)
    while True:
        message, fds, _, _ = socket.recv_fds(requests, 16, 2)
        if not message or len(fds) != 2:
            return
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                os.dup2(fds[0], 0)
                os.dup2(fds[1], 1)
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # no other worker's pipes
                _serve(store_dir, memory_quads, memory_limit)
                status = 0
            finally:
                os._exit(status)
        answer_pipes[pid] = fds[1]
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        os.close(fds[0])
        requests.sendall(b"%d\n" % pid)


WATCH = 0.05  # seconds between two looks at a busy worker's memory
_OVER_MEMORY = ("memory",)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _link(layout: StoreLayout) -> str | None:
    """Where the live-store link points (a new build or update changes it), or None."""
    try:
        return os.readlink(layout.current)
    except OSError:
        return None


# The zygote imports only the modules a worker needs, not the package (its __init__ loads
# the build, SHACL and graph-analysis stacks), then forks the workers: they share those
# pages with it instead of importing their own. Of
# kg.namespaces it needs only the prefixes, given as JSON: the real module builds
# rdflib's namespaces, which cost each worker about 20 MB; its functions load it on use.
_BOOT = """import importlib, json, sys, types
package = types.ModuleType("kg")
package.__path__ = [sys.argv[1]]
sys.modules["kg"] = package
names = types.ModuleType("kg.namespaces")
names.PREFIXES = json.loads(sys.argv[5])
def _lazy(name):
    def call(*args, **kwargs):
        sys.modules.pop("kg.namespaces", None)
        return getattr(importlib.import_module("kg.namespaces"), name)(*args, **kwargs)
    return call
names.__getattr__ = _lazy
sys.modules["kg.namespaces"] = names
from kg.workers import _zygote
_zygote(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
"""


class _Zygote:
    """The zygote process (running `_zygote`) and the socket that asks it for workers."""

    def __init__(self, store_dir: Path, memory_quads: int, memory_limit: int | None = None):
        import socket

        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(Path(__file__).parent), str(store_dir),
             str(memory_quads), str(memory_limit or 0), json.dumps(PREFIXES)],
            stdin=theirs, close_fds=True)
        theirs.close()
        self.socket = ours
        self._lock = threading.Lock()

    def fork(self) -> tuple[_Process, Connection, Connection]:
        """A new worker, with its job and answer pipes (OSError: the zygote has gone)."""
        import socket

        jobs_read, jobs_write = os.pipe()
        answers_read, answers_write = os.pipe()
        try:
            with self._lock:
                socket.send_fds(self.socket, [b"w"], [jobs_read, answers_write])
                reply = b""
                while not reply.endswith(b"\n"):
                    part = self.socket.recv(32)
                    if not part:
                        raise OSError("the worker zygote has gone")
                    reply += part
        except OSError:
            os.close(jobs_write)
            os.close(answers_read)
            raise
        finally:
            os.close(jobs_read)
            os.close(answers_write)
        return (_Process(int(reply)), Connection(jobs_write, readable=False),
                Connection(answers_read, writable=False))

    def close(self) -> None:
        self.socket.close()  # the zygote ends; the workers still running go on
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class _Process:
    """A worker process, forked by the zygote (so not this process's child): watched
    and signalled through a pidfd, which never names another process once it ends.
    `returncode` is what the zygote reported on the answer pipe (None: not known)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.fd: int | None = os.pidfd_open(pid)  # None once closed: then taken as ended
        self.returncode: int | None = None

    def running(self) -> bool:
        import select

        return self.fd is not None and not select.select([self.fd], [], [], 0)[0]

    def wait(self, timeout: float) -> int | None:
        import select

        if self.fd is not None and not select.select([self.fd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
        return self.returncode

    def kill(self) -> None:
        if self.fd is not None:
            signal.pidfd_send_signal(self.fd, signal.SIGKILL)

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


class _Worker:
    """One worker process (running `_serve`), talking over its pipes."""

    def __init__(self, zygote: _Zygote):
        self.process, self.send, self.recv = zygote.fork()
        self.ready = False

    def wait_ready(self) -> None:
        """Wait for the worker's "ready" (it has started and opened the store)."""
        if not self.ready:
            if not self.recv.poll(LOAD_LIMIT) or self._message() != ("ready",):
                raise WorkerFailed("a query worker did not start")
            self.ready = True

    def answer(self, timeout: float, memory_limit: int | None = None) -> tuple | None:
        """The next answer, within `timeout` seconds of execution (the opening of a new
        store does not count), or None at the limit; _OVER_MEMORY as soon as the
        worker's resident memory passes `memory_limit` bytes (checked every WATCH s)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self.recv.poll(min(remaining, WATCH) if memory_limit else remaining):
                if memory_limit and self.resident() > memory_limit:
                    return _OVER_MEMORY
                continue
            message = self._message()
            if message != ("loading",):
                return message
            self.ready = False
            self.wait_ready()
            deadline = time.monotonic() + timeout

    async def answer_async(self, timeout: float,
                           memory_limit: int | None = None) -> tuple | None:
        """As `answer`, waiting on the event loop for the worker's pipe to be readable
        (no thread)."""
        import asyncio  # here: a worker process never needs it (about 5 MB)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        fd = self.recv.fileno()
        while True:
            if not self.recv.poll():
                readable = loop.create_future()
                loop.add_reader(fd, _wake, readable)
                try:
                    while not readable.done():
                        remaining = deadline - loop.time()
                        if remaining <= 0:
                            return None
                        await asyncio.wait([readable], timeout=min(remaining, WATCH)
                                           if memory_limit else remaining)
                        if (not readable.done() and memory_limit
                                and self.resident() > memory_limit):
                            return _OVER_MEMORY
                finally:
                    loop.remove_reader(fd)
                    # uvloop leaves a watched fd non-blocking: an answer larger than the
                    # pipe's buffer must still be read whole
                    os.set_blocking(fd, True)
            message = self._message()
            if message != ("loading",):
                return message
            self.ready = False
            await loop.run_in_executor(None, self.wait_ready)
            deadline = loop.time() + timeout

    def _message(self) -> tuple:
        """The next message; EOFError once the worker has exited (its exit code kept)."""
        message = self.recv.recv()
        if message[0] == "exited":
            self.process.returncode = message[1]
            raise EOFError("the query worker exited")
        return message

    def resident(self) -> int:
        """The worker's resident memory in bytes (0 once it has gone)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            return 0

    @property
    def alive(self) -> bool:
        return self.process.running()

    def _close_pipes(self) -> None:
        for connection in (self.send, self.recv):
            with contextlib.suppress(OSError):
                connection.close()
        self.process.close()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._close_pipes()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.send.send(None)
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self._close_pipes()


@dataclass(eq=False)
class _Ticket:
    client: str
    costly: bool = False


class WorkerPool:
    """Worker processes over one store directory, handed out by a fair, bounded queue.

    - `size` workers (default: from the machine, see default_workers);
    - queries are cheap or costly (the guard's estimate, corrected by what earlier runs
      of the same shape cost, see QueryRunner): costly ones hold at most
      `size - reserved` workers together, so `reserved` workers (default: a quarter)
      are always left to cheap ones, and a cheap query waiting goes before any costly
      one: runaways cannot starve cheap queries even when every client comes from one
      address (a reverse proxy);
    - one client holds at most `per_client` workers with costly queries (default: a
      quarter, so that several clients looping runaway queries still leave workers
      free), and at most `per_client + reserved` in all;
    - at most `max_queue` queries wait (default: 8 per worker), at most half of them
      costly, at most half of them (or of the costly half) from one client; beyond that
      `run` raises Overloaded at once;
    - each worker may use `memory_limit` bytes (resident; None: no cap): past that it is
      killed and the query fails with MemoryLimit."""

    def __init__(self, store_dir: Path, *, size: int | None = None,
                 per_client: int | None = None, max_queue: int | None = None,
                 reserved: int | None = None, memory_quads: int = DEFAULT_MEMORY_QUADS,
                 memory_limit: int | None = None):
        self.store_dir = store_dir
        self.size = size or default_workers()
        self.per_client = per_client or max(1, self.size // 4)
        self.reserved = min(self.size - 1, self.size // 4 if reserved is None else reserved)
        self.max_queue = 8 * self.size if max_queue is None else max_queue
        self.memory_quads = memory_quads
        self.memory_limit = memory_limit
        self.executed = 0  # jobs handed to a worker
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._waiting: list[_Ticket] = []
        self._running: dict[str, int] = {}
        self._costly: dict[str, int] = {}  # costly queries running, per client
        self._all: set[_Worker] = set()
        self._seconds = 0.1  # moving average of a query's execution time
        self._closed = False
        self._zygote = _Zygote(store_dir, memory_quads, memory_limit)
        workers = [self._spawn() for _ in range(self.size)]
        for worker in workers:  # all start at once; the service is up when they are
            worker.wait_ready()
        self._idle.extend(workers)

    # ------------------------------------------------------------- workers
    def _spawn(self) -> _Worker:
        try:
            worker = _Worker(self._zygote)
        except OSError:  # the zygote has gone (killed): start another
            with self._cond:
                old, self._zygote = self._zygote, _Zygote(
                    self.store_dir, self.memory_quads, self.memory_limit)
            with contextlib.suppress(OSError):
                old.close()
            worker = _Worker(self._zygote)
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

    def _may_start(self, ticket: _Ticket) -> bool:
        if self._running.get(ticket.client, 0) >= self.per_client + self.reserved:
            return False
        return not ticket.costly or (self._costly.get(ticket.client, 0) < self.per_client
                                     and sum(self._costly.values()) < self.size - self.reserved)

    def _next(self) -> _Ticket | None:
        """The ticket that gets the next free worker: the oldest cheap one whose client
        is under its share, else the oldest such costly one."""
        return (next((t for t in self._waiting if not t.costly and self._may_start(t)), None)
                or next((t for t in self._waiting if t.costly and self._may_start(t)), None))

    def _first(self, ticket: _Ticket) -> bool:
        """Whether a new ticket would go before every waiting one."""
        ahead = self._next()
        return ahead is None or (ahead.costly and not ticket.costly)

    def _admit(self, ticket: _Ticket) -> None:
        """Refuse a ticket the queue has no room for (Overloaded, at once)."""
        if len(self._waiting) >= self.max_queue:
            raise Overloaded(f"the service is busy: {len(self._waiting)} queries are "
                             "waiting; try again later", retry_after=self._retry_after())
        room = self.max_queue // 2 if ticket.costly else self.max_queue
        same = [t for t in self._waiting if t.costly == ticket.costly]
        if ticket.costly and len(same) >= max(1, room):
            raise Overloaded(f"the service is busy with costly queries: {len(same)} are "
                             "waiting; try again later", retry_after=self._retry_after())
        mine = sum(1 for t in same if t.client == ticket.client)
        if mine >= max(1, room // 2):
            raise Overloaded(f"{mine} of your queries are already waiting; try again "
                             "when they are answered", retry_after=self._retry_after())

    def _take(self, ticket: _Ticket) -> _Worker:
        self._running[ticket.client] = self._running.get(ticket.client, 0) + 1
        if ticket.costly:
            self._costly[ticket.client] = self._costly.get(ticket.client, 0) + 1
        return self._idle.pop()

    def _acquire(self, ticket: _Ticket, wait: float) -> _Worker:
        deadline = time.monotonic() + wait
        with self._cond:
            if self._idle and self._may_start(ticket) and self._first(ticket):
                return self._take(ticket)  # nobody waits ahead: no queue at all
            self._admit(ticket)
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
                return self._take(ticket)
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def _release(self, worker: _Worker, ticket: _Ticket, seconds: float | None) -> None:
        with self._cond:
            for counts in (self._running, self._costly) if ticket.costly else (self._running,):
                left = counts.get(ticket.client, 1) - 1
                if left:
                    counts[ticket.client] = left
                else:
                    counts.pop(ticket.client, None)
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
            queue_wait: float | None = None, costly: bool = False,
            observe: Callable[[float], None] | None = None) -> QueryResult:
        """Run `job` in a free worker, `timeout` seconds from the moment a worker takes
        it (killed past that). Waiting for a worker is limited separately by
        `queue_wait` (default: `timeout`) and raises QueueTimeout. `costly` queries
        get the costly share (see the class); `observe` is told how many seconds a
        query that was answered ran."""
        ticket = _Ticket(client, costly)
        worker = self._acquire(ticket, timeout if queue_wait is None else queue_wait)
        seconds: float | None = None
        error: errors.KgError | None = None
        message: tuple | None = None  # none when the worker died before it answered
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
            message = worker.answer(timeout, self.memory_limit)
            worker, seconds, error = self._settle(worker, message, timeout, started)
        except (EOFError, OSError) as err:
            worker, error = self._crashed(worker, err)
        finally:
            self._release(worker, ticket, seconds)
        return _result(message, error, observe, seconds)

    def try_take(self, *, client: str = "", costly: bool = False) -> tuple | None:
        """A worker that is free and ready now for this client (with its ticket, for
        run_async), or None: then `run` waits in the queue."""
        ticket = _Ticket(client, costly)
        with self._cond:
            if (self._idle and self._idle[-1].ready and self._idle[-1].alive
                    and self._may_start(ticket) and self._first(ticket)):
                return self._take(ticket), ticket
        return None

    async def run_async(self, taken: tuple, job: Job, *, timeout: float,
                        observe: Callable[[float], None] | None = None) -> QueryResult:
        """Run `job` on a worker from try_take, waiting for its answer on the event
        loop (no thread); the limits are those of `run`."""
        import asyncio

        worker, ticket = taken
        loop = asyncio.get_running_loop()
        seconds: float | None = None
        error: errors.KgError | None = None
        message: tuple | None = None  # none when the worker died before it answered
        try:
            try:
                worker.send.send(job)
            except OSError:  # died since try_take saw it alive
                worker = await loop.run_in_executor(None, self._renew, worker)
                await loop.run_in_executor(None, worker.wait_ready)
                worker.send.send(job)
            self.executed += 1
            started = time.monotonic()
            message = await worker.answer_async(timeout, self.memory_limit)
            if message is None or message == _OVER_MEMORY:  # renewing a worker blocks
                worker, seconds, error = await loop.run_in_executor(
                    None, self._settle, worker, message, timeout, started)
            else:
                worker, seconds, error = self._settle(worker, message, timeout, started)
        except (EOFError, OSError) as err:
            worker, error = await loop.run_in_executor(None, self._crashed, worker, err)
        finally:
            self._release(worker, ticket, seconds)
        return _result(message, error, observe, seconds)

    def _settle(self, worker: _Worker, message: tuple | None, timeout: float,
                started: float) -> tuple[_Worker, float | None, errors.KgError | None]:
        """The worker to put back, the seconds the query ran, and the limit it hit
        (its worker killed and replaced)."""
        if message is None:
            return self._renew(worker), None, QueryTimeout(
                f"the query ran over the time limit of {timeout:g} s and was stopped")
        if message == _OVER_MEMORY:
            return self._renew(worker), None, MemoryLimit(
                f"the query used more than {_mib(self.memory_limit)} MiB of memory and "
                "was stopped; narrow it or add a LIMIT")
        return worker, time.monotonic() - started, None

    def _crashed(self, worker: _Worker, err: BaseException) -> tuple[_Worker, errors.KgError]:
        """A worker died during a query: a fresh one to put back, and the error."""
        try:
            died = worker.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            died = None
        fresh = self._renew(worker)
        if self.memory_limit and died == -signal.SIGABRT:  # an allocation failed
            error: errors.KgError = MemoryLimit(
                f"the query ran out of the {_mib(self.memory_limit)} MiB of memory a query "
                "may use and was stopped")
        else:
            error = WorkerFailed("the query worker stopped unexpectedly")
        error.__cause__ = err
        return fresh, error

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
        self._zygote.close()


def _wake(future: Future) -> None:
    if not future.done():
        future.set_result(None)


def _mib(size: int | None) -> int:
    return (size or 0) // 2**20


def _result(message: tuple | None, error: errors.KgError | None,
            observe: Callable[[float], None] | None, seconds: float | None) -> QueryResult:
    """A worker's answer as a result, or the error it carries (or the run hit)."""
    if error is not None:
        raise error
    assert message is not None
    if observe is not None and seconds is not None:
        observe(seconds)
    if message[0] == "ok":
        return QueryResult(message[1], message[2])
    error_class = getattr(errors, message[1], errors.QueryError)
    raise error_class(message[2])


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


# How a query's cost is remembered: its text from the first brace on, with IRIs, strings,
# numbers and variable names blanked and comments dropped (a runaway sent again with a
# new comment, other constants or other variable names has the same shape).
_BLANKS = [(re.compile(r"<[^<>\s]*>"), "<>"), (re.compile(r'"(?:[^"\\\n]|\\.)*"'), '""'),
           (re.compile(r"'(?:[^'\\\n]|\\.)*'"), "''"), (re.compile(r"#[^\n]*"), ""),
           (re.compile(r"[?$]\w+"), "?"), (re.compile(r"\d+(?:\.\d+)?"), "0"),
           (re.compile(r"\s+"), " ")]
SHAPES_KEPT = 10_000


def shape(text: str) -> str:
    """The shape of a query, as remembered for admission (see _BLANKS)."""
    body = text[text.find("{"):] if "{" in text else text
    for pattern, blank in _BLANKS:
        body = pattern.sub(blank, body)
    return body.strip()


def default_memory_limit(workers: int) -> int:
    """Bytes of resident memory one worker may use: half the machine's memory shared
    between the workers, at least 256 MiB, at most 2 GiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - not POSIX
        physical = 8 << 30
    return max(256 << 20, min(2 << 30, physical // (2 * max(1, workers))))


@dataclass(frozen=True)
class _Plan:
    """A query on its way to a worker (see QueryRunner._plan)."""

    job: Job
    key: tuple
    live: str | None
    checked: Checked
    shape: str
    costly: bool
    observe: Callable[[float], None]


class QueryRunner:
    """Guarded, time- and size-limited queries over a KnowledgeGraph's store: worker
    processes and an answer cache for the embedded store, the remote server's own
    client otherwise.

    Admission is cost-aware: a query is costly when the guard estimates so, or when a
    query of the same shape ran over `costly_seconds` (default: a tenth of the time
    limit) or was stopped at a limit; costly queries get the pool's costly share only
    (see WorkerPool). `stats` counts cache hits and misses and the queries run."""

    def __init__(self, graph: KnowledgeGraph, policy: Policy | None = None, *,
                 workers: int | None = None, per_client: int | None = None,
                 max_queue: int | None = None, queue_wait: float | None = None,
                 reserved: int | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 memory_quads: int = DEFAULT_MEMORY_QUADS,
                 memory_limit: int | None = None, costly_seconds: float | None = None):
        self.graph = graph
        self.policy = policy or Policy()
        # seconds a query may wait for a worker, apart from its time limit (default: three
        # time limits; a full queue answers at once, so this only bounds a slow drain)
        self.queue_wait = 3 * self.policy.time_limit if queue_wait is None else queue_wait
        self.costly_seconds = (self.policy.time_limit / 10 if costly_seconds is None
                               else costly_seconds)
        self.pool: WorkerPool | None = None
        self.cache: AnswerCache | None = None
        self.stats = {"cache_hits": 0, "cache_misses": 0, "executed": 0, "costly": 0,
                      "stopped": 0}
        self._shapes: OrderedDict[str, None] = OrderedDict()  # shapes found costly
        self._lock = threading.Lock()
        if graph.remote is None:
            self.layout = StoreLayout(graph.project.store_dir)
            size = workers or default_workers()
            limit = default_memory_limit(size) if memory_limit is None else memory_limit
            self.pool = WorkerPool(graph.project.store_dir, size=size,
                                   per_client=per_client, max_queue=max_queue,
                                   reserved=reserved, memory_quads=memory_quads,
                                   memory_limit=limit or None)
            if cache_bytes > 0:
                self.cache = AnswerCache(cache_bytes)
        # threads for queries that wait in the pool's queue (answer_async): enough for a
        # full queue and every worker, so that waiting never waits for a thread first
        waiting = self.pool.max_queue + self.pool.size if self.pool is not None else 0
        self._threads = ThreadPoolExecutor(max_workers=max(8, waiting),
                                           thread_name_prefix="kg-query")

    def _version(self) -> str | None:
        """The live store's name: one system call, where resolving the path takes
        several (this runs on every request)."""
        try:
            return os.readlink(self.layout.current)
        except OSError:
            return None

    @staticmethod
    def _key(text: str, default_graph: list[str] | None,
             named_graphs: list[str] | None, base_iri: str | None = None) -> tuple:
        return (text, None if default_graph is None else tuple(default_graph),
                None if named_graphs is None else tuple(named_graphs), base_iri)

    def _count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1

    def cached(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
               default_graph: list[str] | None = None,
               named_graphs: list[str] | None = None,
               base_iri: str | None = None) -> QueryResult | None:
        """The cached answer for the live store, or None: cheap enough to call on an
        event loop before handing the query to a thread. A hit is counted."""
        if self.cache is None:
            return None
        live = self._version()
        if live is None:
            return None
        text = with_values(sparql, dict(bindings or {}))
        answer = self.cache.get(live, self._key(text, default_graph, named_graphs, base_iri))
        if answer is not None:
            self._count("cache_hits")
        return answer

    def query(self, sparql: str, **options) -> QueryResult:
        """As `answer`, the result only."""
        return self.answer(sparql, **options)[0]

    def answer(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
               default_graph: list[str] | None = None,
               named_graphs: list[str] | None = None, client: str = "",
               base_iri: str | None = None) -> tuple[QueryResult, bool]:
        """Check the query against the policy, then answer it from the cache or run it
        within the limits; the answer, and whether it came from the cache.
        `default_graph` / `named_graphs` are the protocol's dataset (None: the query's
        FROM clauses if any, else all graphs as the default graph). `client` (e.g. the
        remote address) is whose share of the workers it uses. `base_iri` resolves the
        query's relative IRIs (its own BASE wins)."""
        plan = self._plan(sparql, bindings, default_graph, named_graphs, base_iri)
        if isinstance(plan, QueryResult):
            return plan, True
        if self.pool is None:
            return self._remote(plan.job), False
        with self._stopped(plan):
            answer = self.pool.run(plan.job, timeout=self.policy.time_limit, client=client,
                                   queue_wait=self.queue_wait, costly=plan.costly,
                                   observe=plan.observe)
        return self._keep(plan, answer), False

    async def answer_async(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
                           default_graph: list[str] | None = None,
                           named_graphs: list[str] | None = None, client: str = "",
                           base_iri: str | None = None) -> tuple[QueryResult, bool]:
        """As `answer`, on an event loop: a query the guard clears at a glance that finds
        a worker free goes to it and is awaited there, with no thread; any other runs
        `answer` in a thread."""
        import asyncio

        text = with_values(sparql, dict(bindings or {}))
        options = {"default_graph": default_graph, "named_graphs": named_graphs,
                   "base_iri": base_iri}
        loop = asyncio.get_running_loop()
        if self.pool is None or not plain(text):
            return await loop.run_in_executor(self._threads, functools.partial(
                self.answer, text, client=client, **options))
        plan = self._plan(text, None, default_graph, named_graphs, base_iri)
        if isinstance(plan, QueryResult):
            return plan, True
        taken = self.pool.try_take(client=client, costly=plan.costly)
        if taken is None:
            return await loop.run_in_executor(self._threads, functools.partial(
                self.answer, text, client=client, **options))
        with self._stopped(plan):
            answer = await self.pool.run_async(taken, plan.job, timeout=self.policy.time_limit,
                                               observe=plan.observe)
        return self._keep(plan, answer), False

    def _plan(self, sparql: str, bindings: Mapping[str, object] | None,
              default_graph: list[str] | None, named_graphs: list[str] | None,
              base_iri: str | None) -> QueryResult | _Plan:
        """The cached answer, or what it takes to run the query: checked by the guard,
        the job, and whether it is costly."""
        text = with_values(sparql, dict(bindings or {}))
        key = self._key(text, default_graph, named_graphs, base_iri)
        live = self._version() if self.cache is not None else None
        if live is not None and self.cache is not None:
            answer = self.cache.get(live, key)
            if answer is not None:
                self._count("cache_hits")
                return answer
        checked = _checked(text, self.policy)
        for iri in [*(default_graph or []), *(named_graphs or [])]:
            if iri.lower().startswith("file:"):
                raise Refused(f"<{iri}>: local-file graphs are never read")
        if default_graph is None and named_graphs is None and checked.has_dataset:
            default_graph = list(checked.from_graphs)
            named_graphs = list(checked.from_named)
        if self.cache is not None:
            self._count("cache_misses")
        if self.pool is None and base_iri:
            text = f"BASE {ox.NamedNode(base_iri)} {text}"
            base_iri = None
        job = Job(text, tuple(default_graph) if default_graph is not None else None,
                  tuple(named_graphs) if named_graphs is not None else None,
                  self.policy.max_rows, self.policy.max_result_bytes, base_iri)
        form = shape(text)
        costly = checked.costly or form in self._shapes
        self._count("executed")
        if costly:
            self._count("costly")
        return _Plan(job, key, live, checked, form, costly,
                     functools.partial(self._observe, form))

    @contextlib.contextmanager
    def _stopped(self, plan: _Plan) -> Iterator[None]:
        """Remember the shape of a query stopped at the time or memory limit."""
        try:
            yield
        except (QueryTimeout, MemoryLimit) as err:
            if not isinstance(err, QueueTimeout):
                self._count("stopped")
                self._remember(plan.shape)
            raise

    def _keep(self, plan: _Plan, answer: QueryResult) -> QueryResult:
        if plan.live is not None and self.cache is not None and not plan.checked.services:
            self.cache.put(plan.live, plan.key, answer)  # a SERVICE answer may change
        return answer

    def _observe(self, form: str, seconds: float) -> None:
        if seconds > self.costly_seconds:
            self._remember(form)

    def _remember(self, form: str) -> None:
        """Take queries of this shape as costly from now on."""
        with self._lock:
            self._shapes[form] = None
            self._shapes.move_to_end(form)
            while len(self._shapes) > SHAPES_KEPT:
                self._shapes.popitem(last=False)

    def _remote(self, job: Job) -> QueryResult:
        remote = self.graph.remote
        assert remote is not None
        result = remote.query(
            job.sparql, timeout=self.policy.time_limit,
            default_graph=None if job.default_graph is None else list(job.default_graph),
            named_graphs=None if job.named_graphs is None else list(job.named_graphs))
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
        self._threads.shutdown(wait=False)

