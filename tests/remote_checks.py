"""What every remote store must answer as the embedded one does (shared by the
test_remote*.py modules): every named query row for row, the pages' machine twins,
search, citations, a report table, a path and a decision."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import httpx
import pyoxigraph as ox
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kg import KnowledgeGraph
from kg.cli import main
from kg.query.guard import Policy
from kg_api.app import create_app
from tests.test_http_queries import example_params

_CONCAT = re.compile(r'separator\s*=\s*"([^"]*)"\s*\)\s*AS\s*\?(\w+)', re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, process: subprocess.Popen, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if check():
                return
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:g} s")


def concatenations(text: str) -> dict[str, str]:
    """The variables a query builds with GROUP_CONCAT -> their separators."""
    return {var: sep for sep, var in _CONCAT.findall(text)}


def canonical(result, concat: dict[str, str] | None = None) -> list:
    """An answer as a sorted list of rows, blank nodes left out (their labels differ
    between stores) and each GROUP_CONCAT column as the set of its parts (SPARQL does
    not define their order)."""
    concat = concat or {}
    if result.kind == "ask":
        return [result.boolean]
    if result.kind == "graph":
        return sorted(str(t) for t in result.triples()
                      if not isinstance(t.subject, ox.BlankNode)
                      and not isinstance(t.object, ox.BlankNode))

    def cell(name, term):
        if name in concat and isinstance(term, ox.Literal):
            return tuple(sorted(term.value.split(concat[name])))
        return str(term)

    rows = [tuple(sorted((k, cell(k, v)) for k, v in row.items()
                         if not isinstance(v, ox.BlankNode))) for row in result.rows()]
    return sorted(rows)


def compare_named_queries(local: KnowledgeGraph, remote: KnowledgeGraph) -> int:
    """Every named query with its example parameters, in both evidence views; returns
    how many answers had rows (so a caller can insist that the check was not empty)."""
    with_rows = 0
    for named in local.queries:
        params = example_params(named)
        if params is None:
            continue
        concat = concatenations(named.text)
        for evidence in ("all", "verified"):
            expected = canonical(local.query(named.name, params, evidence=evidence), concat)
            got = canonical(remote.query(named.name, params, evidence=evidence), concat)
            assert got == expected, (named.name, evidence)
            with_rows += bool(expected) and evidence == "all"
    return with_rows


def cli(graph: KnowledgeGraph, *args: str, env: dict | None = None) -> str:
    options = ["--project", str(graph.project.root)]
    if graph.project.store_dir != graph.project.root / ".kg":
        options += ["--store", str(graph.project.store_dir)]
    if graph.remote is not None:
        options += ["--endpoint", graph.remote.endpoint, "--store-kind", graph.remote.kind]
    result = CliRunner(env=env).invoke(main, [*options, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


# kg path and kg decide keep the first answers among equal-ranked ones in the order the
# store lists them, so over another store they can pick other, equally short paths.
ORDER_DEPENDENT = {
    "path wfr:temporal wfr:payment-atomicity --evidence verified",
    "decide --require guarantee=wfr:durability --require language=Python"}


def compare_commands(local: KnowledgeGraph, remote: KnowledgeGraph, env: dict) -> list[str]:
    """kg cite, kg report, kg path and kg decide over both stores: the commands whose
    output differs (each must succeed and print something)."""
    differ = []
    for args in (["cite", "wfr:temporal"],
                 ["cite", "--query", "engine-backends", "--param", "engine=wfr:temporal",
                  "--format", "csl-json"],
                 ["report", "table", "engine-backends", "-p", "engine=wfr:temporal"],
                 ["report", "progress", "--format", "md"],
                 ["path", "wfr:temporal", "wfr:payment-atomicity"],
                 ["path", "wfr:temporal", "wfr:payment-atomicity", "--evidence", "verified"],
                 ["decide", "--require", "guarantee=wfr:durability",
                  "--require", "language=Python"]):
        expected = cli(local, *args)
        assert expected.strip(), args
        got = cli(remote, *args, env=env)
        if args[0] in ("path", "decide"):  # ties come in the store's row order
            got, expected = _loose(got), _loose(expected)
        if got != expected:
            differ.append(" ".join(args))
    return differ


def _loose(text: str) -> list:
    """Lines without their rank number, each as the sorted list of its '; ' parts, sorted:
    kg path and kg decide order equal-ranked answers as the store lists them."""
    return sorted(sorted(re.sub(r"^\s*\d+\. ", "", line).split("; "))
                  for line in text.splitlines())


def compare_service(local: KnowledgeGraph, remote: KnowledgeGraph) -> None:
    """The pages' machine twins (and the HTML pages' status) from the service over each."""
    paths = ["/api/search?q=saga", "/api/search?q=%E4%BA%8B%E4%BB%B6%E6%BA%AF%E6%BA%90",
             "/api/graph/path?from=wfr:tla-plus&to=wfr:payment-atomicity",
             "/api/progress"]
    pages = ["/", "/resource/temporal", "/search?q=saga", "/graph/path?from=wfr:tla-plus"
             "&to=wfr:payment-atomicity", "/queries/engine-backends?engine=wfr:temporal",
             "/source/lamport1994tla", "/progress"]
    policy = Policy(time_limit=20)
    with TestClient(create_app(local, policy=policy, workers=1)) as here, \
            TestClient(create_app(remote, policy=policy, workers=1)) as there:
        for path in paths:
            a, b = here.get(path), there.get(path)
            assert a.status_code == b.status_code == 200, (path, b.text[:300])
            assert _stable(b.json()) == _stable(a.json()), path
        for path in pages:
            a, b = here.get(path), there.get(path, headers={"Accept": "text/html"})
            assert b.status_code == 200, (path, b.text[:300])
            assert _links(b.text) == _links(a.text), path
        turtle = {"Accept": "text/turtle"}
        a = here.get("/resource/temporal", headers=turtle)
        b = there.get("/resource/temporal", headers=turtle)
        assert _ground(b.content) == _ground(a.content)


def _stable(answer):
    """A search answer as its hits (entity, type, status): which of an entity's several
    labels is shown depends on the order a store lists them in."""
    if isinstance(answer, dict) and "results" in answer and "facets" in answer:
        return {**answer, "results": [{k: v for k, v in hit.items()
                                       if k in ("iri", "type", "status")}
                                      for hit in answer["results"]]}
    return _unordered(answer)


def _unordered(value):
    """Lists as sorted lists (the order of nodes, links and rows is the store's)."""
    if isinstance(value, dict):
        return {k: _unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_unordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="(/(?:resource|source|queries)/[^"]*)"', html))


def _ground(turtle: bytes) -> set[str]:
    return {str(t) for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}
