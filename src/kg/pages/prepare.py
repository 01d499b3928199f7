"""What the pages compute once per store version, made ahead of the first request: the
catalogue and the overview (`/`), the search index with the sources' names (`/search`),
the names that resolve parameters, the list counts, and the graph views' links and facts
(`/graph`; its layout is made in a child process when a view first asks); and, once per
process, the compiled page templates. A service runs a `Preparer`: it makes them at its
start and whenever a build or an update publishes a new version, in a thread of its own,
so that no reader waits for them (kg.query.versions keeps each one per version; a page
that asks while one is being made waits only for that one)."""

from __future__ import annotations

import logging
import os
import threading

from ..evidence.catalogue import catalogue
from ..pipeline.store import StoreLayout
from ..query.terms import names
from .browse import overview
from .lists import counts
from .render import compile_templates
from .search import search, source_names
from .viz import make_ahead

log = logging.getLogger("kg.pages")
LOOK_EVERY = 1.0  # seconds between two looks at which store version is live


def prepare(graph) -> None:
    """Make every per-version value of the pages for the graph's current store."""
    store = graph.store
    cat = catalogue(store)
    overview(graph)
    compile_templates()  # once per process: Jinja keeps them
    search(cat, "prepare", limit=1, sources=source_names(store))  # builds the index
    names(store)
    counts(store)
    make_ahead(store)


class Preparer:
    """A thread that prepares the pages' values for each store version that goes live
    (an embedded store: a new build or update moves the live link; a remote store is
    prepared once). `prepared` is set each time a version's values are made; `ready()`
    says whether the live version's are."""

    def __init__(self, graph):
        self.graph = graph
        self.prepared = threading.Event()
        self._stop = threading.Event()
        self._done: str | None = None  # the version last prepared
        self._thread = threading.Thread(target=self._run, daemon=True, name="kg-prepare")
        self._link = None if graph.remote is not None else StoreLayout(
            graph.project.store_dir).current

    def start(self) -> Preparer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _live(self) -> str | None:
        try:
            return os.readlink(self._link) if self._link is not None else "remote"
        except OSError:
            return None  # no store built yet

    def ready(self) -> bool:
        """Whether the live version's values are made (or could not be: then a page
        meets the error itself)."""
        live = self._live()
        return live is not None and live == self._done

    def _run(self) -> None:
        while not self._stop.is_set():
            live = self._live()
            if live is not None and live != self._done:
                try:
                    self.graph.reopen()
                    prepare(self.graph)
                except Exception:  # a page that asks will meet the error itself
                    log.exception("preparing the pages of store version %s failed", live)
                self._done = live
                self.prepared.set()
            if self._link is None and self._done is not None:
                return
            self._stop.wait(LOOK_EVERY)


__all__ = ["Preparer", "prepare"]
