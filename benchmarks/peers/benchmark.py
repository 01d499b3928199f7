"""Benchmarks with named baselines, measured on this machine in one run.

    .venv/bin/python benchmarks/peers/benchmark.py [--repeat N]

Prints, for each measured path, its median time, the baseline's median time and the
ratio (baseline / ours: above 1 means ours is faster). Baselines:

- validation: pySHACL over an rdflib graph (the SPARQL-based shapes once per focus node,
  its own way) against ours: every constraint as SPARQL, one pass per constraint, over
  the build's pyoxigraph store; same shapes and data;
- queries: every named query on rdflib's SPARQL engine against pyoxigraph's, same
  dataset (the curated data, its derived triples and the inferred graph);
- builds: a no-op build (unchanged inputs) against a full build;
- updates: a one-label SPARQL update checked by what it touches (kg.pipeline.delta) against the
  same update with the whole graph revalidated and reasoned over.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyshacl
from rdflib import Graph

from kg import KnowledgeGraph
from kg.namespaces import PREFIXES
from kg.pipeline import delta
from kg.pipeline.build import build, compile_inputs
from kg.pipeline.shapes import validate_store
from kg.pipeline.update import apply_update
from kg.query.queries import with_values

ROOT = Path(__file__).resolve().parents[2]
ARGS = {"citations": {"entity": "wfr:temporal"},
        "connection": {"a": "wfr:temporal", "b": "wfr:durability"}}


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, ours: float, baseline_name: str, baseline: float) -> None:
    print(f"{name:38} {ours * 1000:10.1f} ms  {baseline_name:28} {baseline * 1000:10.1f} ms"
          f"  x{baseline / ours:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        graph = KnowledgeGraph(ROOT, store=tmp)
        print(f"{'measured':38} {'ours':>13}  {'baseline':28} {'baseline':>13}  ratio")

        compiled = compile_inputs(graph.project)
        data = compiled.asserted()
        shapes = compiled.shapes.graph
        names = compiled.graph_names()
        ours = median_time(lambda: validate_store(compiled.store, shapes, graphs=names),
                           args.repeat)
        slow = median_time(lambda: pyshacl.validate(data, shacl_graph=shapes, advanced=True,
                                                    allow_warnings=True), 1)
        row("validation (all shapes)", ours, "pySHACL per focus node", slow)

        full = median_time(lambda: build(graph.project, force=True), 1)
        noop = median_time(lambda: build(graph.project), args.repeat)
        row("no-op build", noop, "full build", full)

        label = ("GRAPH <https://w3id.org/workflow-kg/graph/data/technologies.ttl> "
                 "{ wfr:temporal skos:altLabel 'Temporal.io'@en }")

        def add_and_remove() -> None:
            apply_update(graph.project, f"INSERT DATA {{ {label} }}")
            apply_update(graph.project, f"DELETE DATA {{ {label} }}")

        small = median_time(add_and_remove, args.repeat) / 2
        saved, delta.SMALL = delta.SMALL, 0  # every update takes the whole-graph path
        whole = median_time(add_and_remove, 1) / 2
        delta.SMALL = saved
        row("small update (one label)", small, "whole-graph check", whole)

        dataset = Graph().parse(data=graph.export("nt"), format="nt")
        prefix_block = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
        total_ours = total_rdflib = 0.0
        for named in graph.queries:
            text = with_values(named.text, named.bindings(ARGS.get(named.name, {})))
            ox_time = median_time(lambda t=text: graph.sparql(t).rows(), args.repeat)
            try:
                rdf_time = median_time(lambda t=text: list(dataset.query(prefix_block + t)), 1)
            except Exception as err:  # rdflib's engine fails on some valid queries
                print(f"query {named.name:32} rdflib failed: {type(err).__name__}: {err}")
                continue
            total_ours += ox_time
            total_rdflib += rdf_time
            row(f"query {named.name}", ox_time, "rdflib SPARQL engine", rdf_time)
        row("all named queries", total_ours, "rdflib SPARQL engine", total_rdflib)


if __name__ == "__main__":
    main()
