"""Writes through the HTTP service when its store is a remote server (`kg serve
--endpoint`): the embedded store's write path (kg.pipeline.update), run over a local
copy of the remote dataset, whose changed graphs are then pushed (kg.pipeline.remote).

1. Every graph the pushes wrote is read into a scratch store folder, as its one live
   version, with the triple count per graph that the removal rules need.
2. The write runs there exactly as over the embedded store (update.apply_update,
   write_graph or delete_graph): the same parsing limits, refusals of system graphs,
   confirmation of large removals, derived and inferred triples and SHACL validation,
   and the PROV record in the history graph. A write rejected there raises before
   anything is sent: the remote store is unchanged.
3. The new version is pushed: only the graphs whose content hash differs from the
   remote's manifest (the data graphs written, the derived and inferred graphs that
   follow, the history graph). Only the graphs the write changed (as its UpdateResult
   says), and any the manifest has no entry of, marks pending or gives another triple
   count, are hashed; the others are the copy's, unchanged, so their entries are the
   manifest's (a push finding that the remote no longer has them is refused, as below).
   Each graph sent's triples before the write (the copy's previous version, which is
   what the remote holds) are compared with its triples after: a graph whose difference
   is small and names no blank node is sent as that difference (`DELETE DATA` and
   `INSERT DATA` of the triples removed and added); a new graph, a large change or one
   touching a blank node is sent whole into a staging graph. One SPARQL Update request
   then moves the staged graphs in, applies the differences and records the new hashes
   in the manifest (kg.pipeline.remote: the thresholds, and what each store makes of a
   request that fails midway). A one-label write thus sends two small differences (its
   data graph's triple, the history graph's record) in one request, not its data graph
   whole.

Two services over one store writing at once: the push compares the manifest read in
step 1 with the remote's just before its swap, and a write that finds another writer
was first is refused (BuildLocked: send it again) instead of overwriting that write.
Only two swaps within the moment between that check and the swap itself can still
lose the earlier one.

The copy of step 1 is kept for the next write while the remote's manifest stays what
this process last read or wrote: a service that is the only writer reads the remote
dataset once, not at every write. A write elsewhere changes the manifest, and the next
write here copies afresh; a push that fails drops the copy (it may be ahead of the
remote)."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from . import update
from .project import Project
from .remote import DEFAULT_GRAPH, PENDING, RemoteStore
from .store import StoreLayout
from .update import UpdateResult

WRITES: dict[str, Callable[..., UpdateResult]] = {
    "apply_update": update.apply_update, "write_graph": update.write_graph,
    "delete_graph": update.delete_graph}


@dataclasses.dataclass
class _Copy:
    """A scratch store folder whose live version is the remote dataset as it was when
    the remote's push manifest read `manifest`."""

    remote: dict
    manifest: dict
    folder: Path

    def drop(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_KEPT: list[_Copy] = []  # at most one: the copy of this process's last write


def forget() -> None:
    """Drop the kept copy (its folder too)."""
    while _KEPT:
        _KEPT.pop().drop()


atexit.register(forget)


def _copy_for(remote: RemoteStore, manifest: dict,
              on_copy: Callable[[], None] | None = None) -> _Copy:
    """The kept copy if the remote is still as it was, else a fresh copy (`on_copy` is
    called before it is made: the writer's supervisor then says so if it times out)."""
    if _KEPT and _KEPT[0].remote == remote.settings and _KEPT[0].manifest == manifest:
        return _KEPT.pop()
    forget()
    if on_copy is not None:
        on_copy()
    copy = _Copy(remote.settings, manifest, Path(tempfile.mkdtemp(prefix="kg-remote-write-")))
    try:
        _copy(remote, StoreLayout(copy.folder))
    except BaseException:
        copy.drop()
        raise
    return copy


def apply(remote: RemoteStore, name: str, *, project: Project,
          on_copy: Callable[[], None] | None = None, **kwargs) -> UpdateResult:
    """Run the write kg.pipeline.update.`name`(**kwargs) on the remote dataset and push
    what it changed. Its UpdateResult's version is the one the history record names;
    no earlier version is kept to roll back to (the notes saying so are left out).
    `on_copy` is called when the write starts copying the remote dataset."""
    write = WRITES[name]
    started = time.monotonic()
    manifest = remote.manifest()
    copy = _copy_for(remote, manifest, on_copy)
    previous = StoreLayout(copy.folder).live()  # what the remote holds: the deltas' base
    scratch = dataclasses.replace(project, store_dir=copy.folder)
    try:
        result = write(scratch, **kwargs)  # a refused write leaves the copy as it was
    except BaseException:
        _KEPT.append(copy)
        raise
    if result.store_path is None:  # nothing changed: nothing to send
        _KEPT.append(copy)
        return result
    _keep_texts(scratch, project)
    try:
        written = ox.Store.read_only(str(result.store_path))
        before = ox.Store.read_only(str(previous))
        known, others = _split(written, manifest, result)
        remote.push((ox.Quad(t.subject, t.predicate, t.object, _graph(g))
                     for g in others for t in _triples(written, g)),
                    expect=manifest, base=functools.partial(_triples, before), known=known)
        del written, before
        copy.manifest = remote.manifest()
    except BaseException:
        copy.drop()  # it may be ahead of the remote
        raise
    _KEPT.append(copy)
    return dataclasses.replace(result, notes=[], seconds=time.monotonic() - started)


def _copy(remote: RemoteStore, layout: StoreLayout) -> None:
    """The remote dataset as the scratch folder's live version."""
    partial = layout.new_partial()
    store = ox.Store(str(partial))
    counts: dict[str, int] = {}
    batch: list[ox.Quad] = []
    for quad in remote.quads():
        key = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else "default"
        counts[key] = counts.get(key, 0) + 1
        batch.append(quad)
    store.bulk_extend(batch)
    store.flush()
    del store
    layout.publish(partial, {"graphs": counts, "kind": "remote copy"})


def _graph(graph: str) -> ox.NamedNode | ox.DefaultGraph:
    """A local store's graph of the remote's graph IRI (DEFAULT_GRAPH: the default)."""
    return ox.DefaultGraph() if graph == DEFAULT_GRAPH else ox.NamedNode(graph)


def _triples(store: ox.Store, graph: str) -> list[ox.Triple]:
    """One graph's triples in a local store."""
    return [q.triple for q in store.quads_for_pattern(None, None, None, _graph(graph))]


def _split(written: ox.Store, manifest: dict[str, tuple[str, int]], result: UpdateResult
           ) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """The graphs of the written version in two parts: those it holds as the remote does
    at `manifest` (IRI -> the manifest's entry: the copy held what the remote did then,
    and the write did not change them nor their triple count), not hashed again; and the
    others (changed, new, marked pending, or of another count), to hash and compare."""
    names = {g.value for g in written.named_graphs()}
    if next(written.quads_for_pattern(None, None, None, ox.DefaultGraph()), None):
        names.add(DEFAULT_GRAPH)
    known, others = {}, []
    for name in sorted(names):
        key = "default" if name == DEFAULT_GRAPH else name
        entry = manifest.get(name)
        if key in result.changed or entry is None or entry[0] == PENDING \
                or entry[1] != result.graphs.get(key):
            others.append(name)
        else:
            known[name] = entry
    return known, others


def _keep_texts(scratch: Project, project: Project) -> None:
    """The whole texts of the updates (their history records hold the start) go to the
    service's own store folder, as over the embedded store."""
    texts = scratch.store_dir / "texts"
    if texts.is_dir():
        kept = project.store_dir / "texts"
        kept.mkdir(parents=True, exist_ok=True)
        for path in texts.iterdir():
            shutil.copyfile(path, kept / path.name)
