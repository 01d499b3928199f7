"""The programme's own engine benchmarks: run the workload of `benchmarks/engines/` on a
real durable-execution engine (DBOS Transact) over real backends (a throwaway PostgreSQL
server, SQLite files), write the raw results (JSON and CSV) and turn them into benchmark
findings with their provenance (a wf:ProgrammeRun, the raw file and its hash).

Each measurement runs in a worker process (`benchmarks/engines/workload.py`) that prints
one JSON object per line; a worker that exits non-zero, times out or prints something
that is not such a line stops the run with a BenchmarkError, and no finding is written.

Derived figures (the formulas the findings state):
  throughput      workflows / wall seconds, and steps / wall seconds, per repetition
  latency         p50, p95, p99 of the per-workflow latencies of all repetitions pooled
  recovery time   seconds from restarting the worker killed with kill -9 to the first
                  workflow it finished (process start, engine launch and recovery
                  included)
  cost            (worker CPU-seconds + database-server CPU-seconds) / workflows x 1,000
  storage growth  bytes the engine's own tables grew by / steps executed
Values are means over repetitions (recovery: over kills), spreads their sample standard
deviations (qudt:standardUncertainty)."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ..errors import BenchmarkError
from .benchfindings import findings_turtle, percentiles
from .postgres import temporary_postgres

WORKLOAD = Path("benchmarks") / "engines" / "workload.py"
RAW_JSON = Path("data") / "benchmarks-own.json"
RAW_CSV = Path("data") / "benchmarks-own.csv"
FINDINGS = Path("data") / "benchmarks-own.ttl"
BACKENDS = ("postgresql", "sqlite")
WORKLOADS = ("payment-saga", "fan-out")
NOT_RUN = {
    "temporal": "Temporal's server has no Debian package, and the development servers of "
                "its SDKs download a binary at run time, which this project does not allow.",
    "cassandra": "Apache Cassandra has no Debian package, and no installer from the package "
                 "registries runs it without downloading it at run time.",
}


@dataclass(frozen=True)
class Plan:
    """How much the benchmark runs: bounded in count, so bounded in time."""

    workflows: int  # payment sagas per throughput measurement
    fan_workflows: int  # fan-out workflows per throughput measurement
    concurrencies: tuple[int, ...]
    repetitions: int
    transfers: int  # payment sagas of the recovery run
    kills: int
    recovery_concurrency: int = 4
    timeout_s: float = 600.0  # per worker process


QUICK = Plan(workflows=20, fan_workflows=4, concurrencies=(1, 4, 16), repetitions=2,
             transfers=40, kills=2)
FULL = Plan(workflows=100, fan_workflows=20, concurrencies=(1, 4, 16), repetitions=3,
            transfers=200, kills=5)


@dataclass
class Backend:
    name: str
    version: str
    sys_db: str
    app_db: str
    port: int | None  # a PostgreSQL server's, for its CPU time
    durability: dict = field(default_factory=dict)


Progress = Callable[[str], None]


# ------------------------------------------------------------------ worker processes
def _worker_args(root: Path, backend: Backend, *args: str) -> list[str]:
    command = [sys.executable, str(root / WORKLOAD), *args,
               "--sys-db", backend.sys_db, "--app-db", backend.app_db]
    return command + (["--db-port", str(backend.port)] if backend.port else [])


def parse_line(line: str, where: str) -> dict:
    """One line of a worker's output: a JSON object with an 'event'."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise BenchmarkError(f"{where}: not a JSON line ({err.msg}): {line[:200]!r}") from err
    if not isinstance(record, dict) or "event" not in record:
        raise BenchmarkError(f"{where}: a worker line needs an 'event': {line[:200]!r}")
    return record


def run_worker(root: Path, backend: Backend, *args: str, timeout: float) -> list[dict]:
    """Run a worker to its end; its records, or a BenchmarkError naming what went wrong."""
    command = _worker_args(root, backend, *args)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=root)
    except subprocess.TimeoutExpired as err:
        raise BenchmarkError(f"worker {' '.join(args)} on {backend.name} did not finish "
                             f"within {timeout:.0f} s") from err
    if done.returncode != 0:
        raise BenchmarkError(f"worker {' '.join(args)} on {backend.name} crashed (exit "
                             f"{done.returncode}): {done.stderr.strip()[-1500:]}")
    return [parse_line(line, f"worker {args[1] if len(args) > 1 else ''} output line {n}")
            for n, line in enumerate(done.stdout.splitlines(), 1) if line.strip()]


def _one(records: list[dict], event: str) -> dict:
    found = [r for r in records if r["event"] == event]
    if not found:
        raise BenchmarkError(f"the worker reported no {event!r} record")
    return found[-1]


class _Watched:
    """A worker whose lines are read as they come, so it can be killed mid-run."""

    def __init__(self, command: list[str], cwd: Path):
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, cwd=cwd)

    def until(self, predicate: Callable[[dict], bool], deadline: float) -> dict:
        assert self.process.stdout is not None
        # a worker that hangs without printing is killed at the deadline, ending the loop
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), self.process.kill)
        watchdog.start()
        try:
            for n, line in enumerate(self.process.stdout, 1):
                if line.strip():
                    record = parse_line(line, f"recovery worker output line {n}")
                    if predicate(record):
                        return record
        except BaseException:  # a parse error, or SIGTERM: leave no worker behind
            self.process.kill()
            self.process.wait()
            raise
        finally:
            watchdog.cancel()
        self.process.kill()
        self.process.wait()
        raise BenchmarkError("the recovery worker ended or stalled before the expected "
                             f"progress (exit {self.process.returncode})")

    def kill9(self) -> float:
        self.process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        return killed_at


def measure_recovery(root: Path, backend: Backend, plan: Plan, progress: Progress) -> dict:
    """Run plan.transfers payment sagas from a durable queue, kill -9 the worker plan.kills
    times mid-run, restart it each time, and count the debits in the ledger afterwards."""
    args = ["--phase", "work", "--workflows", str(plan.transfers), "--concurrency",
            str(plan.recovery_concurrency), "--run-id", "recovery"]
    command = _worker_args(root, backend, *args)
    deadline = time.monotonic() + plan.timeout_s
    step = max(1, plan.transfers // (plan.kills + 2))
    kills = []
    worker = _Watched(command, root)
    finished = 0
    verify_args = ("--phase", "verify", "--run-id", "recovery", "--workflows",
                   str(plan.transfers))
    for kill in range(plan.kills):
        target = finished + step

        def progressed(r: dict, target=target) -> bool:
            nonlocal finished
            finished += r["event"] == "finished"
            return finished >= target
        worker.until(progressed, deadline)
        killed_at = worker.kill9()
        finished_at_kill, exit_status = finished, worker.process.returncode  # -9: SIGKILL
        # the state the kill left: sagas debited but neither credited nor refunded yet
        state = _one(run_worker(root, backend, *verify_args, timeout=plan.timeout_s),
                     "verify")
        progress(f"{backend.name}: killed the worker (kill -9) after {finished} finished "
                 f"transfers, {state['interrupted_sagas']} sagas interrupted, "
                 f"{state['pending_workflows']} workflows pending ({kill + 1}/{plan.kills})")
        restarted_at = time.time()
        worker = _Watched(command, root)
        first = worker.until(lambda r: r["event"] in ("finished", "all-finished"), deadline)
        finished += first["event"] == "finished"
        kills.append({"finished_before_kill": finished_at_kill, "killed_at": killed_at,
                      "exit_status": exit_status,
                      "pending_workflows": state["pending_workflows"],
                      "interrupted_sagas": state["interrupted_sagas"],
                      "restarted_at": restarted_at,
                      "resumed_after_s": round(first.get("t", time.time()) - restarted_at, 6)})
    worker.until(lambda r: r["event"] == "all-finished", deadline)
    worker.process.wait()
    verify = _one(run_worker(root, backend, *verify_args, timeout=plan.timeout_s), "verify")
    return {"transfers": plan.transfers, "concurrency": plan.recovery_concurrency,
            "kills": kills, "verify": verify}


def measure_backend(root: Path, backend: Backend, plan: Plan, progress: Progress) -> dict:
    run_worker(root, backend, "--phase", "setup", timeout=plan.timeout_s)
    measurements = []
    for workload in WORKLOADS:
        count = plan.workflows if workload == "payment-saga" else plan.fan_workflows
        progress(f"{backend.name}: {workload}, {count} workflows x {plan.repetitions} "
                 f"repetitions at concurrency {', '.join(map(str, plan.concurrencies))}")
        records = run_worker(
            root, backend, "--phase", "throughput", "--workload", workload,
            "--workflows", str(count), "--repetitions", str(plan.repetitions),
            "--concurrency", ",".join(map(str, plan.concurrencies)),
            "--run-id", "throughput", timeout=plan.timeout_s)
        backend.durability = _one(records, "launched").get("durability", {})
        measurements += [r for r in records if r["event"] == "throughput"]
    progress(f"{backend.name}: recovery, {plan.transfers} transfers, {plan.kills} kills")
    recovery = measure_recovery(root, backend, plan, progress)
    return {"backend": backend.name, "backend_version": backend.version,
            "server_port": backend.port,
            "durability": backend.durability, "throughput": measurements,
            "recovery": recovery}


# ------------------------------------------------------------------ the whole run
def machine() -> dict:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    os_name = platform.platform()
    try:
        release = dict(line.split("=", 1) for line in
                       Path("/etc/os-release").read_text().splitlines() if "=" in line)
        os_name = f"{release.get('PRETTY_NAME', '').strip(chr(34))}, Linux {platform.release()}"
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gib": round(memory / 2**30, 1), "os": os_name,
            "python": platform.python_version(), "load_average": list(os.getloadavg())}


def engine_version() -> str:
    try:
        return metadata.version("dbos")
    except metadata.PackageNotFoundError as err:
        raise BenchmarkError("DBOS Transact is not installed: pip install 'dbos>=3.4,<4' "
                             "(part of the test extras: make setup)") from err


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while benchmarks run, so a terminated run still stops
    its PostgreSQL server and deletes its temporary files."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _measure(root: Path, name: str, plan: Plan, progress: Progress) -> dict:
    """Measure on one backend, started (PostgreSQL) or created (SQLite) for the run and
    stopped and deleted afterwards."""
    if name == "postgresql":
        with temporary_postgres(("bench_sys", "bench_app")) as pg:
            progress(f"postgresql {pg.version} started on 127.0.0.1:{pg.port}")
            backend = Backend(name, pg.version, pg.url("bench_sys"),
                              pg.url("bench_app").replace("postgresql://",
                                                          "postgresql+psycopg://", 1),
                              pg.port)
            return measure_backend(root, backend, plan, progress)
    else:
        with tempfile.TemporaryDirectory(prefix="kg-sqlite-") as where:
            backend = Backend(name, sqlite3.sqlite_version,
                              f"sqlite:///{where}/bench_sys.sqlite",
                              f"sqlite:///{where}/bench_app.sqlite", None)
            return measure_backend(root, backend, plan, progress)


def run(root: Path, *, quick: bool = False, plan: Plan | None = None,
        backends: tuple[str, ...] = BACKENDS, progress: Progress | None = None,
        command: str | None = None) -> dict:
    """Run the benchmarks on each backend; return the raw results (see write_results)."""
    plan = plan or (QUICK if quick else FULL)
    progress = progress or (lambda message: None)
    if not (root / WORKLOAD).is_file():
        raise BenchmarkError(f"{WORKLOAD} is missing: run from a checkout of the project")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise BenchmarkError(f"unknown backend(s) {sorted(unknown)}; known: {BACKENDS}")
    version = engine_version()
    started = datetime.now(UTC)
    results: list[dict] = []
    with _stop_on_sigterm():
        for name in backends:
            results.append(_measure(root, name, plan, progress))
    ended = datetime.now(UTC)
    return {
        "tool": "DBOS Transact", "tool_version": version,
        "command": command or ("kg bench-engines" + (" --quick" if quick else "")),
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "duration_s": round((ended - started).total_seconds(), 1),
        "machine": machine(),
        "plan": {"workflows": plan.workflows, "fan_workflows": plan.fan_workflows,
                 "concurrencies": list(plan.concurrencies), "repetitions": plan.repetitions,
                 "transfers": plan.transfers, "kills": plan.kills,
                 "recovery_concurrency": plan.recovery_concurrency},
        "not_run": NOT_RUN,
        "backends": results,
    }


CSV_COLUMNS = ("backend", "workload", "concurrency", "repetition", "workflows", "steps",
               "wall_s", "cpu_worker_s", "cpu_db_s", "history_bytes", "p50_ms", "p95_ms",
               "p99_ms")


def as_csv(raw: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for backend in raw["backends"]:
        for m in backend["throughput"]:
            p50, p95, p99 = percentiles(m["latencies_ms"])
            writer.writerow([backend["backend"], m["workload"], m["concurrency"],
                             m["repetition"], m["workflows"], m["steps"], m["wall_s"],
                             m["cpu_worker_s"], m["cpu_db_s"], m["history_bytes"],
                             round(p50, 3), round(p95, 3), round(p99, 3)])
    return out.getvalue()


def write_results(root: Path, raw: dict, raw_text: str | None = None) -> list[Path]:
    """Write the raw JSON (unless `raw_text` is that file's text already), the CSV summary
    beside it and the findings (Turtle); the findings are built and validated first, so a
    failure leaves the old files alone."""
    keep_raw = raw_text is not None
    raw_text = raw_text if keep_raw else json.dumps(raw, indent=1, sort_keys=True) + "\n"
    turtle = findings_turtle(raw, raw_text.encode(), root)
    outputs = [(RAW_CSV, as_csv(raw)), (FINDINGS, turtle)]
    written = []
    for path, text in ([] if keep_raw else [(RAW_JSON, raw_text)]) + outputs:
        target = root / path
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        tmp.replace(target)
        written.append(target)
    return written


def reimport(root: Path) -> list[Path]:
    """Rewrite the findings (and the CSV) from the committed raw results, without running
    anything: for a change in how findings are written."""
    path = root / RAW_JSON
    try:
        text = path.read_text()
    except OSError as err:
        raise BenchmarkError(f"{RAW_JSON}: cannot read: {err.strerror}") from err
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise BenchmarkError(f"{RAW_JSON}:{err.lineno}: not JSON ({err.msg})") from err
    return write_results(root, raw, text)


__all__ = ["BACKENDS", "FULL", "QUICK", "Plan", "as_csv", "parse_line", "reimport", "run",
           "write_results"]
