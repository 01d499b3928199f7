"""Reading RDF request bodies where limits apply. A Graph Store write's body is parsed in
a child process with a cap on its address space and CPU time and a wall-clock limit, and
its triples are refused once they pass an expansion limit (a multiple of the body's
size). An RDF/XML entity bomb ("billion laughs"), or a few hundred bytes that expand into
a literal of megabytes, then fail in the child with a 413, and the server lives on.

JSON-LD is read with remote-context loading disabled (pyoxigraph has no document loader
unless given one), so a body never makes the service fetch anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from ..errors import LimitExceeded, RequestTooLarge, UnsupportedInput
from ..query.guard import Policy

EXPANSION = 16  # bytes of N-Triples allowed per byte of body...
EXPANSION_FLOOR = 1_000_000  # ...plus this many
MEMORY_LIMIT = 1 << 30  # address space of the child, bytes
CHILD = Path(__file__).with_name("_intake_child.py")
READABLE = "Turtle, N-Triples, JSON-LD or RDF/XML"


def read_graph(data: bytes, media_type: str, policy: Policy) -> list[ox.Triple]:
    """The triples of an RDF body of `media_type`, parsed within the limits."""
    rdf_format = ox.RdfFormat.from_media_type(media_type.split(";")[0].strip())
    if rdf_format is None or (rdf_format.supports_datasets
                              and rdf_format != ox.RdfFormat.JSON_LD):
        raise UnsupportedInput(f"cannot read {media_type!r} as a graph; send {READABLE}")
    limit = EXPANSION * len(data) + EXPANSION_FLOOR
    cpu = max(1, int(policy.time_limit + 0.999))
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(CHILD), rdf_format.media_type, str(limit),
             str(MEMORY_LIMIT), str(cpu)],
            input=data, capture_output=True, timeout=policy.time_limit + 1)
    except subprocess.TimeoutExpired as err:
        raise LimitExceeded(f"reading the body took longer than {policy.time_limit:g} s"
                            ) from err
    if done.returncode == 2:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise UnsupportedInput(f"the body is not valid {rdf_format.name}: {message}")
    if done.returncode == 3:
        raise RequestTooLarge(f"the body's triples take more than {limit} bytes "
                              f"({EXPANSION}x its size): entity expansion is capped")
    if done.returncode != 0:
        raise RequestTooLarge("reading the body needed more memory or time than allowed "
                              "(an entity bomb?); nothing was changed")
    return [q.triple for q in ox.parse(done.stdout, format=ox.RdfFormat.N_TRIPLES)]
