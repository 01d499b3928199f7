"""The pages' per-version values (catalogue, overview, search index, names, list counts,
graph facts) are made when the service starts and again when a new store version goes
live, before any request asks for them."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from kg import KnowledgeGraph
from kg.evidence.catalogue import catalogue
from kg.pipeline.update import apply_update
from kg.query.versions import ready
from kg_api import create_app

VALUES = ("catalogue", "overview|success-indicators", "source-names", "names",
          "list-counts", "links", "graph-facts")


def made(store) -> list[str]:
    return [name for name in VALUES if ready(store, name)]


def wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_the_pages_values_are_ready_before_the_first_request(mini_project):
    graph = KnowledgeGraph(mini_project)
    graph.build()
    old = graph.store
    assert made(old) == []
    with TestClient(create_app(graph, workers=1)) as client:
        wait_until(lambda: made(old) == list(VALUES), "every value made at the start")
        wait_until(lambda: client.get("/healthz").json()["pages"] == "ready", "pages ready")
        assert getattr(catalogue(old), "_search_index", None) is not None
        assert client.get("/search", params={"q": "engine"}).status_code == 200
        # a new version (an update outside the service) is prepared without a request
        apply_update(graph.project, "INSERT DATA { wfr:engine-a skos:altLabel 'new'@en }")
        graph.reopen()
        new = graph.store
        assert new.path != old.path
        wait_until(lambda: made(new) == list(VALUES), "every value made for the new version")
        assert getattr(catalogue(new), "_search_index", None) is not None
