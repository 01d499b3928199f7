"""Remote stores beside the embedded one: the generated graph pushed with `kg push` to
Oxigraph server and to Virtuoso, then the named queries and a small write through
`kg serve --endpoint ...` over each, and the same through `kg serve` on the embedded store.

    .venv/bin/python benchmarks/peers/remote.py [--sizes 100k[,1M]] [--out remote-results.json]
    .venv/bin/python benchmarks/peers/remote.py --markdown remote-results.json

For each size it generates the data and builds it as run.py does, then, for each remote
store (started here on loopback, empty, and stopped afterwards: `oxigraph serve`, and
Virtuoso as kg.lab.local.start_virtuoso starts it):

- push: wall time of the first `kg push` (into the empty store) and of a second one
  (nothing changed, so it must send no graph);
- queries: a `kg serve --endpoint` over the store (a store folder of its own, the update
  token set), each named query through `/api/queries/NAME` with run.py's ARGS as
  parameters (the queries' header examples name curated entities the generated data
  lacks): *cold*, the first answer after the service started and said its pages were
  prepared; *warm*, the median of up to --repeat more (over the embedded store the
  service's answer cache answers these; over a remote store there is no answer cache);
  *uncached*, the median of up to --repeat of the same query as SPARQL text through
  `/sparql`, each text new (run.py's `cold`), so no cache can answer;
- write: --writes small authorised updates (one skos:altLabel INSERT DATA each, with the
  update token, over HTTP): the first (it starts the service's writer) and the median of
  the others.

The embedded store is measured last, the same way, by `kg serve` over the built store.
Ratios are remote / embedded times from the same run: above 1, the remote store is slower.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import httpx

from kg.lab.local import VIRTUOSO_ENV, free_port, start_virtuoso, virtuoso_missing, wait_until_up

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import parse_size, write_project  # noqa: E402
from run import (  # noqa: E402
    ARGS,
    cold,
    load,
    measure_build,
    named_texts,
    stop_process,
    summary,
    timed,
    wait_pages_ready,
)
from update import TOKEN, write_targets  # noqa: E402

STORES = ("oxigraph", "virtuoso")
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"


# ------------------------------------------------------------------ the stores
@contextmanager
def remote_store(kind: str, folder: Path):
    """(endpoint, environment with the credentials) of a running, empty store."""
    if kind == "oxigraph":
        port = free_port()
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "oxigraph"), "serve", "--location", str(folder),
             "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process, 60)
            yield f"http://127.0.0.1:{port}/query", {}
        finally:
            stop_process(process)
        return
    server = start_virtuoso(folder / "db")
    try:
        yield server.endpoint, VIRTUOSO_ENV
    finally:
        server.stop()


REMOTE_SETTINGS = ("KG_ENDPOINT", "KG_UPDATE_ENDPOINT", "KG_STORE_ENDPOINT", "KG_STORE_KIND",
                   "KG_REMOTE_USER", "KG_REMOTE_PASSWORD", "KG_REMOTE_TOKEN", "KG_UPDATE_TOKEN")


def _environment(extra: dict) -> dict:
    """This process's environment without any remote store or token of its own, and
    `extra`."""
    return {**{k: v for k, v in os.environ.items() if k not in REMOTE_SETTINGS}, **extra}


def push(project: Path, endpoint: str, kind: str, env: dict) -> dict:
    """One `kg push`: wall seconds (the whole command) and what it says it sent."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "--project", str(project), "--endpoint", endpoint,
         "--store-kind", kind, "push"], env=_environment(env), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"kg push to {kind} failed: {done.stderr[-2000:]}")
    said = done.stdout.strip().splitlines()[-1]
    sent = re.search(r"in (\d+) graph\(s\)", said)
    requests = re.search(r"\((\d+) write requests\)", said)
    return {"seconds": seconds, "graphs_sent": int(sent.group(1)) if sent else 0,
            "write_requests": int(requests.group(1)) if requests else 0, "said": said}


@contextmanager
def service(project: Path, workdir: Path, *, time_limit: float, endpoint: str | None = None,
            kind: str | None = None, env: dict | None = None):
    """`kg serve` with the update token, over `endpoint` (a store folder of its own) or
    the project's embedded store: (base URL, seconds until its pages were prepared)."""
    remote = [] if endpoint is None else [
        "--store", str(workdir / "service-store"), "--endpoint", endpoint, "--store-kind", kind]
    port = free_port()
    log = workdir / "kg-serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "--project", str(project), *remote, "serve",
             "--port", str(port), "--time-limit", str(time_limit)],
            env=_environment({**(env or {}), "KG_UPDATE_TOKEN": TOKEN}),
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz", process, 300)
        yield base, wait_pages_ready(base)
    except BaseException:
        print(f"kg serve said:\n{log.read_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        stop_process(process)


# ------------------------------------------------------------------ measuring
def measure_queries(base: str, texts: dict[str, str], *, repeat: int, budget: float,
                    time_limit: float) -> dict:
    """Per named query: cold (first answer), warm (median of the repeats, with how many
    the answer cache gave) and uncached (new SPARQL texts through /sparql), in ms."""
    rows: dict = {}
    with httpx.Client(timeout=time_limit + 30) as http:
        for name, text in texts.items():
            hits: list[bool] = []
            failures: list[str] = []

            def ask(name: str = name, hits: list = hits, failures: list = failures) -> None:
                response = http.get(f"{base}/api/queries/{name}",
                                    params={**ARGS.get(name, {}), "format": "json"})
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                hits.append(response.headers.get("X-KG-Cache") == "hit")

            first = timed(ask, 1, budget)[0]
            warm = timed(ask, repeat, budget)
            row: dict = {"cold_ms": 1000 * first, "warm": summary(warm),
                         "warm_cache_hits": sum(hits[1:])}
            if failures:
                row["error"] = failures[0]
            row["uncached"] = load(base + "/sparql", lambda c, i, t=text: cold(t), clients=1,
                                   requests=repeat, seconds=budget + time_limit)
            rows[name] = row
    return rows


def measure_writes(base: str, targets: list[tuple[str, str]]) -> dict:
    """Small authorised updates through the service, one after another: the first (it
    starts the writer) apart, then the median of the others, in ms. A refused write
    (over the service's time limit, say) ends the row with the answer it got."""
    times: list[float] = []
    checked: list[str] = []
    with httpx.Client(timeout=1800) as http:
        for n, (entity, graph_iri) in enumerate(targets):
            text = (f"INSERT DATA {{ GRAPH <{graph_iri}> {{ <{entity}> <{SKOS_ALT}> "
                    f"\"remote bench {n}\"@en }} }}")
            started = time.perf_counter()
            response = http.post(base + "/update", content=text, headers={
                "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"})
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                return {"error": f"write {n}: {response.status_code} {response.text[:300]}",
                        "failed_after_ms": 1000 * times[-1], "n": n}
            checked.append(response.json().get("checked", "?"))
    rest = times[1:] or times
    return {"first_ms": 1000 * times[0], "median_ms": 1000 * statistics.median(rest),
            "n": len(times), "checked": checked}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure_service(project: Path, workdir: Path, texts: dict[str, str],
                    targets: list[tuple[str, str]], args, **remote) -> dict:
    out: dict = {"load_before": load_average()}
    with service(project, workdir, time_limit=args.time_limit, **remote) as (base, ready):
        out["pages_ready_s"] = ready
        out["queries"] = measure_queries(base, texts, repeat=args.repeat, budget=args.budget,
                                         time_limit=args.time_limit)
        out["write"] = measure_writes(base, targets)
    out["load_after"] = load_average()
    return out


def measure_size(size: str, args, result: dict, save: Callable[[], None]) -> None:
    """Fill `result` for one size, calling `save` after each store (a long run that is
    stopped keeps what it measured)."""
    from kg import KnowledgeGraph

    with tempfile.TemporaryDirectory(prefix=f"kg-bench-remote-{size}-") as tmp:
        work = Path(tmp)
        project = write_project(work / "project", parse_size(size), args.seed)
        result["build"] = measure_build(project)
        graph = KnowledgeGraph(project)
        result["triples"] = sum(graph.stats().graphs.values())
        result["graphs"] = len(graph.stats().graphs)
        texts = named_texts(graph)
        targets = write_targets(graph, args.writes)
        result["stores"] = {}
        for kind in args.stores.split(","):
            if kind == "virtuoso" and virtuoso_missing():
                result["stores"][kind] = {"skipped": virtuoso_missing()}
                continue
            folder = work / kind
            folder.mkdir()
            with remote_store(kind, folder) as (endpoint, env):
                row: dict = {"load_before_push": load_average(),
                             "push_first": push(project, endpoint, kind, env),
                             "push_second": push(project, endpoint, kind, env)}
                row.update(measure_service(project, folder, texts, targets, args,
                                           endpoint=endpoint, kind=kind, env=env))
            result["stores"][kind] = row
            print_store(kind, row)
            save()
        result["embedded"] = measure_service(project, work, texts, targets, args)
        print_store("embedded", result["embedded"])


# ------------------------------------------------------------------ report
def _ms(row: dict | None, key: str) -> float | None:
    if not row or "error" in row:
        return None
    if key == "cold":
        return row["cold_ms"]
    part = row[key]
    return part.get("median_ms") if part.get("n") else None


def _cell(value: float | None, width: int = 9) -> str:
    return f"{value:{width}.1f}" if value is not None else f"{'-':>{width}}"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "fails" if value is None else f"{value:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}" if a / b < 0.1 else f"{a / b:.1f}"


def print_store(name: str, row: dict) -> None:
    if "push_first" in row:
        p1, p2 = row["push_first"], row["push_second"]
        print(f"{name}: first push {p1['seconds']:.1f} s ({p1['graphs_sent']} graphs), second "
              f"{p2['seconds']:.1f} s ({p2['graphs_sent']} graphs)")
    w = row["write"]
    print(f"{name}: pages prepared {row['pages_ready_s']:.1f} s after the start; small write "
          f"first {_fmt(w.get('first_ms'), 0)} ms, then median {_fmt(w.get('median_ms'), 0)} "
          f"ms{'; ' + w['error'] if 'error' in w else ''}; load "
          f"{row['load_before']} -> {row['load_after']}")


def totals(queries: dict, key: str) -> float | None:
    values = [_ms(row, key) for row in queries.values()]
    return None if any(v is None for v in values) else sum(values)


def print_tables(size: str, result: dict) -> None:
    stores = [k for k, v in result["stores"].items() if "skipped" not in v]
    embedded = result["embedded"]["queries"]
    print(f"\n== {size} ({result['triples']} triples, {result['graphs']} graphs) ==")
    print(f"{'named query (ms)':28} {'emb cold':>9} {'emb warm':>9} {'emb unc':>9}" + "".join(
        f" {s[:8] + ' cold':>13} {'warm':>9} {'unc':>9} {'x cold':>6} {'x unc':>6}"
        for s in stores))
    for name, row in embedded.items():
        line = f"{name:28} {_cell(_ms(row, 'cold'))} {_cell(_ms(row, 'warm'))} " \
               f"{_cell(_ms(row, 'uncached'))}"
        for s in stores:
            there = result["stores"][s]["queries"].get(name)
            line += (f" {_cell(_ms(there, 'cold'), 13)} {_cell(_ms(there, 'warm'))} "
                     f"{_cell(_ms(there, 'uncached'))} "
                     f"{_ratio(_ms(there, 'cold'), _ms(row, 'cold')):>6} "
                     f"{_ratio(_ms(there, 'uncached'), _ms(row, 'uncached')):>6}")
        print(line)
    line = f"{'all (sum)':28} {_cell(totals(embedded, 'cold'))} " \
           f"{_cell(totals(embedded, 'warm'))} {_cell(totals(embedded, 'uncached'))}"
    for s in stores:
        there = result["stores"][s]["queries"]
        line += (f" {_cell(totals(there, 'cold'), 13)} {_cell(totals(there, 'warm'))} "
                 f"{_cell(totals(there, 'uncached'))} "
                 f"{_ratio(totals(there, 'cold'), totals(embedded, 'cold')):>6} "
                 f"{_ratio(totals(there, 'uncached'), totals(embedded, 'uncached')):>6}")
    print(line)
    w = result["embedded"]["write"]
    for s in stores:
        r = result["stores"][s]
        print(f"{s}: push {r['push_first']['seconds']:.1f} s, second push "
              f"{r['push_second']['seconds']:.1f} s ({r['push_second']['graphs_sent']} graphs); "
              f"small write {_fmt(r['write'].get('first_ms'), 0)} / "
              f"{_fmt(r['write'].get('median_ms'), 0)} ms (first / then), embedded "
              f"{_fmt(w.get('first_ms'), 0)} / {_fmt(w.get('median_ms'), 0)} ms "
              f"(x{_ratio(r['write'].get('median_ms'), w.get('median_ms'))})")


def markdown(results: dict) -> str:
    """The tables of BENCHMARKS.md's "Remote stores", from a results file."""
    lines: list[str] = []
    for size, r in results["sizes"].items():
        if "embedded" not in r:
            lines += [f"### {size}: stopped before the embedded store was measured", ""]
            continue
        stores = [k for k, v in r["stores"].items() if "skipped" not in v]
        emb = r["embedded"]
        names = {"oxigraph": "Oxigraph server", "virtuoso": "Virtuoso"}
        lines += [f"### {size} ({r['triples']} triples in {r['graphs']} graphs)", "",
                  "| | " + " | ".join(names[s] for s in stores) + " | embedded |",
                  "|---|" + "---:|" * (len(stores) + 1)]
        lines.append("| first `kg push` s (graphs) | " + " | ".join(
            f"{r['stores'][s]['push_first']['seconds']:.1f} "
            f"({r['stores'][s]['push_first']['graphs_sent']})" for s in stores) + " | - |")
        lines.append("| second `kg push` s (graphs) | " + " | ".join(
            f"{r['stores'][s]['push_second']['seconds']:.1f} "
            f"({r['stores'][s]['push_second']['graphs_sent']})" for s in stores) + " | - |")
        lines.append("| pages prepared, s after the start | " + " | ".join(
            f"{r['stores'][s]['pages_ready_s']:.1f}" for s in [*stores]) +
            f" | {emb['pages_ready_s']:.1f} |")
        lines.append("| small write, first ms | " + " | ".join(
            _fmt(r['stores'][s]['write'].get('first_ms'), 0) for s in stores) +
            f" | {_fmt(emb['write'].get('first_ms'), 0)} |")
        then = emb["write"].get("median_ms")
        lines.append(f"| small write, median of the next {emb['write']['n'] - 1} ms | " +
                     " | ".join(f"{_fmt(r['stores'][s]['write'].get('median_ms'), 0)} "
                                f"(x{_ratio(r['stores'][s]['write'].get('median_ms'), then)})"
                                for s in stores) + f" | {_fmt(then, 0)} |")
        lines += ["", "| named query (median ms) | embedded cold | embedded warm | embedded "
                  "uncached | " + " | ".join(f"{names[s]} cold | uncached | x cold | x uncached"
                                             for s in stores) + " |",
                  "|---|---:|---:|---:|" + "---:|---:|---:|---:|" * len(stores)]
        rows = [(name, q, [r["stores"][s]["queries"].get(name) for s in stores])
                for name, q in emb["queries"].items()]
        for name, q, there in rows:
            cells = [_fmt(_ms(q, "cold")), _fmt(_ms(q, "warm"), 2), _fmt(_ms(q, "uncached"))]
            for t in there:
                cells += [_fmt(_ms(t, "cold")), _fmt(_ms(t, "uncached")),
                          _ratio(_ms(t, "cold"), _ms(q, "cold")),
                          _ratio(_ms(t, "uncached"), _ms(q, "uncached"))]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        e = emb["queries"]
        cells = [_fmt(totals(e, k), 0) for k in ("cold", "warm", "uncached")]
        for s in stores:
            t = r["stores"][s]["queries"]
            cells += [_fmt(totals(t, "cold"), 0), _fmt(totals(t, "uncached"), 0),
                      _ratio(totals(t, "cold"), totals(e, "cold")),
                      _ratio(totals(t, "uncached"), totals(e, "uncached"))]
        lines += [f"| **all {len(e)}** | " + " | ".join(cells) + " |", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k")
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("remote-results.json"))
    parser.add_argument("--repeat", type=int, default=5, help="warm and uncached timings per query")
    parser.add_argument("--budget", type=float, default=10.0,
                        help="seconds per query and kind of timing, at most")
    parser.add_argument("--writes", type=int, default=4, help="small writes per service")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="the services' query time limit")
    parser.add_argument("--markdown", type=Path, metavar="RESULTS",
                        help="print the tables of a results file as Markdown, run nothing")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                           "cpus": os.cpu_count(), "uptime_at_start": uptime},
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "sizes": {}}
    def save() -> None:
        results["machine"]["uptime_at_end"] = subprocess.run(
            ["uptime"], capture_output=True, text=True).stdout.strip()
        args.out.write_text(json.dumps(results, indent=1))

    for size in args.sizes.split(","):
        results["sizes"][size] = {}
        measure_size(size, args, results["sizes"][size], save)
        print_tables(size, results["sizes"][size])
        save()
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
