"""Side-by-side benchmark: our build, store and service against rdflib, an in-memory
pyoxigraph store, Oxigraph's own server and rdflib-endpoint, over the same synthetic data.

    .venv/bin/python benchmarks/peers/run.py [--sizes 10k,100k,1M] [--out results.json]

For each size it generates the data (benchmarks/peers/generate.py), then measures:

- build: each stage of `kg build` (parse and derive, SHACL, OWL RL reasoning, load) and
  the build process's peak memory;
- embedded: every named query, median and p95, on our on-disk store, rdflib (plain and
  prepared queries) and an in-memory pyoxigraph store holding the same quads;
- http: throughput and p50/p99 at 1, 4 and 16 clients for the named-query mix, a
  selective lookup and an aggregate join, against `kg serve`, `oxigraph
  serve-read-only` and rdflib-endpoint, each started here on loopback and stopped;
  warm rows repeat the same texts, cold rows make every text new (no cache can help);
- stress: the cheap lookup's p99 and error rate while clients loop runaway queries;
- update: small authorised SPARQL updates over HTTP (validated, reasoned, swapped in),
  side by side with Oxigraph server on a copy of the same store (update.py).

Every client uses its own loopback address (127.0.0.N), as distinct users would. Every
row is bounded in requests and seconds. Ratios are ours / theirs from the same run
(above 1: ours is better). Nothing here is a unit test: timings live only here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from kg.lab.local import free_port, wait_until_up

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import parse_size, write_project  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WFR = "https://w3id.org/workflow-kg/resource/"
# parameters for the generated data (cases-by-technology's default, wfr:temporal, names
# nothing in it)
ARGS = {"citations": {"entity": "wfr:engine-a-0"},
        "connection": {"a": "wfr:engine-a-0", "b": "wfr:prop-atomic-0"},
        "cases-by-technology": {"tech": "wfr:engine-a-0"}}
LOOKUP = "SELECT ?label WHERE {{ <{iri}> rdfs:label ?label }}"
AGGREGATE = ("SELECT ?p ?status (COUNT(*) AS ?n) WHERE { ?st a wf:Statement ; rdf:predicate ?p ; "
             "wf:evidenceStatus ?status ; cito:citesAsEvidence ?src . ?src wf:sourceKind ?kind } "
             "GROUP BY ?p ?status ORDER BY ?p ?status")
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SPARQL_JSON = "application/sparql-results+json"


# ------------------------------------------------------------------ helpers
def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    if not ordered:
        return {"n": 0}

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"n": len(ordered), "median_ms": statistics.median(ordered) * 1000,
            "p95_ms": pct(0.95) * 1000, "p99_ms": pct(0.99) * 1000}


def timed(fn: Callable[[], object], repeat: int, budget: float) -> list[float]:
    """Up to `repeat` timings, fewer once `budget` seconds are spent."""
    times: list[float] = []
    spent = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        spent += times[-1]
        if spent > budget:
            break
    return times


def prefix_block() -> str:
    from kg.namespaces import PREFIXES

    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def named_texts(graph) -> dict[str, str]:
    """Every named query as self-contained SPARQL (prefixes declared, parameters bound)."""
    from kg.query.queries import with_values

    head = prefix_block()
    return {q.name: head + with_values(q.text, q.bindings(ARGS.get(q.name, {})))
            for q in graph.queries}


# ------------------------------------------------------------------ build
def _build_child(project: str) -> None:
    """Run in a child process: build, print stage times and peak memory as JSON."""
    from kg.pipeline.build import build
    from kg.pipeline.project import find_project

    def cpu() -> float:  # the build's and its finished workers' (the reasoning's parts)
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    marks: list[tuple[str, float, float]] = [("start", time.perf_counter(), cpu())]
    build(find_project(project, None), force=True,
          progress=lambda m: marks.append((m, time.perf_counter(), cpu())))
    stages = {"parse_derive": "validating", "shacl": "materialising",
              "reasoning": "loading into", "load": "built "}
    out: dict = {}
    previous = marks[0]
    for stage, prefix in stages.items():
        mark = next(m for m in marks if m[0].startswith(prefix))
        out[stage] = mark[1] - previous[1]
        out[f"{stage}_cpu"] = mark[2] - previous[2]  # CPU seconds: robust on a busy machine
        previous = mark
    out["total"] = marks[-1][1] - marks[0][1]
    out["total_cpu"] = marks[-1][2] - marks[0][2]
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure_build(project: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--build-child", str(project)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_update(graph, pause: float, repeat: int = 10) -> dict:
    """Small authorised updates over HTTP, side by side with Oxigraph server (update.py):
    back to back, then each after `pause` seconds."""
    sys.path.insert(0, str(Path(__file__).parent))
    from update import measure

    out = measure(graph.project.root, repeat=repeat, pause=pause)
    out["seconds"] = out["kg"]["median_ms"] / 1000
    return out


# ------------------------------------------------------------------ embedded
def in_child(fn: Callable[[], dict], seconds: float) -> dict:
    """`fn()` in a forked child process, stopped after `seconds` (rdflib's engine cannot
    be interrupted otherwise; the child shares the loaded data copy-on-write)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(fn())
        except Exception as err:  # rdflib's engine rejects some valid SPARQL
            send.send({"error": f"{type(err).__name__}: {str(err)[:120]}"})

    process = context.Process(target=child)
    process.start()
    try:
        if receive.poll(seconds):
            return receive.recv()
        return {"error": f"over {seconds:g} s"}
    finally:
        process.kill()
        process.join()


def measure_embedded(graph, repeat: int, budget: float) -> dict:
    import pyoxigraph as ox
    from rdflib import Dataset
    from rdflib.plugins.sparql import prepareQuery

    from kg.namespaces import PREFIXES
    from kg.pipeline.store import WARM_QUERIES

    store = graph.store
    for _ in range(WARM_QUERIES):  # ours as a long-lived process has it: in memory
        store.query("ASK { ?s ?p ?o }")
    memory = ox.Store()
    memory.bulk_extend(store.quads())
    dataset = Dataset(default_union=True)
    dataset.parse(data=graph.export("nq"), format="nquads")
    texts = named_texts(graph)
    rows = {}
    for name, text in texts.items():
        row: dict = {}
        row["ours"] = summary(timed(lambda t=text: store.query(t).payload, repeat, budget))
        row["pyoxigraph_memory"] = summary(timed(
            lambda t=text: memory.query(t, use_default_graph_as_union=True, prefixes=PREFIXES
                                        ).serialize(format=ox.QueryResultsFormat.JSON),
            repeat, budget))
        plain = in_child(lambda t=text: summary(timed(lambda: list(dataset.query(t)),
                                                     repeat, budget)), 3 * budget)
        def run_prepared(t: str = text) -> dict:
            query = prepareQuery(t)
            return summary(timed(lambda: list(dataset.query(query)), repeat, budget))

        prepared = in_child(run_prepared, 3 * budget)
        for key, value in (("rdflib", plain), ("rdflib_prepared", prepared)):
            if "error" in value:
                row[f"{key}_error"] = value["error"]
            else:
                row[key] = value
        rows[name] = row
    return rows


# ------------------------------------------------------------------ http
class Servers:
    """kg serve, oxigraph serve-read-only and rdflib-endpoint over one built store."""

    def __init__(self, graph, workdir: Path, *, time_limit: float):
        self.processes: list[subprocess.Popen] = []
        self.urls: dict[str, str] = {}
        bin_dir = Path(sys.executable).parent
        live = graph.store.path
        nt = workdir / "all.nt"
        nt.write_bytes(graph.export("nt"))
        commands = {
            "kg": [sys.executable, "-m", "kg.cli", "--project", str(graph.project.root),
                   "serve", "--port", "{port}", "--time-limit", str(time_limit)],
            "oxigraph": [str(bin_dir / "oxigraph"), "serve-read-only", "--location",
                         str(live), "--bind", "127.0.0.1:{port}", "--union-default-graph",
                         "--timeout-s", str(int(time_limit))],
            "rdflib_endpoint": [str(bin_dir / "rdflib-endpoint"), "serve", "--host",
                                "127.0.0.1", "--port", "{port}", str(nt)],
        }
        self.commands = commands
        self.paths = {"kg": "/sparql", "oxigraph": "/query", "rdflib_endpoint": "/"}
        self.by_name: dict[str, subprocess.Popen] = {}
        try:
            for name in commands:
                self.start(name)
        except BaseException:
            self.stop()
            raise

    def start(self, name: str) -> None:
        port = free_port()
        process = subprocess.Popen([c.replace("{port}", str(port)) for c in self.commands[name]],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes.append(process)
        self.by_name[name] = process
        self.urls[name] = f"http://127.0.0.1:{port}{self.paths[name]}"
        wait_until_up(self.urls[name], process, seconds=300)

    def restart(self, name: str) -> None:
        """A fresh server: one with no time limit may still be busy with the abandoned
        requests of the previous row, which must not count against the next. It is
        killed, not asked to stop: a busy server takes seconds to finish a graceful
        shutdown, and nothing of its state is kept."""
        process = self.by_name[name]
        if process.poll() is None:
            process.kill()
            process.wait()
        self.start(name)

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(url: str, texts: Callable[[int, int], str] | None, *, clients: int, requests: int,
         seconds: float, first_address: int = 10,
         get: Callable[[int, int], tuple[str, dict]] | None = None) -> dict:
    """`clients` threads, each with its own loopback address, sending `texts(client, i)`
    (or GET `get(client, i)` = (path, params) under `url`'s origin) until `requests` in
    all or `seconds` have passed. `cache_hits` counts the answers the server says came
    from its answer cache (`X-KG-Cache: hit`); None when it never says (no such cache)."""
    times: list[float] = []
    errors = hits = reported = 0
    lock = threading.Lock()
    sent = [0]
    deadline = time.monotonic() + seconds
    origin = url.split("/", 3)[:3]

    def client(c: int) -> None:
        nonlocal errors, hits, reported
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{first_address + c}")
        with httpx.Client(transport=transport, timeout=seconds) as http:  # bounded
            i = 0
            while time.monotonic() < deadline:
                with lock:
                    if sent[0] >= requests:
                        return
                    sent[0] += 1
                start = time.perf_counter()
                cache = None
                try:
                    if get is not None:
                        path, params = get(c, i)
                        response = http.get("/".join(origin) + path, params=params,
                                            headers={"Accept": "text/html"})
                        ok = response.status_code == 200
                    else:
                        response = http.post(url, data={"query": texts(c, i)},
                                             headers={"Accept": SPARQL_JSON})
                        ok = response.status_code == 200 and _complete(response.content)
                    cache = response.headers.get("X-KG-Cache")
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - start
                with lock:
                    if ok:
                        times.append(elapsed)
                    else:
                        errors += 1
                    if cache is not None:
                        reported += 1
                        hits += cache == "hit"
                i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    result = summary(times)
    result.update(errors=errors, rps=len(times) / wall if wall else 0.0,
                  cache_hits=hits if reported else None)
    return result


def _complete(body: bytes) -> bool:
    """A whole SPARQL JSON answer (a server may send 200, then stop at its time limit)."""
    try:
        return "head" in json.loads(body)
    except ValueError:
        return False


# Cold texts are unique in the whole run (all clients, repeats, rows and sizes): no cache
# can answer them. The smoke test checks that the service reports 0 cache hits on them.
_COLD = itertools.count()
_RUN = uuid.uuid4().hex[:12]


def cold(text: str) -> str:
    return f"{text}\n# cold {_RUN} {next(_COLD)}"


def pss_mib(pid: int) -> float:
    """Proportional set size of a process and all its descendants, in MiB: shared pages
    (a forked worker's, the libraries') count once in all, split between the sharers."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup
                              if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(c) for c in children.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


class MemoryPeaks:
    """The servers' PSS (see pss_mib), sampled every quarter second while rows run."""

    def __init__(self, servers: Servers, names: tuple[str, ...] = ("kg", "oxigraph")):
        self.servers, self.names = servers, names
        self.peak = dict.fromkeys(names, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            for name in self.names:
                self.peak[name] = max(self.peak[name],
                                      pss_mib(self.servers.by_name[name].pid))

    def __enter__(self) -> MemoryPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_pages_ready(url: str, seconds: float = 600) -> float:
    """Seconds until our service says its pages are prepared (`/healthz`)."""
    origin = "/".join(url.split("/", 3)[:3])
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if httpx.get(origin + "/healthz", timeout=10).json().get("pages") == "ready":
            break
        time.sleep(0.05)
    return time.perf_counter() - start


def measure_http(graph, servers: Servers, *, clients: list[int], requests: int,
                 seconds: float, seed: int = 1) -> dict:
    """Warm rows repeat the same texts (the answer cache may answer), cold rows beside
    them send texts never sent before; `browse` (ours only: the peers have no pages) is a
    reader's mix of entity pages, searches and named-query routes with random
    parameters."""
    texts = list(named_texts(graph).values())
    head = prefix_block()
    entities = [f"{WFR}engine-a-{k}" for k in range(200)]
    mixes: dict[str, Callable[[int, int], str]] = {
        "named_warm": lambda c, i: texts[(c + i) % len(texts)],
        "named_cold": lambda c, i: cold(texts[(c + i) % len(texts)]),
        "lookup_warm": lambda c, i: head + LOOKUP.format(iri=entities[0]),
        "lookup_cold": lambda c, i: cold(head + LOOKUP.format(iri=entities[(c * 7 + i) % 200])),
        "aggregate_warm": lambda c, i: head + AGGREGATE,
        "aggregate_cold": lambda c, i: cold(head + AGGREGATE),
    }
    out: dict = {}
    wait_pages_ready(servers.urls["kg"])
    idle = {name: pss_mib(servers.by_name[name].pid) for name in ("kg", "oxigraph")}
    with MemoryPeaks(servers) as peaks:
        for mix, texts_for in mixes.items():
            for n in clients:
                for name in list(servers.urls):
                    row = load(servers.urls[name], texts_for, clients=n, requests=requests,
                               seconds=seconds)
                    out.setdefault(mix, {}).setdefault(str(n), {})[name] = row
                    if row["errors"] and name == "rdflib_endpoint":
                        servers.restart(name)
    memory = {name: {"idle_mib": idle[name], "peak_mib": peaks.peak[name]} for name in idle}
    blocks = graph.store.query("SELECT (COUNT(*) AS ?n) WHERE { ?e a wf:WorkflowEngine }")
    engines = max(1, int(next(iter(blocks.rows()))["n"].value) // 2)
    for n in clients:
        rng = [random.Random(f"{seed}-{n}-{c}") for c in range(n)]

        def browse(c: int, i: int, rng=rng) -> tuple[str, dict]:
            k = rng[c].randrange(engines)
            kind = i % 4
            if kind == 0:
                return f"/resource/engine-a-{k}", {}
            if kind == 1:
                return "/search", {"q": f"Engine A {k}"}
            if kind == 2:
                return "/api/queries/citations", {"entity": f"wfr:engine-a-{k}",
                                                  "format": "json"}
            return "/api/queries/connection", {"a": f"wfr:engine-a-{k}",
                                               "b": f"wfr:prop-atomic-{rng[c].randrange(engines)}",
                                               "format": "json"}

        out.setdefault("browse", {})[str(n)] = {"kg": load(
            servers.urls["kg"], None, clients=n, requests=requests, seconds=seconds,
            get=browse)}
    return out, memory


# "named_query_other" comes after "named_query": the same route with a parameter not asked
# before, so its first answer is a query the cache cannot answer after the per-version
# values are made (a named query's repeat is a cache hit: first / repeat alone cannot
# tell a slow start from the query's own time).
FIRST = {"home": ("/", {}), "search": ("/search", {"q": "engine"}),
         "entity": ("/resource/engine-a-0", {}), "graph": ("/graph", {}),
         "named_query": ("/api/queries/citations", {"entity": "wfr:engine-a-0",
                                                    "format": "json"}),
         "named_query_other": ("/api/queries/citations", {"entity": "wfr:engine-a-1",
                                                          "format": "json"})}


def measure_first(servers: Servers) -> tuple[dict, float]:
    """The first request of each kind after a fresh start, against a repeat of the same
    request: what a user meets after a start, build or update (every per-version value
    is made anew), in ms. Ours is asked once its health probe says the pages are
    prepared; the seconds after the start that took come second."""
    out: dict = {}
    servers.restart("kg")
    pages_ready = wait_pages_ready(servers.urls["kg"])
    origin = "/".join(servers.urls["kg"].split("/", 3)[:3])
    with httpx.Client(timeout=600) as http:
        for kind, (path, params) in FIRST.items():
            times = []
            for _ in range(2):
                start = time.perf_counter()
                response = http.get(origin + path, params=params, headers={"Accept": "text/html"})
                times.append((time.perf_counter() - start) * 1000)
            out[kind] = {"first_ms": times[0], "repeat_ms": times[1],
                         "status": response.status_code}
    for name in ("kg", "oxigraph"):
        servers.restart(name)
        text = prefix_block() + LOOKUP.format(iri=f"{WFR}engine-a-0")
        with httpx.Client(timeout=600) as http:
            times = []
            for _ in range(2):
                start = time.perf_counter()
                http.post(servers.urls[name], data={"query": text},
                          headers={"Accept": SPARQL_JSON})
                times.append((time.perf_counter() - start) * 1000)
        out[f"sparql_{name}"] = {"first_ms": times[0], "repeat_ms": times[1]}
    return out, pages_ready


def measure_stress(graph, servers: Servers, *, clients: int, seconds: float) -> dict:
    """`clients` clients, one in ten looping runaway queries, the others alternating
    selective lookups and named queries: the cheap ones' latency and error rate
    (rdflib-endpoint has no time limit, so it is left out: a runaway would never end)."""
    head = prefix_block()
    texts = list(named_texts(graph).values())
    runaway_clients = max(1, clients // 10)
    cheap_clients = clients - runaway_clients

    def cheap_text(c: int, i: int) -> str:
        if (c + i) % 2:
            return texts[(c + i) % len(texts)]
        return head + LOOKUP.format(iri=f"{WFR}engine-a-{(c * 7 + i) % 50}") + f"\n# {c}-{i}"

    out = {}
    for name in ("kg", "oxigraph"):
        url = servers.urls[name]
        stop = time.monotonic() + seconds
        runaway = threading.Thread(target=load, args=(url, lambda c, i: head + RUNAWAY
                                                      + f"\n# {c}-{i}"),
                                   kwargs={"clients": runaway_clients, "requests": 10**6,
                                           "seconds": seconds, "first_address": 100})
        runaway.start()
        time.sleep(min(2.0, seconds / 4))
        cheap = load(url, cheap_text, clients=cheap_clients, requests=10**6,
                     seconds=max(1.0, stop - time.monotonic()))
        runaway.join()
        out[name] = cheap
    return out


# ------------------------------------------------------------------ report
def ratios(http: dict) -> dict:
    """ours / theirs: throughput ratios per mix and client count."""
    out: dict = {}
    for mix, by_clients in http.items():
        for n, by_server in by_clients.items():
            ours = by_server["kg"]["rps"]
            out.setdefault(mix, {}).setdefault(n, {})
            for peer in ("oxigraph", "rdflib_endpoint"):
                if peer not in by_server:  # a mix only we can serve (pages)
                    continue
                theirs = by_server[peer].get("rps") or 0.0
                out.setdefault(mix, {}).setdefault(n, {})[peer] = (
                    round(ours / theirs, 2) if theirs else None)
    return out


def _hits(row: dict) -> str:
    """Answers from the answer cache out of all answered: what a reader must know to
    read a row's speed."""
    return "-" if row.get("cache_hits") is None else f"{row['cache_hits']}/{row['n']}"


def _peer(by_server: dict, name: str, key: str, fmt: str) -> str:
    row = by_server.get(name)
    return format(row.get(key, 0), fmt) if row else format("-", fmt[:-2].split(".")[0] + "s")


def print_tables(size: str, result: dict) -> None:
    print(f"\n== {size} triples ==")
    b = result["build"]
    print("build (wall / CPU s): " + ", ".join(
        f"{k} {v:.1f}/{b[k + '_cpu']:.1f}" for k, v in b.items() if k + "_cpu" in b)
          + f", peak {b['peak_rss_mib']:.0f} MiB")
    print(f"\n{'named query':32} {'ours':>9} {'ox mem':>9} {'rdflib':>9} {'prepared':>9}"
          "  (median ms)")
    for name, row in result["embedded"].items():
        def cell(key: str, row=row) -> str:
            return f"{row[key]['median_ms']:9.2f}" if key in row else f"{'fail':>9}"
        print(f"{name:32} {cell('ours')} {cell('pyoxigraph_memory')} {cell('rdflib')} "
              f"{cell('rdflib_prepared')}")
    if "http" in result:
        print(f"\n{'http mix':16} {'clients':>7} {'kg rps':>9} {'kg hits':>8} {'oxigraph':>9}"
              f" {'rdflib-ep':>9} {'kg p99':>9} {'ox p99':>9}  ours/ox  ours/rdflib-ep")
        for mix, by_clients in result["http"].items():
            for n, s in by_clients.items():
                r = result["ratios"][mix][n]
                kg = s["kg"]
                print(f"{mix:16} {n:>7} {kg['rps']:9.0f} "
                      f"{_hits(kg):>8} {_peer(s, 'oxigraph', 'rps', '9.0f')} "
                      f"{_peer(s, 'rdflib_endpoint', 'rps', '9.0f')} "
                      f"{kg.get('p99_ms', 0):9.1f} {_peer(s, 'oxigraph', 'p99_ms', '9.1f')}"
                      f"  {r.get('oxigraph')}  {r.get('rdflib_endpoint')}")
    if "first_request" in result:
        print(f"pages prepared {result.get('pages_ready_s', 0):.1f} s after the start")
        for kind, x in result["first_request"].items():
            print(f"first request {kind:18} {x['first_ms']:9.1f} ms, repeat "
                  f"{x['repeat_ms']:9.1f} ms (x{x['first_ms'] / max(x['repeat_ms'], 1e-9):.1f})")
    if "memory" in result:
        for name, m in result["memory"].items():
            print(f"memory {name:10} PSS {m['idle_mib']:.0f} MiB after start, "
                  f"{m['peak_mib']:.0f} MiB peak under load")
    if "stress" in result:
        for name, s in result["stress"].items():
            total = s["n"] + s["errors"]
            print(f"stress {name:10} cheap p50 {s.get('median_ms', float('nan')):9.1f} ms, "
                  f"p99 {s.get('p99_ms', float('nan')):9.1f} ms, errors {s['errors']}/{total}")
    if "update" in result:
        u = result["update"]
        print(f"small authorised update: {u['kg']['median_ms']:.1f} ms median (Oxigraph "
              f"server {u['oxigraph']['median_ms']:.1f} ms, {u['ratio']:.1f}x)")
        if "after_pause" in u:
            a = u["after_pause"]
            print(f"  after a pause of {a['pause_s']:g} s: {a['kg']['median_ms']:.1f} ms "
                  f"(Oxigraph server {a['oxigraph']['median_ms']:.1f} ms, {a['ratio']:.1f}x)")


def _after_pause(update: dict) -> str:
    a = update.get("after_pause")
    if not a:
        return ""
    return (f"; after a pause of {a['pause_s']:g} s, {a['kg']['median_ms']:.1f} ms against "
            f"{a['oxigraph']['median_ms']:.1f} ms ({a['ratio']:.1f}x)")


def markdown(results: dict) -> str:
    """The tables of BENCHMARKS.md, from a results file."""
    lines = []
    for size, r in results["sizes"].items():
        b = r["build"]
        lines += [f"### {size} ({r['triples']} triples in the store)", "",
                  "| build stage | wall s | CPU s |", "|---|---:|---:|"]
        lines += [f"| {k} | {b[k]:.1f} | {b[k + '_cpu']:.1f} |"
                  for k in ("parse_derive", "shacl", "reasoning", "load", "total")]
        lines += ["", f"Peak memory of the build: {b['peak_rss_mib']:.0f} MiB. "
                  f"Small authorised update over HTTP: {r['update']['kg']['median_ms']:.1f} ms "
                  f"median back to back, Oxigraph server "
                  f"{r['update']['oxigraph']['median_ms']:.1f} ms "
                  f"({r['update']['ratio']:.1f}x){_after_pause(r['update'])}.", "",
                  "| named query (median ms) | ours | pyoxigraph in memory | rdflib | "
                  "rdflib prepared | ours / memory | prepared / ours |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, q in r["embedded"].items():
            ours, mem = q["ours"]["median_ms"], q["pyoxigraph_memory"]["median_ms"]
            plain = f"{q['rdflib']['median_ms']:.1f}" if "rdflib" in q else "fails"
            prep = q.get("rdflib_prepared", {}).get("median_ms")
            lines.append(f"| {name} | {ours:.2f} | {mem:.2f} | {plain} | "
                         f"{f'{prep:.1f}' if prep else 'fails'} | {ours / mem:.1f} | "
                         f"{f'{prep / ours:.0f}' if prep else '-'} |")
        lines += ["", "| HTTP mix | clients | kg req/s | kg cache hits | Oxigraph req/s | "
                  "rdflib-endpoint req/s | kg p50/p99 ms | Oxigraph p50/p99 ms | kg / Oxigraph "
                  "| kg / rdflib-ep |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for mix, by_clients in r["http"].items():
            for n, row in by_clients.items():
                def lat(x: dict | None) -> str:
                    return (f"{x['median_ms']:.1f} / {x['p99_ms']:.0f}" if x and x["n"]
                            else "-")
                ratio = r["ratios"][mix][n]
                ox_row, rdf_row = row.get("oxigraph"), row.get("rdflib_endpoint")
                ox_rps = f"{ox_row['rps']:.0f}" if ox_row else "-"
                rdf_rps = f"{rdf_row['rps']:.1f}" if rdf_row else "-"
                rdf_ratio = ratio.get("rdflib_endpoint") or (
                    "peer answered none" if rdf_row else "-")
                lines.append(
                    f"| {mix} | {n} | {row['kg']['rps']:.0f} | {_hits(row['kg'])} | "
                    f"{ox_rps} | {rdf_rps} | {lat(row['kg'])} | {lat(ox_row)} | "
                    f"{ratio.get('oxigraph') or '-'} | {rdf_ratio} |")
        if "first_request" in r:
            lines += ["", "| first request after a start | first ms | repeat ms "
                      "| first / repeat |", "|---|---:|---:|---:|"]
            for kind, x in r["first_request"].items():
                lines.append(f"| {kind} | {x['first_ms']:.1f} | {x['repeat_ms']:.1f} | "
                             f"{x['first_ms'] / max(x['repeat_ms'], 1e-9):.1f} |")
            if "pages_ready_s" in r:
                lines += ["", f"Pages prepared {r['pages_ready_s']:.1f} s "
                          "after the service was up (asked after that)."]
        if "memory" in r:
            m = r["memory"]
            lines += ["", "| memory (PSS MiB, all processes) | after start | peak under "
                      "load |", "|---|---:|---:|"]
            lines += [f"| {name} | {m[name]['idle_mib']:.0f} | {m[name]['peak_mib']:.0f} |"
                      for name in m]
            lines.append(f"| kg / Oxigraph | {m['kg']['idle_mib'] / m['oxigraph']['idle_mib']:.1f}"
                         f" | {m['kg']['peak_mib'] / m['oxigraph']['peak_mib']:.1f} |")
        lines += ["", "| under stress | cheap p50 ms | cheap p99 ms | errors | answered |",
                  "|---|---:|---:|---:|---:|"]
        for name, x in r["stress"].items():
            total = x["n"] + x["errors"]
            lines.append(f"| {name} | {x.get('median_ms', 0):.1f} | {x.get('p99_ms', 0):.0f} | "
                         f"{x['errors']} ({100 * x['errors'] / max(total, 1):.1f} %) | "
                         f"{x['n']} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--repeat", type=int, default=7, help="timings per embedded query")
    parser.add_argument("--budget", type=float, default=5.0,
                        help="seconds per embedded query and engine, at most")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--requests", type=int, default=300, help="per HTTP row, at most")
    parser.add_argument("--seconds", type=float, default=10.0, help="per HTTP row, at most")
    parser.add_argument("--time-limit", type=float, default=5.0,
                        help="the servers' query time limit")
    parser.add_argument("--stress-clients", type=int, default=50,
                        help="clients of the stress row (one in ten runaway)")
    parser.add_argument("--markdown", type=Path, metavar="RESULTS",
                        help="print the tables of a results file as Markdown, run nothing")
    parser.add_argument("--build-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    if args.build_child:
        _build_child(args.build_child)
        return
    from kg import KnowledgeGraph

    results = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                           "cpus": os.cpu_count(), "processor": platform.processor()},
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "sizes": {}}
    clients = [int(c) for c in args.clients.split(",")]
    for size in args.sizes.split(","):
        with tempfile.TemporaryDirectory(prefix=f"kg-bench-{size}-") as tmp:
            project = write_project(Path(tmp) / "project", parse_size(size), args.seed)
            result: dict = {"build": measure_build(project)}
            graph = KnowledgeGraph(project)
            result["triples"] = sum(graph.stats().graphs.values())
            result["embedded"] = measure_embedded(graph, args.repeat, args.budget)
            servers = Servers(graph, Path(tmp), time_limit=args.time_limit)
            try:
                result["http"], result["memory"] = measure_http(
                    graph, servers, clients=clients, requests=args.requests,
                    seconds=args.seconds, seed=args.seed)
                result["ratios"] = ratios(result["http"])
                result["first_request"], result["pages_ready_s"] = measure_first(servers)
                result["stress"] = measure_stress(graph, servers, clients=args.stress_clients,
                                                  seconds=3 * args.seconds)
            finally:
                servers.stop()
            result["update"] = measure_update(graph, pause=min(1.0, args.seconds),
                                              repeat=min(10, args.requests))
            results["sizes"][size] = result
            print_tables(size, result)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
