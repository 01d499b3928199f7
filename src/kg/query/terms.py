"""Terms as people type them: a query parameter given as a label (English or Chinese, any
case), a local name in any of the graph's namespaces, a prefixed name or a full IRI is
resolved to the one resource it names, or refused with the candidates ("did you mean");
and a query that uses a term of the project's namespaces that the graph does not know is
warned about, instead of answering nothing in silence.

`store` is anything with `query(sparql, bindings=...)` returning a QueryResult (the
embedded or a remote store)."""

from __future__ import annotations

import difflib
from typing import Protocol

import pyoxigraph as ox

from ..errors import ParameterError
from ..namespaces import PREFIXES, WF, WFR, shorten
from .guard import tokens
from .results import QueryResult

LABELS = "rdfs:label|skos:prefLabel|skos:altLabel"
PROJECT_NAMESPACES = (str(WF), str(WFR))


class Queryable(Protocol):
    def query(self, sparql: str, *, bindings: dict | None = None) -> QueryResult: ...


def _exists(store: Queryable, iri: str) -> bool:
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False  # not even an IRI (a label with a space, say)
    return bool(store.query("ASK WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } }",
                            bindings={"x": ox.NamedNode(iri)}).boolean)


def _local(iri: str) -> tuple[str, str] | None:
    """(namespace, local name) for an IRI in one of the graph's namespaces."""
    best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
    return (best, iri[len(best):]) if best and len(iri) > len(best) else None


def _names(store: Queryable) -> dict[str, set[str]]:
    """Every typed resource of the graph's namespaces by the lower-cased names it may be
    called: its local name and its labels."""
    rows = store.query(f"SELECT DISTINCT ?x ?l WHERE {{ ?x a ?type . "
                       f"OPTIONAL {{ ?x {LABELS} ?l }} FILTER isIRI(?x) }}").rows()
    names: dict[str, set[str]] = {}
    for row in rows:
        iri = row["x"].value
        split = _local(iri)
        if split is None:
            continue
        names.setdefault(split[1].lower(), set()).add(iri)
        if row.get("l") is not None:
            names.setdefault(row["l"].value.strip().lower(), set()).add(iri)
    return names


def _label(store: Queryable, iri: str) -> str:
    labels = store.query(f"SELECT ?l WHERE {{ ?x {LABELS} ?l }} ORDER BY ?l",
                         bindings={"x": ox.NamedNode(iri)}).values("l")
    return f"{shorten(iri)} ({labels[0]})" if labels else shorten(iri)


def resolve(store: Queryable, raw: str, *, parameter: str = "value") -> ox.NamedNode:
    """The resource `raw` names: a full IRI (taken as given), a prefixed name or a bare
    wfr: local name that exists, else the one resource whose local name or label equals
    it, ignoring case (a prefixed name that matches nothing stands for itself). Raises
    ParameterError listing candidates when a bare name matches none, or several match."""
    from ..namespaces import expand

    text = raw.strip()
    if text.startswith("<") or "://" in text or text.startswith("urn:"):
        return ox.NamedNode(expand(text))
    needle, written = text, None
    if ":" in text:
        prefix, local = text.split(":", 1)
        if prefix not in PREFIXES:
            raise ParameterError(f"{parameter}={raw!r}: unknown prefix '{prefix}:' (known: "
                                 f"{', '.join(PREFIXES)})")
        written = PREFIXES[prefix] + local
        if _exists(store, written):
            return ox.NamedNode(written)
        needle = local
    elif _exists(store, str(WFR) + text):
        return ox.NamedNode(str(WFR) + text)
    names = _names(store)
    found = sorted(names.get(needle.strip().lower(), set()))
    if len(found) == 1:
        return ox.NamedNode(found[0])
    if written is not None and not found:
        return ox.NamedNode(written)  # a prefixed name stands for itself, known or not
    if found:
        listed = ", ".join(_label(store, iri) for iri in found)
        raise ParameterError(f"{parameter}={raw!r} is ambiguous: it could be {listed}; "
                             "give one of these")
    close = difflib.get_close_matches(needle.lower(), list(names), n=5, cutoff=0.6)
    iris = sorted({iri for name in close for iri in names[name]})[:5]
    hint = (f"; did you mean {', '.join(_label(store, iri) for iri in iris)}?" if iris
            else "; see `kg query -e 'SELECT ?x ?label { ?x rdfs:label ?label }'`")
    raise ParameterError(f"{parameter}={raw!r} names nothing in the graph{hint}")


def undeclared(store: Queryable, sparql: str) -> list[str]:
    """Warnings for terms of the project's namespaces (wf:, wfr:) in a query that the
    graph does not know, each with the closest known names."""
    declared = dict(PREFIXES)
    toks = list(tokens(sparql))
    for i, tok in enumerate(toks[:-2]):
        if tok.text.upper() == "PREFIX" and toks[i + 1].kind == "pname" \
                and toks[i + 2].kind == "iri":
            declared[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    used: dict[str, str] = {}
    for tok in toks:
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix in declared and local:
                used.setdefault(declared[prefix] + local, tok.text)
        elif tok.kind == "iri":
            used.setdefault(tok.text[1:-1], tok.text)
    unknown = [(iri, shown) for iri, shown in used.items()
               if iri.startswith(PROJECT_NAMESPACES) and not _exists(store, iri)]
    if not unknown:
        return []
    names = _names(store)
    warnings = []
    for iri, shown in unknown:
        local = _local(iri)
        close = difflib.get_close_matches((local[1] if local else iri).lower(), list(names),
                                          n=3, cutoff=0.75)
        iris = sorted({i for name in close for i in names[name]})[:3]
        hint = f" (did you mean {', '.join(shorten(i) for i in iris)}?)" if iris else ""
        warnings.append(f"{shown} is not in the graph: the query cannot match it{hint}")
    return warnings
