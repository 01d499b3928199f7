"""OpenLink Virtuoso (Open Source Edition 7) as a remote store (adapter of kg.pipeline.remote).

Where Virtuoso departs from SPARQL 1.1, and what this adapter does about it:

- **Its default graph is every graph it holds, its own included** (`virtrdf:`, LDP and
  URIQA graphs). Queries therefore leave out every graph that is not in kg's push
  manifest, with Virtuoso's `define input:default-graph-exclude` and
  `input:named-graph-exclude`; naming the graphs to keep as `default-graph-uri` (the
  SPARQL 1.1 Protocol's way) makes Virtuoso 7.2 miscount some aggregates
  (`success-indicators`). `GRAPH <iri>` also matches a graph outside the request's
  `named-graph-uri` list.
- **It pushes a join's bindings into an aggregating subquery**, which changes what the
  subquery counts (an outer `?measure` joined with `SELECT ("x" AS ?measure) (COUNT(*)
  AS ?n)` gives a row with n = 0 for every other value). Every subquery is sent fenced
  as `{ SELECT * WHERE { <subquery> } LIMIT 1000000000000 }`, which means the same in
  SPARQL 1.1 and which Virtuoso evaluates on its own.
- **Blank nodes come back as `nodeID://b123`** in SPARQL results JSON; they are read as
  the blank node `b123`. **An ASK with a dataset** (`default-graph-uri`) comes back as a
  one-row SELECT of `__ASK_RETVAL` (1 or 0); it is read as the boolean it stands for.
- **Language tags are stored in lower case** (`en-GB` reads back as `en-gb`); the
  embedded store lower-cases them too, so answers agree. Compare tags case-insensitively
  in your own queries (`langMatches`), as BCP 47 says.
- **GROUP_CONCAT has no defined order** (neither in SPARQL 1.1): compare such columns as
  sets of their parts. Where every value concatenated is unbound, Virtuoso answers ""
  and the embedded store leaves the variable unbound; the adapter drops such ""s.
- **Updates and Graph Store writes need an account**: the public `/sparql` runs as the
  user SPARQL, which may not write. With KG_REMOTE_USER and KG_REMOTE_PASSWORD set,
  `/sparql-auth` and `/sparql-graph-crud-auth` (HTTP digest) are used; the account needs
  the SPARQL_UPDATE role and write permission on kg's graphs (docs/deploy.md).
- **SPARQL Update refuses blank nodes in INSERT DATA**, so a push writes with Virtuoso's
  Graph Store endpoint instead: POSTs of N-Triples of at most `CHUNK` triples, each
  carrying whole groups of triples that share blank nodes (each request is a blank node
  scope of its own), then swaps with SPARQL Update `MOVE`, which keeps blank nodes.
- **A transitive path needs a bound start**: `?a p+ ?b` with both ends variables is sent
  as `?a p ?_kg_step . ?_kg_step p* ?b` (the same pairs, possibly repeated).
- Full-text search (`bif:contains`) is not needed: kg's search runs over the catalogue
  it reads with ordinary queries.
"""

from __future__ import annotations

import json
import re

import pyoxigraph as ox

from ..query.guard import tokens
from .remote import PUSH_GRAPH, PUSH_TIMEOUT, Dialect, RemoteStore, components

CHUNK = 20000
# `?a p+ ?b` with neither end bound: Virtuoso wants a start ("transitive start not given")
_PLUS = re.compile(r"(\?\w+)\s+([A-Za-z][\w-]*:[\w-]+|<[^<>\s]+>)\+\s+(\?\w+)")
_CONCAT = re.compile(r"GROUP_CONCAT\s*\(.*?\)\s*AS\s*\?(\w+)", re.IGNORECASE | re.DOTALL)
EMPTY = PUSH_GRAPH + "/empty"  # a graph that never exists: an empty default graph
FENCE_LIMIT = 10**12


class Virtuoso(Dialect):
    name = "virtuoso"
    writes = "Virtuoso Graph Store POSTs"

    def endpoints(self, endpoint: str, *, authenticated: bool) -> tuple[str, str]:
        base = endpoint.removesuffix("/sparql").removesuffix("/sparql-auth")
        if base == endpoint:
            return endpoint, endpoint
        if authenticated:
            return base + "/sparql-auth", base + "/sparql-graph-crud-auth"
        return base + "/sparql", base + "/sparql-graph-crud"

    def dataset(self, remote: RemoteStore, default_graph: list[str] | None,
                named_graphs: list[str] | None) -> tuple[str, list[tuple[str, str]]]:
        """Graphs left out with Virtuoso's `define input:default-graph-exclude` and
        `input:named-graph-exclude` (naming the graphs kept as `default-graph-uri`
        gives wrong answers to some queries in 7.2). `named_graphs=[]`: every graph."""
        fields: list[tuple[str, str]] = []
        defines = []
        if default_graph is None or named_graphs is None or default_graph:
            ours, others = remote.our_graphs()
        if default_graph == []:
            fields.append(("default-graph-uri", EMPTY))
        else:
            keep = set(ours if default_graph is None else default_graph)
            defines += [f"define input:default-graph-exclude <{g}>"
                        for g in sorted(set(ours + others) - keep)]
        if named_graphs is None:
            defines += [f"define input:named-graph-exclude <{g}>" for g in others]
        else:
            fields += [("named-graph-uri", g) for g in named_graphs]
        return "".join(d + "\n" for d in defines), fields

    def prepare(self, sparql: str) -> str:
        return _PLUS.sub(r"\1 \2 ?_kg_step . ?_kg_step \2* \3", fence_subqueries(sparql))

    def results(self, payload: bytes, sparql: str) -> bytes:
        concat = set(_CONCAT.findall(sparql))
        if b"nodeID://" not in payload and b"__ASK_RETVAL" not in payload and not concat:
            return payload
        document = json.loads(payload)
        if document.get("head", {}).get("vars") == ["__ASK_RETVAL"]:
            rows = document.get("results", {}).get("bindings", [])
            value = rows[0]["__ASK_RETVAL"]["value"] if rows else "0"
            return json.dumps({"head": {}, "boolean": value not in ("0", "false")}).encode()
        for row in document.get("results", {}).get("bindings", []):
            for name, term in list(row.items()):
                if term.get("type") == "bnode":
                    term["value"] = term["value"].removeprefix("nodeID://")
                elif name in concat and term.get("value") == "":
                    del row[name]  # GROUP_CONCAT of nothing: unbound, as embedded
        return json.dumps(document).encode()

    def write_graph(self, remote: RemoteStore, graph: str, triples: list[ox.Triple]) -> None:
        url = self.graph_url(remote.store_endpoint, graph)
        batch: list[ox.Triple] = []
        groups = components(triples)
        for i, group in enumerate(groups):
            batch.extend(group)
            if len(batch) >= CHUNK or i == len(groups) - 1:
                remote.transport.request(
                    "POST", url, data=ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES),
                    headers={"Content-Type": "application/n-triples"}, timeout=PUSH_TIMEOUT)
                remote.transport.sent += 1
                batch = []


def fence_subqueries(sparql: str) -> str:
    """Every subquery that aggregates without GROUP BY (one implicit group, whose answer
    a binding pushed inside would change) as `{ SELECT * WHERE { { SELECT ... } } LIMIT
    N }`. Subqueries with GROUP BY are left alone: Virtuoso 7.2 gets OPTIONAL { fenced
    subquery } wrong, and pushing a join into grouped subqueries is sound anyway."""
    toks = list(tokens(sparql))
    opens: list[int] = []  # token index of each open brace
    spans: list[tuple[int, int]] = []  # (start, end) characters of each subquery's braces
    for i, tok in enumerate(toks):
        if tok.kind != "punct":
            continue
        if tok.text == "{":
            opens.append(i)
        elif tok.text == "}" and opens:
            start = opens.pop()
            after = toks[start + 1] if start + 1 < len(toks) else None
            if (after is not None and after.kind == "word" and after.text.upper() == "SELECT"
                    and _implicit_group(toks[start + 1:i])):
                spans.append((toks[start].start, tok.start + 1))
    inserts = [(start, "{ SELECT * WHERE { ") for start, _ in spans]
    inserts += [(end, f" }} LIMIT {FENCE_LIMIT} }}") for _, end in spans]
    out = sparql
    for at, text in sorted(inserts, reverse=True):  # from the end: positions stay true
        out = out[:at] + text + out[at:]
    return out


AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}


def _implicit_group(toks: list) -> bool:
    """Does this subquery (its tokens, outer braces excluded) aggregate at its own level
    without GROUP BY?"""
    depth, aggregates, grouped = 0, False, False
    for tok in toks:
        if tok.kind == "punct" and tok.text in "{}":
            depth += 1 if tok.text == "{" else -1
        elif depth == 0 and tok.kind == "word":
            word = tok.text.upper()
            aggregates |= word in AGGREGATES
            grouped |= word == "GROUP"
    return aggregates and not grouped
