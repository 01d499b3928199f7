"""Shared fixtures: a tiny project (real ontology, shapes and queries; fixture data) and
the real curated project, each built into a temporary store."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg import KnowledgeGraph
from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "data"


def pytest_configure(config) -> None:
    """One cache folder for the whole run, its workers included (they inherit the
    environment), and not the user's: what kg keeps there (the ontology's documentation
    page) is made once per run, and every run starts without it."""
    if "KG_TEST_CACHE" not in os.environ:
        os.environ["KG_TEST_CACHE"] = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(
            prefix="kg-test-cache-")
        config.kg_test_cache = os.environ["KG_TEST_CACHE"]


def pytest_unconfigure(config) -> None:
    if getattr(config, "kg_test_cache", None):
        shutil.rmtree(config.kg_test_cache, ignore_errors=True)


# The long modules start first, so that the workers (pytest-xdist, one module at a time
# each) end together instead of one waiting for the other's last long module: those with
# a test that builds the curated data, compiles LaTeX or drives the browser, then those
# that start servers, then the rest, each group in the order collected.
_FIRST = (("slow", "latex", "browser"), ("server",))


def pytest_collection_modifyitems(config, items) -> None:
    marks: dict = {}
    for item in items:
        marks.setdefault(item.module, set()).update(m.name for m in item.iter_markers())
    rank = {module: next((i for i, names in enumerate(_FIRST) if found & set(names)),
                         len(_FIRST)) for module, found in marks.items()}
    items.sort(key=lambda item: rank[item.module])  # stable: the order within is kept


def make_project(where: Path, *data_files: Path) -> Path:
    """A project folder with the real ontology/ and queries/ and the given data files."""
    shutil.copytree(ROOT / "ontology", where / "ontology")
    shutil.copytree(ROOT / "queries", where / "queries")
    (where / "data").mkdir()
    for path in data_files:
        shutil.copy(path, where / "data" / path.name)
    return where


@pytest.fixture(scope="session")
def mini_graph(tmp_path_factory) -> KnowledgeGraph:
    """The fixture project, built once (read-only use)."""
    root = make_project(tmp_path_factory.mktemp("mini"), FIXTURES / "mini.ttl")
    graph = KnowledgeGraph(root)
    graph.build()
    return graph


@pytest.fixture
def mini_project(tmp_path) -> Path:
    """A fresh copy of the fixture project that a test may change."""
    return make_project(tmp_path / "project", FIXTURES / "mini.ttl")


@pytest.fixture(scope="session")
def curated(tmp_path_factory) -> KnowledgeGraph:
    """The real project's ontology and data, built into a temporary store."""
    graph = KnowledgeGraph(ROOT, store=tmp_path_factory.mktemp("curated-store"))
    graph.build()
    return graph


class Cli:
    """Runs `kg` in-process against one project."""

    def __init__(self, project: Path):
        self.project = project
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(main, ["--project", str(self.project), *args],
                                  catch_exceptions=False)


@pytest.fixture
def cli(mini_project) -> Cli:
    return Cli(mini_project)


@pytest.fixture(scope="session")
def built_cli(mini_graph) -> Cli:
    """`kg` on the fixture project built once: for commands that only read the store."""
    return Cli(mini_graph.project.root)


@pytest.fixture(scope="session")
def evidence_project(tmp_path_factory) -> Path:
    """The fixture project plus tests/data/cite.ttl (bibliographic records with every
    field, a disputing source, a second SDK) and the real decision rules, built once
    (read-only use)."""
    root = make_project(tmp_path_factory.mktemp("evidence"), FIXTURES / "mini.ttl",
                        FIXTURES / "cite.ttl", ROOT / "data" / "decision-rules.ttl")
    KnowledgeGraph(root).build()
    return root


@contextmanager
def writable_service(where: Path, **policy) -> Iterator[tuple[object, KnowledgeGraph]]:
    """The HTTP service (one worker, in-process) over a fresh build of the fixture
    project in `where`, with the guard's `policy` (e.g. update_token=...): a client and
    the graph."""
    from fastapi.testclient import TestClient

    from kg.query.guard import Policy
    from kg_api import create_app

    graph = KnowledgeGraph(make_project(where / "project", FIXTURES / "mini.ttl"))
    graph.build()
    with TestClient(create_app(graph, policy=Policy(**policy), workers=1)) as client:
        yield client, graph


def triple_count(client) -> int:
    """How many triples the service's SPARQL endpoint counts."""
    response = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])
