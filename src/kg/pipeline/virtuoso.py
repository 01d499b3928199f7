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
- **Booleans come back as `"1"^^xsd:boolean`** (and `"0"`), both valid forms of
  true and false; they are read as `true` and `false`, as stored, so a graph read back
  hashes as it was pushed.
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
- **An update request is not one transaction**: its operations are applied one by one,
  and when one fails (`DROP GRAPH` of a graph that does not exist, say) those before it
  stay applied (tested: a `DELETE DATA ; INSERT DATA ; DROP GRAPH <missing>` request
  answered HTTP 500 and left the insert in place; only a syntax error refuses the whole
  request, before anything runs). So `atomic_update` is False: a push's one request
  first removes the manifest entries of the graphs it changes, and a request that fails
  midway leaves those graphs unrecorded, which every reader sees as a change and the
  next push repairs by sending them whole.
- **A DELETE DATA naming several graphs keeps their language-tagged literals** (7.2:
  `DELETE DATA { GRAPH <a> { ... "x"@en } GRAPH <b> { ... } }` removes the other
  triples, not that one); a push's differences go one graph per DATA block. **One DATA
  block of about 5000 triples exhausts the SPARQL compiler's memory** (4000 passed);
  differences are sent only up to kg.pipeline.remote.DELTA_MAX triples.
- **It drops what restricts a UNION from outside** (a VALUES block, a FILTER) when a
  branch holds a BIND and an OPTIONAL follows the union: `VALUES ?fact { ... } { ...
  BIND ("supports" AS ?r) } UNION { ... } OPTIONAL { ... }` answers for every fact
  (kg cite listed every source of the dataset's facts). A BIND of a constant is moved
  to the start of its branch (the same query in SPARQL 1.1), which Virtuoso answers
  right.
- **BASE only first**: a prologue's BASE after a PREFIX (which SPARQL 1.1 allows, and
  which the service sends with the endpoint's URL as the base) is a syntax error; BASE
  declarations are moved before the PREFIXes.
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
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


class Virtuoso(Dialect):
    name = "virtuoso"
    writes = "Virtuoso Graph Store POSTs"
    atomic_update = False  # see the module's docstring

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
        return _PLUS.sub(r"\1 \2 ?_kg_step . ?_kg_step \2* \3",
                         fence_subqueries(binds_first(base_first(sparql))))

    def results(self, payload: bytes, sparql: str) -> bytes:
        concat = set(_CONCAT.findall(sparql))
        if (b"nodeID://" not in payload and b"__ASK_RETVAL" not in payload and not concat
                and _BOOLEAN.encode() not in payload):
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
                elif term.get("datatype") == _BOOLEAN and term.get("value") in ("1", "0"):
                    term["value"] = "true" if term["value"] == "1" else "false"
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


def base_first(sparql: str) -> str:
    """The prologue's BASE declarations moved before its PREFIX declarations (SPARQL 1.1
    allows either order; Virtuoso 7.2 a BASE only first). Left as it is when a PREFIX
    before a BASE has a relative IRI, which the move would resolve differently."""
    toks = list(tokens(sparql))
    bases: list[tuple[int, int]] = []
    for i, tok in enumerate(toks[:-1]):
        word = tok.text.upper() if tok.kind == "word" else ""
        if word == "BASE" and toks[i + 1].kind == "iri":
            bases.append((tok.start, toks[i + 1].start + len(toks[i + 1].text)))
        elif word == "PREFIX" and i + 2 < len(toks) and toks[i + 2].kind == "iri":
            if ":" not in toks[i + 2].text and not bases:
                return sparql
        elif word:
            break
    if not bases:
        return sparql
    moved = " ".join(sparql[a:b] for a, b in bases)
    for a, b in reversed(bases):
        sparql = sparql[:a] + sparql[b:]
    return moved + "\n" + sparql


def binds_first(sparql: str) -> str:
    """In each branch of a UNION, every BIND of a constant (no variable in it) moved to
    the branch's start. The same query in SPARQL 1.1 (a BIND's variable is new to its
    group, and a constant does not depend on what comes before); Virtuoso 7.2, given
    `{ ... BIND ("x" AS ?r) } UNION { ... } OPTIONAL { ... }`, drops what restricts the
    union from outside (a VALUES block, a FILTER), and so answers for every fact where
    the query asked about some."""
    toks = list(tokens(sparql))
    match: dict[int, int] = {}  # index of each "{" -> index of its "}", and back
    opens: list[int] = []
    for i, tok in enumerate(toks):
        if tok.kind == "punct" and tok.text == "{":
            opens.append(i)
        elif tok.kind == "punct" and tok.text == "}" and opens:
            start = opens.pop()
            match[start], match[i] = i, start

    def union_branch(open_: int) -> bool:
        before = toks[open_ - 1] if open_ else None
        after = toks[match[open_] + 1] if match[open_] + 1 < len(toks) else None
        return any(t is not None and t.kind == "word" and t.text.upper() == "UNION"
                   for t in (before, after))

    moves: list[tuple[int, int, int]] = []  # (branch's "{" end, BIND start, BIND end)
    opens = []
    for i, tok in enumerate(toks):
        if tok.kind == "punct" and tok.text == "{" and i in match:
            opens.append(i)
        elif tok.kind == "punct" and tok.text == "}" and opens and i in match:
            opens.pop()
        elif (tok.kind == "word" and tok.text.upper() == "BIND" and opens
              and union_branch(opens[-1])):
            end = _closing(toks, i + 1)
            if end is not None and _constant(toks[i + 2:end]):
                moves.append((toks[opens[-1]].start + 1, tok.start, toks[end].start + 1))
    if not moves:
        return sparql
    edits = sorted([(at, 0, sparql[start:end]) for at, start, end in moves]
                   + [(start, 1, end) for _, start, end in moves])
    out, pos = [], 0
    for at, kind, what in edits:
        out.append(sparql[pos:at])
        pos = at
        if kind == 0:
            out.append(f" {what} ")
        else:
            pos = what
    return "".join(out) + sparql[pos:]


def _constant(toks: list) -> bool:
    """Is this `expression AS ?var` (a BIND's, parentheses excluded) free of variables
    and of groups?"""
    if len(toks) < 3 or toks[-2].text.upper() != "AS" or toks[-1].kind != "var":
        return False
    return not any(t.kind == "var" or t.text in "{}" for t in toks[:-2])


def _closing(toks: list, open_: int) -> int | None:
    """The index of the ")" that closes the "(" at `open_` (a BIND's)."""
    if open_ >= len(toks) or toks[open_].text != "(":
        return None
    depth = 0
    for j in range(open_, len(toks)):
        if toks[j].kind == "punct" and toks[j].text in "()":
            depth += 1 if toks[j].text == "(" else -1
            if depth == 0:
                return j
    return None


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
