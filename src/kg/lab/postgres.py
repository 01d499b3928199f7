"""A throwaway PostgreSQL server for the engine benchmarks: Debian's binaries, a fresh
data directory in a temporary folder, a loopback port, stopped and deleted afterwards.
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
(which Debian's package creates)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import BenchmarkError
from .local import free_port

DEBIAN_BIN = Path("/usr/lib/postgresql")
USER = "bench"  # the database role the benchmark connects as


def bindir() -> Path:
    """The folder of the newest installed PostgreSQL's initdb, pg_ctl and postgres."""
    found = sorted(DEBIAN_BIN.glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise BenchmarkError("PostgreSQL is not installed (no initdb): install Debian's "
                         "'postgresql' package, e.g. with `make system`")


@dataclass(frozen=True)
class PostgresServer:
    port: int
    version: str
    settings: dict[str, str]

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"


def _run_as() -> dict:
    """subprocess arguments that drop root privileges to the postgres user."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as err:
        raise BenchmarkError("running as root and there is no 'postgres' user to run "
                             "PostgreSQL as") from err
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _check(args: list[str], what: str, log: Path | None = None, **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        if log is not None and log.exists():
            detail += "\n" + log.read_text(errors="replace")[-2000:]
        raise BenchmarkError(f"{what} failed (exit {done.returncode}): {detail}")
    return done.stdout


@contextmanager
def temporary_postgres(databases: tuple[str, ...] = (), *,
                       settings: Mapping[str, str] | None = None) -> Iterator[PostgresServer]:
    """Start a PostgreSQL server on a free loopback port with the given settings (e.g.
    synchronous_commit), create `databases`, yield it, then stop it and delete its files."""
    binaries = bindir()
    settings = {"synchronous_commit": "on", "fsync": "on", "max_connections": "200",
                **(settings or {})}
    workdir = Path(tempfile.mkdtemp(prefix="kg-postgres-"))
    data, log = workdir / "data", workdir / "server.log"
    drop = _run_as()
    if drop:
        os.chown(workdir, drop["user"], drop["group"])
    started = False
    try:
        # --no-sync only skips flushing initdb's own files; the server runs with fsync=on
        _check([str(binaries / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                "-E", "UTF8", "--no-sync"], "initdb", cwd=workdir, **drop)
        port = free_port()
        options = " ".join([f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir}"]
                           + [f"-c {k}={v}" for k, v in settings.items()])
        _check([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                "-o", options, "start"], "starting PostgreSQL", log, cwd=workdir, **drop)
        started = True
        for name in databases:
            _check([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER,
                    name], f"createdb {name}", cwd=workdir, **drop)
        out = _check([str(binaries / "postgres"), "--version"], "postgres --version")
        match = re.search(r"(\d+(?:\.\d+)+)", out)
        yield PostgresServer(port=port, version=match.group(1) if match else out.strip(),
                             settings=dict(settings))
    finally:
        if started:
            subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                            "stop"], capture_output=True, timeout=120, cwd=workdir, **drop)
        shutil.rmtree(workdir, ignore_errors=True)


def server_cpu_seconds(port: int) -> float:
    """CPU time (user + system) the PostgreSQL server listening on `port` has used so far:
    the postmaster's own, that of its backends that have exited (waited-for children) and
    of those still running, read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = None
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        stats[int(entry.name)] = fields
        if cmdline and cmdline[0].endswith(b"postgres") and f"-p {port}".encode() in \
                b" ".join(cmdline):
            postmaster = int(entry.name)
    if postmaster is None:
        raise BenchmarkError(f"no PostgreSQL server found listening on port {port}")
    # fields after the command: [0] state, [1] ppid, ... [11] utime [12] stime
    # [13] cutime [14] cstime
    own = stats[postmaster]
    total = sum(int(own[i]) for i in (11, 12, 13, 14))
    total += sum(int(f[11]) + int(f[12]) for f in stats.values() if int(f[1]) == postmaster)
    return total / tick


__all__ = ["PostgresServer", "bindir", "server_cpu_seconds",
           "temporary_postgres"]
