"""Page speed: server time of every kind of page at the curated size (target: under 200
ms each), and search at up to a million triples against the naive peer, a SPARQL scan
with CONTAINS per request on the same store, measured in the same run.

    python benchmarks/peers/pages.py [--repeats 15] [--search-triples 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "api"))

TARGET_MS = 200.0
HTML = {"Accept": "text/html"}
WF = "https://w3id.org/workflow-kg/ontology#"
WFR = "https://w3id.org/workflow-kg/resource/"


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def pages(repeats: int) -> None:
    from fastapi.testclient import TestClient

    from kg import KnowledgeGraph
    from kg.query.guard import Policy
    from kg_api import create_app

    graph = KnowledgeGraph(ROOT, store=tempfile.mkdtemp(prefix="kg-bench-pages-"))
    graph.build()
    statement = graph.sparql("SELECT ?st WHERE { ?st rdf:subject wfr:temporal ; "
                             "rdf:object wfr:timescaledb }").rows()[0]["st"].value
    paths = ["/", "/resource/temporal", "/" + statement.removeprefix(
        "https://w3id.org/workflow-kg/"), "/source/lamport1994tla", "/resource/temporal.ttl",
        "/search?q=saga", "/search?q=%E6%97%B6%E9%97%B4%E8%87%AA%E5%8A%A8%E6%9C%BA",
        "/graph", "/graph?focus=wfr:temporal&depth=2",
        "/graph/path?from=wfr:tla-plus&to=wfr:payment-atomicity",
        "/queries/engine-backends?engine=wfr:temporal", "/ontology", "/query"]
    from kg.pages.browse import overview

    print(f"pages at the curated size ({overview(graph).triples:,} triples), "
          f"server time in process, {repeats} repeats, target {TARGET_MS:.0f} ms")
    print(f"{'page':58} {'median ms':>10} {'p95 ms':>8} {'target/p95':>11}")
    with TestClient(create_app(graph, policy=Policy(time_limit=30), workers=2)) as client:
        for path in paths:
            def get(path=path):
                answer = client.get(path, headers=HTML)
                assert answer.status_code == 200, (path, answer.status_code)
            median, p95 = timed(get, repeats)
            flag = "" if p95 <= TARGET_MS else "  over target"
            print(f"{path[:58]:58} {median:10.1f} {p95:8.1f} {TARGET_MS / p95:10.1f}x{flag}")


class MemoryStore:
    """An in-memory pyoxigraph store with the query interface the catalogue reads."""

    def __init__(self, store: ox.Store, name: str):
        self._store = store
        self.path = name
        self.info: dict = {}

    def solutions(self, sparql: str):
        from kg.namespaces import PREFIXES

        result = self._store.query(sparql, prefixes=PREFIXES)
        names = [v.value for v in result.variables]
        for solution in result:
            yield tuple(solution[name] for name in names)

    def query(self, sparql: str, **_):
        from kg.namespaces import PREFIXES
        from kg.query.results import QueryResult

        return QueryResult.from_pyoxigraph(self._store.query(sparql, prefixes=PREFIXES))


def synthetic(triples: int) -> MemoryStore:
    """Entities with English and Chinese labels, a definition and a type: 4 triples each,
    plus one statement per 4 entities (5 triples) so statuses and claims are present."""
    store = ox.Store()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    definition = ox.NamedNode("http://www.w3.org/2004/02/skos/core#definition")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    kinds = [ox.NamedNode(WF + k) for k in ("Technology", "Theory", "Mechanism", "Course")]
    words = ["saga", "durable", "workflow", "ledger", "replay", "timer", "shard", "queue"]
    zh = ["事件溯源", "时间自动机", "工作流", "补偿", "重放", "定时器", "分片", "队列"]
    quads, n = [], 0
    while len(quads) < triples:
        e = ox.NamedNode(f"{WFR}synthetic-{n}")
        w = words[n % len(words)]
        quads += [ox.Quad(e, rdf_type, kinds[n % 4]),
                  ox.Quad(e, label, ox.Literal(f"{w} entity {n}", language="en")),
                  ox.Quad(e, label, ox.Literal(f"{zh[n % len(zh)]} {n}", language="zh")),
                  ox.Quad(e, definition, ox.Literal(f"A synthetic {w} thing number {n}.",
                                                     language="en"))]
        n += 1
    store.bulk_extend(quads[:triples])
    return MemoryStore(store, f"synthetic-{triples}")


def search_at_scale(triples: int, repeats: int) -> None:
    from kg.evidence.catalogue import build_catalogue
    from kg.pages.search import search

    store = synthetic(triples)
    start = time.perf_counter()
    cat = build_catalogue(store)
    search(cat, "warm-up")  # builds the search index
    index_s = time.perf_counter() - start
    print(f"\nsearch at {triples:,} triples: index built once per store version in "
          f"{index_s:.1f} s")
    print(f"{'query':18} {'index ms':>9} {'SPARQL scan ms':>15} {'speed-up':>9}")
    scan = ("SELECT ?s ?l WHERE {{ ?s rdfs:label|skos:altLabel|skos:definition ?l "
            "FILTER (CONTAINS(LCASE(STR(?l)), {})) }}")
    for q in ["saga entity 12345", "时间自动机 7", "replay", "补偿"]:
        index_ms, _ = timed(lambda q=q: search(cat, q, limit=50), repeats)

        def peer(q=q):
            return sum(1 for _ in store.query(scan.format(ox.Literal(q.lower()))).rows())
        scan_ms, _ = timed(peer, max(3, repeats // 3))
        print(f"{q:18} {index_ms:9.1f} {scan_ms:15.1f} {scan_ms / index_ms:8.1f}x")
    print("(both find every match; the index also ranks them and counts the facets)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--search-triples", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    pages(args.repeats)
    search_at_scale(args.search_triples, args.repeats)


if __name__ == "__main__":
    main()
