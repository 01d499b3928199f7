"""Small authorised updates, side by side: `kg serve` (with an update token) and Oxigraph's
own server (`oxigraph serve`, read-write, on a copy of the same store) receive the same
small SPARQL updates over HTTP, interleaved, one at a time; each row is the round trip.

    .venv/bin/python benchmarks/peers/update.py --project /tmp/kg-100k --repeat 20

The updates: an alternative label added, then removed (INSERT DATA / DELETE DATA into the
graph of the entity's file), on entities taken in turn: first back to back (a script's
writes: each of ours also waits for the writer to open the next version after the
previous write), then each after a pause of `--pause` seconds (a person's edits)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKEN = "bench-update-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


def write_targets(graph, count: int) -> list[tuple[str, str]]:
    """(entity IRI, graph IRI) pairs: labelled entities of the data files."""
    rows = graph.sparql(f"""SELECT ?e ?g WHERE {{ GRAPH ?g {{ ?e a ?c ; rdfs:label ?l }}
        FILTER (STRSTARTS(STR(?g), "https://w3id.org/workflow-kg/graph/data/")) }}
        ORDER BY ?e LIMIT {count}""").rows()
    return [(r["e"].value, r["g"].value) for r in rows]


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"n": len(times), "median_ms": 1000 * statistics.median(ordered),
            "p90_ms": 1000 * ordered[int(0.9 * (len(ordered) - 1))],
            "min_ms": 1000 * ordered[0]}


def measure(project: Path, *, repeat: int = 10, pause: float = 1.0) -> dict:
    """Median and p90 round trips of small updates on both servers, and their ratio,
    back to back; under "after_pause", the same after a pause of `pause` seconds each."""
    from kg import KnowledgeGraph

    graph = KnowledgeGraph(project)
    targets = write_targets(graph, repeat)
    work = Path(tempfile.mkdtemp(prefix="kg-bench-update-"))
    processes = []
    try:
        copy = work / "oxigraph-store"
        shutil.copytree(graph.store.path, copy)
        kg_port, ox_port = _free_port(), _free_port()
        env = {**os.environ, "KG_UPDATE_TOKEN": TOKEN}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "--project", str(project), "serve", "--port",
             str(kg_port), "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True))
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "oxigraph"), "serve", "--location", str(copy),
             "--bind", f"127.0.0.1:{ox_port}"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True))
        kg_url, ox_url = f"http://127.0.0.1:{kg_port}", f"http://127.0.0.1:{ox_port}"
        _wait(kg_url + "/healthz", processes[0])
        _wait(ox_url + "/", processes[1])
        times: dict[str, list[float]] = {"kg": [], "oxigraph": []}
        paused: dict[str, list[float]] = {"kg": [], "oxigraph": []}
        paths: list[str] = []
        rounds = [(n, False) for n in range(2 * len(targets))] + [
            (n, True) for n in range(2 * len(targets))]
        with httpx.Client(timeout=600) as http:
            for n, after_pause in rounds:
                entity, graph_iri = targets[n % len(targets)]
                verb = "INSERT" if n < len(targets) else "DELETE"
                text = (f"{verb} DATA {{ GRAPH <{graph_iri}> {{ <{entity}> "
                        "<http://www.w3.org/2004/02/skos/core#altLabel> "
                        f"\"bench {n % len(targets)}\"@en }} }}")
                if after_pause:
                    time.sleep(pause)
                for name, url, headers in (
                        ("kg", kg_url + "/update", {"Authorization": f"Bearer {TOKEN}"}),
                        ("oxigraph", ox_url + "/update", {})):
                    started = time.perf_counter()
                    response = http.post(url, content=text, headers={
                        **headers, "Content-Type": "application/sparql-update"})
                    elapsed = time.perf_counter() - started
                    if response.status_code >= 300:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
                    (paused if after_pause else times)[name].append(elapsed)
                    if name == "kg":
                        paths.append(response.json().get("checked", "?"))
        first = times["kg"].pop(0)  # starts the writer process: reported apart
        times["oxigraph"].pop(0)
        out = {name: summary(t) for name, t in times.items()}
        out["kg_first_ms"] = 1000 * first
        out["ratio"] = out["kg"]["median_ms"] / max(out["oxigraph"]["median_ms"], 1e-6)
        out["after_pause"] = {name: summary(t) for name, t in paused.items()}
        out["after_pause"]["pause_s"] = pause
        out["after_pause"]["ratio"] = out["after_pause"]["kg"]["median_ms"] / max(
            out["after_pause"]["oxigraph"]["median_ms"], 1e-6)
        out["kg_paths"] = {p: paths.count(p) for p in set(paths)}
        out["triples"] = sum(graph.stats().graphs.values())
        return out
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a built project")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0,
                        help="seconds before each write of the second series")
    args = parser.parse_args()
    print(json.dumps(measure(args.project, repeat=args.repeat, pause=args.pause), indent=1))


if __name__ == "__main__":
    main()
