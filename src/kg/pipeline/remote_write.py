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
   follow, the history graph), staged, then swapped in by one SPARQL Update request.

Two services over one store writing at once: the push compares the manifest read in
step 1 with the remote's just before its swap, and a write that finds another writer
was first is refused (BuildLocked: send it again) instead of overwriting that write.
Only two swaps within the moment between that check and the swap itself can still
lose the earlier one."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from . import update
from .project import Project
from .remote import RemoteStore
from .store import StoreLayout
from .update import UpdateResult

WRITES: dict[str, Callable[..., UpdateResult]] = {
    "apply_update": update.apply_update, "write_graph": update.write_graph,
    "delete_graph": update.delete_graph}


def apply(remote: RemoteStore, name: str, *, project: Project, **kwargs) -> UpdateResult:
    """Run the write kg.pipeline.update.`name`(**kwargs) on the remote dataset and push
    what it changed. Its UpdateResult's version is the one the history record names;
    no earlier version is kept to roll back to (the notes saying so are left out)."""
    write = WRITES[name]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kg-remote-write-") as folder:
        manifest = remote.manifest()
        scratch = dataclasses.replace(project, store_dir=Path(folder))
        _copy(remote, StoreLayout(scratch.store_dir))
        result = write(scratch, **kwargs)
        if result.store_path is None:  # nothing changed: nothing to send
            return result
        _keep_texts(scratch, project)
        written = ox.Store.read_only(str(result.store_path))
        remote.push(written.quads_for_pattern(None, None, None, None), expect=manifest)
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


def _keep_texts(scratch: Project, project: Project) -> None:
    """The whole texts of the updates (their history records hold the start) go to the
    service's own store folder, as over the embedded store."""
    texts = scratch.store_dir / "texts"
    if texts.is_dir():
        kept = project.store_dir / "texts"
        kept.mkdir(parents=True, exist_ok=True)
        for path in texts.iterdir():
            shutil.copyfile(path, kept / path.name)
