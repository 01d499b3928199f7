"""The embedded store: on-disk Oxigraph stores under `<store_dir>/stores/`, with
`<store_dir>/current` a symlink to the live one. A build writes a new store beside the
live one and swaps the symlink atomically, so readers never see a half-built store."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyoxigraph as ox

from ..errors import BuildLocked, SparqlSyntaxError, StoreNotBuilt
from ..namespaces import PREFIXES
from ..query.queries import with_values
from ..query.results import QueryResult

KEEP_PREVIOUS = 10  # versions always kept besides the live one, for `kg rollback`...
KEEP_SECONDS = 7 * 24 * 3600  # ...and every version younger than this...
KEEP_BYTES = 2 * 1024**3  # ...while the kept versions' own files stay under this size
# Stores up to this many quads are read from a copy in memory, which pyoxigraph answers
# several times faster than its on-disk store (KG_MEMORY_QUADS overrides; 0: never)...
MEMORY_QUADS = int(os.environ.get("KG_MEMORY_QUADS", "250000"))
COPY_BATCH = 4000  # quads copied into memory per call (see open_store)
# ...once a process has asked an EmbeddedStore this many queries: the copy costs more
# than the few queries of a one-shot command (about 0.1 s of the curated data's 0.6 s).
WARM_QUERIES = 20


def term_from_rdflib(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """Convert an rdflib term to a pyoxigraph term."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def term_to_rdflib(term):
    """Convert a pyoxigraph term to an rdflib term (None stays None)."""
    from rdflib import BNode, Literal, URIRef

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return Literal(term.value)  # rdflib reads "x" as untyped, as Turtle does
    return Literal(term.value, datatype=URIRef(term.datatype.value))


class StoreLayout:
    """The folders and files of one store directory."""

    def __init__(self, store_dir: Path):
        self.root = store_dir
        self.stores = store_dir / "stores"
        self.current = store_dir / "current"
        self.lock_file = store_dir / "build.lock"

    def live(self) -> Path | None:
        """The live store's folder, or None before the first build."""
        if not self.current.is_symlink():
            return None
        target = self.current.resolve()
        return target if target.is_dir() else None

    def info(self) -> dict:
        """What the last successful build recorded (input hash, time, counts)."""
        live = self.live()
        if live is None:
            return {}
        info_file = live.with_suffix(".json")
        return json.loads(info_file.read_text()) if info_file.exists() else {}

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the build lock: one build at a time per store directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as err:
                raise BuildLocked("another build or update is writing this store; "
                                  "try again in a moment") from err
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_partial(self) -> Path:
        """A fresh folder for a store being built (never the live one)."""
        self.stores.mkdir(parents=True, exist_ok=True)
        now = time.time_ns()  # read once: the second and its nanoseconds of one instant
        stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.localtime(now // 10**9))}-" \
                f"{now % 10**9:09d}"
        name = f"partial-{stamp}-{os.getpid()}"
        return self.stores / name

    def publish(self, partial: Path, info: dict) -> Path:
        """Turn a finished partial store into the live one, atomically."""
        final = self.stores / partial.name.removeprefix("partial-")
        os.rename(partial, final)
        final.with_suffix(".json").write_text(json.dumps(info, indent=2, sort_keys=True))
        self.activate(final)
        return final

    def discard(self, partial: Path) -> None:
        """Remove a store that failed to be written or published (never the live one)."""
        for path in (partial, self.stores / partial.name.removeprefix("partial-")):
            if path != self.live():
                _remove_tree(path)
                with contextlib.suppress(FileNotFoundError):
                    path.with_suffix(".json").unlink()

    def activate(self, final: Path) -> None:
        """Make a finished store the live one, atomically (a build, an update, a
        rollback)."""
        _SIZES.pop(final, None)
        link_tmp = self.root / f"current.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            link_tmp.unlink()
        link_tmp.symlink_to(final.relative_to(self.root))
        os.replace(link_tmp, self.current)  # atomic on POSIX

    def versions(self) -> list[Path]:
        """The finished stores kept (the live one among them), oldest first."""
        if not self.stores.is_dir():
            return []
        with os.scandir(self.stores) as entries:
            names = sorted(e.name for e in entries
                           if e.is_dir() and not e.name.startswith("partial-"))
        return [self.stores / name for name in names]

    def pin(self, version: Path) -> None:
        """Keep a version until it is removed by hand (the one before a large removal)."""
        info_file = version.with_suffix(".json")
        info = json.loads(info_file.read_text()) if info_file.exists() else {}
        info["pinned"] = True
        info_file.write_text(json.dumps(info, indent=2, sort_keys=True))

    def pinned(self, version: Path) -> bool:
        info_file = version.with_suffix(".json")
        try:
            stat = info_file.stat()
        except FileNotFoundError:
            return False
        key = (stat.st_mtime_ns, stat.st_size)
        known = _PINNED.get(info_file)
        if known is None or known[0] != key:
            pinned = bool(json.loads(info_file.read_text()).get("pinned"))
            known = _PINNED[info_file] = (key, pinned)
        return known[1]

    def clean(self, *, now: float | None = None) -> list[Path]:
        """Remove stores left by interrupted builds, and old versions past the history's
        limits: a version is kept while it is live, pinned, among the KEEP_PREVIOUS
        newest, or younger than KEEP_SECONDS, and the versions kept for their age stay
        within KEEP_BYTES (oldest removed first). Returns the versions removed."""
        if not self.stores.is_dir():
            return []
        live = self.live()
        for path in self.stores.glob("partial-*"):
            shutil.rmtree(path, ignore_errors=True)
        now = time.time() if now is None else now
        versions = self.versions()
        older = [p for p in versions if p != live and not self.pinned(p)]
        newest = set(older[-KEEP_PREVIOUS:]) if KEEP_PREVIOUS else set()
        by_age = [p for p in older if p not in newest
                  and now - p.stat().st_mtime < KEEP_SECONDS]
        if live is not None:
            _SIZES.pop(live, None)  # the live version's files are linked by the next one
        names = frozenset(p.name for p in versions)
        sizes = {p: _remembered_bytes(p, names) for p in by_age}
        size = sum(sizes.values())
        while by_age and size > KEEP_BYTES:
            size -= sizes[by_age.pop(0)]
        kept = newest | set(by_age)
        dropped = [p for p in older if p not in kept]
        for path in dropped:
            shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(".json").unlink()
        return dropped


def checkpoint(source: Path, target: Path) -> None:
    """A new store at `target` with the contents of the store at `source`, which no
    process writes (a published version): its table files (`*.sst`, never changed once
    written) are hard links, the few other files copies, the write-ahead log among them.
    RocksDB's own checkpoint (pyoxigraph's `backup`) of a store opened read-only leaves
    the write-ahead log out, and with it the last write of a version published without
    a flush (see sync_log). The info logs and the lock are not copied."""
    target.mkdir()
    with os.scandir(source) as entries:
        for entry in entries:
            if entry.name == "LOCK" or entry.name.startswith("LOG"):
                continue
            if entry.name.endswith(".sst"):
                os.link(entry.path, target / entry.name)
            else:
                shutil.copy2(entry.path, target / entry.name)


def sync_log(folder: Path) -> None:
    """Make a store written with pyoxigraph durable without flushing it: RocksDB has
    written every write to the write-ahead log (`*.log`) by the time it returns, and
    fsync puts those files, and the folder's entries, on disk. A flush would write and
    sync a table file per index instead (about 20 ms at 100k triples); opening the
    store, for reading or for the next write, replays the log."""
    for entry in os.scandir(folder):
        if entry.name.endswith(".log"):
            _fsync(entry.path)
    _fsync(folder)


def _fsync(path: str | Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_tree(path: Path) -> None:
    """Remove a store's folder whole: a store object not freed yet (held by a reference
    cycle, or a traceback) still has RocksDB's threads, which may write a file into the
    folder while it is removed; collect the garbage and try again, a few times."""
    for attempt in range(4):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        gc.collect()
        time.sleep(0.05 * (attempt + 1))


# Whether a version is pinned, by its info file's modification time and size: every write
# asks it of every kept version (a write at 100k triples keeps some sixty), which would
# otherwise read and parse each version's info file each time.
_PINNED: dict[Path, tuple[tuple[int, int], bool]] = {}

# A version's own bytes, and the versions there were when they were counted.
_SIZES: dict[Path, tuple[int, frozenset[str]]] = {}


def _remembered_bytes(folder: Path, names: frozenset[str]) -> int:
    """_own_bytes of an old version, counted again only when it may have changed: its
    files gain links only while it is live (each update's checkpoint links the live
    version's files) and lose them only when another version is removed. Every update
    asks this of each version kept for its age, which would otherwise read every file
    of every such version. (A rollback by another process is not seen: a version it
    made live may then count more than its own bytes until a version is removed.)"""
    known = _SIZES.get(folder)
    if known is not None and known[1] <= names:
        return known[0]
    size = _own_bytes(folder)
    _SIZES[folder] = (size, names)
    return size


def _own_bytes(folder: Path) -> int:
    """The bytes of the files only this folder holds (files shared with other versions
    through hard links, as checkpoints share them, are not counted). One stat per file:
    every update asks this of each version kept for its age."""
    total = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                total += _own_bytes(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                total += stat.st_size if stat.st_nlink == 1 else 0
    return total


def open_store(layout: StoreLayout, live: Path, memory_quads: int = MEMORY_QUADS,
               disk: ox.Store | None = None) -> ox.Store:
    """The store at `live`, read-only on disk (`disk` if already open), or copied into
    memory if the build recorded at most `memory_quads` quads."""
    if disk is None:  # not `disk or ...`: a Store's truth is its len(), a count of every quad
        disk = ox.Store.read_only(str(live))
    info_file = live.with_suffix(".json")
    graphs = json.loads(info_file.read_text()).get("graphs", {}) if info_file.exists() else {}
    if not graphs or sum(graphs.values()) > memory_quads:
        return disk
    memory = ox.Store()
    batch: list[ox.Quad] = []
    # A loop in Python, a batch at a time: bulk_extend would read the whole iterator
    # holding the interpreter lock, and stall the process's other threads (a service's
    # requests) for the whole copy (1.4 s at 100k triples; 40 ms at most this way).
    for quad in disk.quads_for_pattern(None, None, None, None):
        batch.append(quad)
        if len(batch) == COPY_BATCH:
            memory.bulk_extend(batch)
            batch = []
    memory.bulk_extend(batch)
    return memory


class EmbeddedStore:
    """Read access to the live Oxigraph store: on disk, read-only, and from a copy in
    memory once it has answered WARM_QUERIES queries if it is small enough (see
    open_store). Queries see the union of all graphs."""

    def __init__(self, store_dir: Path, *, memory_quads: int = MEMORY_QUADS):
        self.layout = StoreLayout(store_dir)
        live = self.layout.live()
        if live is None:
            raise StoreNotBuilt(f"no store in {store_dir}: run `kg build` first")
        self.path = live
        self._opened = ox.Store.read_only(str(live))
        self._memory_quads = memory_quads
        self._asked = 0

    @property
    def _store(self) -> ox.Store:
        """The store to read: the one on disk, then, from the WARM_QUERIES-th read on,
        the copy in memory when the store is small enough."""
        self._asked += 1
        if self._asked == WARM_QUERIES:  # once (a thread that misses it reads the disk)
            self._opened = open_store(self.layout, self.path, self._memory_quads,
                                      self._opened)
        return self._opened

    @property
    def info(self) -> dict:
        return self.layout.info()

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
              default_graph: list[str] | None = None,
              named_graphs: list[str] | None = None) -> QueryResult:
        """Run a SPARQL query. `bindings` maps variable names to pyoxigraph terms, bound
        by a VALUES block written from the terms (see kg.query.queries.with_values)."""
        sparql = with_values(sparql, dict(bindings or {}))
        kwargs: dict = {"prefixes": PREFIXES}
        if default_graph is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        try:
            result = self._store.query(sparql, **kwargs)
        except SyntaxError as err:
            from ..query.syntax import explain

            raise SparqlSyntaxError(explain(sparql, str(err))) from err
        return QueryResult.from_pyoxigraph(result)

    def quads(self) -> Iterator[ox.Quad]:
        return iter(self._store.quads_for_pattern(None, None, None, None))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs())

    def _select(self, sparql: str):
        try:
            return self._store.query(sparql, prefixes=PREFIXES,
                                     use_default_graph_as_union=True)
        except SyntaxError as err:
            raise SparqlSyntaxError(str(err)) from err

    def solutions(self, sparql: str) -> Iterator[tuple]:
        """The rows of a SELECT over all graphs as tuples of pyoxigraph terms (None when
        unbound), without the detour through SPARQL JSON that `query` takes: for reading
        many rows at once, such as the catalogue of names behind the pages. (The detour
        costs twice the time, and serialising and parsing a large answer hold the
        interpreter lock, which stalls a service's requests meanwhile.)"""
        result = self._select(sparql)
        names = [v.value for v in result.variables]
        for solution in result:
            yield tuple(solution[name] for name in names)

    def solution_rows(self, sparql: str) -> Iterator[dict]:
        """The rows of a SELECT over all graphs as dicts from variable name to term
        (unbound omitted), as QueryResult.rows gives them, streamed like `solutions`."""
        result = self._select(sparql)
        names = [v.value for v in result.variables]
        for solution in result:
            yield {name: value for name in names if (value := solution[name]) is not None}
