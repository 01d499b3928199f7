"""Servers started on this machine, on loopback, by the executable evidence, the benchmarks and
the tests: a free port, waiting until a started server answers, and a Virtuoso server of
its own (Debian's virtuoso-opensource: its own ini, database folder and loopback ports)."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Return once `url` answers with a status below 500; raise if `process` exits first or
    nothing answers within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


VIRTUOSO_USER, VIRTUOSO_PASSWORD = "kgwriter", "kg-test-secret"
# what `kg push` and `kg serve` read to write as that account (digest authentication)
VIRTUOSO_ENV = {"KG_REMOTE_USER": VIRTUOSO_USER, "KG_REMOTE_PASSWORD": VIRTUOSO_PASSWORD}
_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CheckpointInterval = 60
DirsAllowed = .
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
TransactionAfterImageLimit = 1500000000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""
# An account that may write kg's graphs through /sparql-auth (digest), and read access
# for everyone else (what docs/deploy.md asks an operator to run).
_VIRTUOSO_SETUP = (
    f"DB.DBA.USER_CREATE('{VIRTUOSO_USER}', '{VIRTUOSO_PASSWORD}'); "
    f"GRANT SPARQL_UPDATE TO \"{VIRTUOSO_USER}\"; "
    f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('nobody', 1); "
    f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{VIRTUOSO_USER}', 3); checkpoint;")


def virtuoso_missing() -> str | None:
    """Why no Virtuoso server can be started here, or None."""
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        return "Virtuoso is not installed (Debian package virtuoso-opensource)"
    return None


@dataclass
class LocalVirtuoso:
    """A running Virtuoso server of its own; `stop()` shuts it down cleanly."""

    process: subprocess.Popen
    sql_port: int
    http_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def endpoint(self) -> str:
        return self.base + "/sparql"

    def isql(self, statements: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba",
                               f"exec={statements}"], capture_output=True, text=True,
                              timeout=timeout)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):  # then killed below
            self.isql("shutdown;", timeout=60)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_virtuoso(folder: Path) -> LocalVirtuoso:
    """A server over a new database in `folder` (which must not exist yet): a copy of an
    empty one with the account of VIRTUOSO_ENV set up, made once per machine (creating
    one takes Virtuoso tens of seconds; copying it, none)."""
    shutil.copytree(_virtuoso_template(), folder)
    return _start_virtuoso(folder)


def _start_virtuoso(folder: Path) -> LocalVirtuoso:
    missing = virtuoso_missing()
    if missing:
        raise RuntimeError(missing)
    sql, http = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(_VIRTUOSO_INI.format(d=folder, sql=sql, http=http))
    process = subprocess.Popen([shutil.which("virtuoso-t"), "-c", str(folder / "virtuoso.ini"),
                                "+foreground"], cwd=folder, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    server = LocalVirtuoso(process, sql, http)
    try:
        wait_until_up(server.endpoint + "?query=ASK%7B%7D", process, seconds=240)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return server


def _virtuoso_template() -> Path:
    version = subprocess.run([shutil.which("virtuoso-t") or "virtuoso-t", "-?"],
                             capture_output=True, text=True).stderr
    tag = hashlib.sha256((version + _VIRTUOSO_SETUP + _VIRTUOSO_INI).encode()).hexdigest()[:12]
    template = Path(tempfile.gettempdir()) / f"workflow-kg-virtuoso-template-{tag}"
    if (template / "virtuoso.db").exists():
        return template
    building = Path(tempfile.mkdtemp(prefix="workflow-kg-virtuoso-"))
    server = _start_virtuoso(building)
    try:
        done = server.isql(_VIRTUOSO_SETUP)
        if done.returncode != 0:
            raise RuntimeError(f"setting up Virtuoso's account failed: {done.stdout}{done.stderr}")
    finally:
        server.stop()
    for name in ("virtuoso.log", "virtuoso.ini", "virtuoso.lck"):
        (building / name).unlink(missing_ok=True)
    try:
        building.rename(template)
    except OSError:  # another run made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return template


__all__ = ["LocalVirtuoso", "VIRTUOSO_ENV", "free_port", "start_virtuoso", "virtuoso_missing",
           "wait_until_up"]
