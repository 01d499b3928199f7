"""Writes where a crash costs a process, not the service. The HTTP service hands every
update and Graph Store write to one writer process (kept running, so the schema it
validates against stays loaded, and the next store version is opened between writes),
which parses, validates and applies it (kg.pipeline.update):

- a write that crashes the writer (a parser's stack overflow, say) is answered with
  WorkerFailed and a message; the writer is restarted, and the store is unchanged
  because a new version is only swapped in at the very end;
- a write still running at the time limit is stopped (the writer is killed and
  restarted) and answered with QueryTimeout; the store is unchanged. The swap itself
  ("publishing") is never interrupted: once the writer says it has begun, the answer
  is awaited;
- one write at a time: a second one while the first runs is BuildLocked (409), as the
  build lock answers."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from .. import errors
from ..errors import BuildLocked, QueryTimeout, WorkerFailed
from .project import Project

START_LIMIT = 120.0  # seconds the writer may take to start
PUBLISH_LIMIT = 120.0  # seconds the swap may take once begun


def _serve() -> None:  # pragma: no cover - runs in the writer process
    """The writer's loop: (name, kwargs) on stdin, ("ok", UpdateResult) or ("error",
    class name, message, report) on the original stdout; ("publishing",) when a write
    reaches its swap."""
    from . import update

    jobs = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    answers.send(("ready",))
    while True:
        try:
            name, kwargs = jobs.recv()
        except EOFError:
            return
        remote = kwargs.pop("remote", None)
        function = _function(name, remote)
        if remote is not None:
            kwargs["on_copy"] = lambda: answers.send(("copying",))
        try:
            result = function(**kwargs, on_publish=lambda: answers.send(("publishing",)))
            answers.send(("ok", result))
        except errors.KgError as err:
            report = getattr(err, "report", None)
            answers.send(("error", type(err).__name__, str(err), report))
        except Exception as err:  # a bug: a 500 with a message, the trace in the log
            import traceback

            traceback.print_exc()
            answers.send(("error", "WorkerFailed", f"internal error in the writer: {err!r}",
                          None))
        # between writes: the next one finds its store version open (or, if this
        # fails, opens it itself and reports what fails); a remote write copies the
        # remote store afresh each time, so there is nothing to prepare
        if remote is None:
            with contextlib.suppress(errors.KgError, OSError):
                update.prepare(kwargs["project"])


def _function(name: str, remote: dict | None):  # pragma: no cover - in the writer process
    """The write `name` of kg.pipeline.update, or its counterpart over the remote store
    these settings open (kg.pipeline.remote_write)."""
    from . import remote_write

    if remote is None:
        return remote_write.WRITES[name]
    from .remote import RemoteStore

    return functools.partial(remote_write.apply, RemoteStore(**remote), name)


_BOOT = """import sys
sys.path.insert(0, sys.argv[1])
from kg.pipeline.writer import _serve
_serve()
"""


class Writer:
    """The writer process of one service; `run` is a write with a time limit. With
    `remote` (RemoteStore.settings), writes go to that remote store."""

    def __init__(self, project: Project, remote: dict | None = None):
        self.project = project
        self.remote = remote
        self._process: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._busy = threading.Lock()

    def _start(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(Path(__file__).resolve().parents[2])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert process.stdin is not None and process.stdout is not None
        self._send = Connection(os.dup(process.stdin.fileno()), readable=False)
        self._recv = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        self._process = process
        if not self._recv.poll(START_LIMIT) or self._recv.recv() != ("ready",):
            self.close()
            raise WorkerFailed("the process that applies updates did not start")

    @property
    def pid(self) -> int | None:
        """The writer's process id (None before the first write)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the writer now rather than at the first write."""
        with self._busy:
            if self._process is None or self._process.poll() is not None:
                self._start()

    def run(self, name: str, time_limit: float, **kwargs):
        """Run kg.update.`name`(**kwargs) in the writer, stopped after `time_limit`
        seconds; returns its UpdateResult or raises what it raised."""
        if not self._busy.acquire(blocking=False):
            raise BuildLocked("another update is being applied; try again in a moment")
        try:
            if self._process is None or self._process.poll() is not None:
                self._start()
            assert self._send is not None and self._recv is not None
            job = {"project": self.project, **kwargs}
            if self.remote is not None:
                job["remote"] = self.remote
            self._send.send((name, job))
            return self._answer(time_limit)
        finally:
            self._busy.release()

    def _answer(self, time_limit: float):
        assert self._recv is not None
        limit = time_limit
        deadline = time.monotonic() + time_limit
        copying = False  # the write said it is copying the remote dataset
        while True:
            try:
                ready = self._recv.poll(limit)
                message = self._recv.recv() if ready else None
            except (EOFError, OSError):
                code = self._process.wait() if self._process else None
                self.close()
                raise WorkerFailed(
                    f"the update crashed the process that applies it ({_death(code)}); "
                    "the store is unchanged and the service goes on. A request this "
                    "complex cannot be applied: split it into smaller operations") from None
            if message is None:
                self.close()
                if copying:
                    raise QueryTimeout(
                        f"the write was stopped at the time limit of {time_limit:g} s while "
                        "it was still copying the remote store's dataset (the first write "
                        "of a service, and the first after another service wrote, copies "
                        "it); the store is unchanged, and the next write starts the copy "
                        "again. Over a store this large, start `kg serve` with a "
                        "--time-limit above the copy's time")
                raise QueryTimeout(f"the update ran longer than {time_limit:g} s and was "
                                   "stopped; the store is unchanged. Split it into smaller "
                                   "updates, or load large data with `kg build`")
            if message == ("copying",):  # the time limit runs on
                copying, limit = True, max(0.0, deadline - time.monotonic())
                continue
            if message == ("publishing",):
                limit = PUBLISH_LIMIT
                continue
            if message[0] == "ok":
                return message[1]
            _, kind, text, report = message
            cls = getattr(errors, kind, errors.KgError)
            if cls is errors.ValidationFailed:
                raise errors.ValidationFailed(report)
            raise cls(text)

    def close(self) -> None:
        """Stop the writer (a write under way is lost, the store unchanged)."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for connection in (self._send, self._recv):
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.close()
        self._send = self._recv = None


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        with contextlib.suppress(ValueError):
            return f"it ended with {signal.Signals(-code).name}"
    return f"it exited with status {code}"
