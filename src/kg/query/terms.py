"""Names as people type them, resolved one way everywhere: a query parameter, a resource
to cite, a page's IRI, a decision requirement. A full IRI, a prefixed name (`wfr:temporal`),
a local name in any of the graph's namespaces in any case (`temporal`, `Contradicted`), or
a label or alternative label in English or Chinese (`"Temporal Cloud"`, `事件溯源`) names
the one resource it stands for; a name that names nothing (a prefixed name included) or
several things is refused with the candidates ("did you mean"), and the same input gives
the same answer and the same error from the CLI, the pages, the named-query routes,
citations and `kg decide`.

The names of a store version are read once (kg.query.versions.per_version), so resolving a
parameter costs a dictionary look-up, not a read of every name in the graph. A query that
uses a term of the project's namespaces that the graph does not know is warned about
(`undeclared`), instead of answering nothing in silence.

`store` is anything with `query(sparql, bindings=...)` returning a QueryResult (the
embedded or a remote store).

>>> from kg import KnowledgeGraph                                      # doctest: +SKIP
>>> resolve(KnowledgeGraph().store, "事件溯源")                          # doctest: +SKIP
<NamedNode value=https://w3id.org/workflow-kg/resource/event-sourcing>
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox

from ..errors import ParameterError, ResourceNotFound
from ..namespaces import PREFIXES, WF, WFR, shorten
from .guard import tokens
from .results import QueryResult, streamed_rows
from .versions import per_version

PROJECT_NAMESPACES = (str(WF), str(WFR))
_NAMES = """SELECT ?x ?l WHERE {
  ?x rdfs:label|skos:prefLabel|skos:altLabel ?l FILTER (isIRI(?x) && isLiteral(?l)) }"""
_TYPED = """SELECT ?x ?t WHERE { ?x a ?t FILTER (isIRI(?x) && isIRI(?t)) }"""
_SUPER = """SELECT ?c ?d WHERE { ?c rdfs:subClassOf+ ?d FILTER (isIRI(?c) && isIRI(?d)) }"""
_USED = """ASK WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } UNION { ?s ?x ?o } }"""


class Queryable(Protocol):
    def query(self, sparql: str, *, bindings: dict | None = None) -> QueryResult: ...


def fold(text: str) -> str:
    """The form names are compared in: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _local(iri: str) -> str | None:
    """The local name of an IRI in one of the graph's namespaces."""
    best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
    return iri[len(best):] if best and len(iri) > len(best) else None


@dataclass
class Names:
    """Every name of one store version: local names of the typed resources of the
    graph's namespaces, labels and alternative labels in every language."""

    by_name: dict[str, set[str]] = field(default_factory=dict)  # folded name -> IRIs
    label: dict[str, str] = field(default_factory=dict)  # iri -> its display label
    types: dict[str, set[str]] = field(default_factory=dict)  # iri -> classes, inferred up
    store: Queryable | None = None

    def known(self, iri: str) -> bool:
        """Whether the graph says anything about the IRI (as subject, object or
        predicate)."""
        if iri in self.types or iri in self.label:
            return True
        if self.store is None:
            return False
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return False
        return bool(self.store.query(_USED, bindings={"x": node}).boolean)

    def is_a(self, iri: str, cls: str) -> bool:
        return cls in self.types.get(iri, ())

    def show(self, iri: str) -> str:
        """`wfr:temporal (Temporal)`: how a candidate is named in a message."""
        label = self.label.get(iri)
        return f"{shorten(iri)} ({label})" if label else shorten(iri)

    def lookup(self, name: str) -> list[str]:
        return sorted(self.by_name.get(fold(name), ()))

    def suggest(self, text: str, *, fits: Callable[[str], bool] | None = None,
                limit: int = 5, cutoff: float = 0.6) -> list[str]:
        """IRIs whose local name or label resembles `text` (those `fits` accepts, if
        given), closest first: for "did you mean"."""
        local = text.strip().strip("<>")
        for sep in ("#", "/"):
            local = local.rsplit(sep, 1)[-1]
        if ":" in local and local.split(":", 1)[0] in PREFIXES:
            local = local.split(":", 1)[1]
        needle = fold(local.replace("_", "-"))
        pool = {name: iris for name, iris in self.by_name.items()
                if fits is None or any(fits(i) for i in iris)}
        found: list[str] = []

        def add(names: Iterable[str]) -> None:
            for name in names:
                for iri in sorted(pool[name]):
                    if iri not in found and (fits is None or fits(iri)):
                        found.append(iri)

        add(difflib.get_close_matches(needle, list(pool), n=limit * 2, cutoff=cutoff))
        if not found and len(needle) >= 3:  # a part of a longer name, or the reverse
            add(sorted((n for n in pool if needle in n or (len(n) >= 3 and n in needle)),
                       key=lambda n: (abs(len(n) - len(needle)), n)))
        return found[:limit]


def _build(store: Queryable) -> Names:
    names = Names(store=store)
    by_name: dict[str, set[str]] = defaultdict(set)
    supers: dict[str, set[str]] = defaultdict(set)
    for row in streamed_rows(store, _SUPER):
        supers[row["c"].value].add(row["d"].value)
    types: dict[str, set[str]] = defaultdict(set)
    for row in streamed_rows(store, _TYPED):
        iri, cls = row["x"].value, row["t"].value
        types[iri] |= {cls, *supers.get(cls, ())}
    names.types = dict(types)
    best: dict[str, tuple[int, str]] = {}
    for row in streamed_rows(store, _NAMES):
        iri, text = row["x"].value, row["l"]
        by_name[fold(text.value)].add(iri)
        lang = text.language or "en"
        rank = 0 if lang == "en" else 1 if lang.startswith("zh") else 2
        if iri not in best or (rank, text.value) < best[iri]:
            best[iri] = (rank, text.value)
    for iri in names.types:
        local = _local(iri)
        if local:
            by_name[fold(local)].add(iri)
    names.by_name = dict(by_name)
    names.label = {iri: text for iri, (_, text) in best.items()}
    return names


def names(store: Queryable) -> Names:
    """The names of this store version, read on first use and then kept (a store
    without a version identity, such as a bare test double, is read each time)."""
    if getattr(store, "path", None) is None and not hasattr(store, "info"):
        return _build(store)
    return per_version(store, "names", lambda: _build(store))


def _class_name(names_: Names, cls: str) -> str:
    return names_.label.get(cls, shorten(cls))


def _candidates(names_: Names, raw: str) -> tuple[str | None, list[str]]:
    """(the IRI `raw` spells out, if it does; the resources it names)."""
    text = raw.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if "://" in text or text.startswith("urn:"):
        return text, [text] if names_.known(text) else []
    if ":" in text:
        prefix, local = text.split(":", 1)
        if prefix in PREFIXES:
            written = PREFIXES[prefix] + local
            if names_.known(written):
                return written, [written]
            # wfr:Temporal, wf:contradicted: the local name in another case
            return written, [i for i in names_.lookup(local) if i.startswith(PREFIXES[prefix])]
        if " " not in text and not prefix.isdigit():
            raise ParameterError(f"{raw!r}: unknown prefix '{prefix}:' (known: "
                                 f"{', '.join(PREFIXES)})")
    bare = str(WFR) + text
    if text and " " not in text and names_.known(bare):
        return None, [bare]
    return None, names_.lookup(text)


def resolve(store: Queryable, raw: str, *, parameter: str = "value",
            within: str | None = None, among: Collection[str] | None = None,
            what: str | None = None) -> ox.NamedNode:
    """The one resource `raw` names (see the module's docstring); with `within` (a class
    IRI) the one of that class, with `among` the one of those IRIs (`what` says what
    they are, for messages). ParameterError with the candidates when it names nothing,
    several things, or only things that do not fit."""
    found = names(store)
    fits = None
    if within is not None:
        fits, what = (lambda i: found.is_a(i, within)), what or _class_name(found, within)
    if among is not None:
        allowed = set(among)
        fits = (lambda i: i in allowed) if fits is None else (
            lambda i, f=fits: f(i) and i in allowed)
    return ox.NamedNode(_resolve(found, raw, parameter=parameter, fits=fits, what=what,
                                 error=ParameterError))


def _resolve(names_: Names, raw: str, *, parameter: str | None,
             fits: Callable[[str], bool] | None, what: str | None,
             error: type[ParameterError] | type[ResourceNotFound]) -> str:
    shown = f"{parameter}={raw!r}" if parameter else repr(raw.strip())
    try:
        _, found = _candidates(names_, raw)
    except ParameterError as err:
        raise error(f"{parameter}={err}" if parameter else str(err)) from None
    if fits is not None and found:
        fitting = [i for i in found if fits(i)]
        if not fitting:
            kinds = "; ".join(f"{names_.show(i)} is a {_kinds(names_, i)}" for i in found)
            raise _refusal(names_, error, f"{shown} does not name a {what or 'fitting value'}:"
                           f" {kinds}", raw, fits)
        found = fitting
    if len(found) == 1:
        return found[0]
    if found:
        raise error(f"{shown} is ambiguous: it could be "
                    f"{', '.join(names_.show(i) for i in found)}; give one of these")
    if parameter is None:
        raise _refusal(names_, error, f"unknown resource {raw.strip()}: the graph says "
                       "nothing about it", raw, fits)
    missing = f"no {what}" if what else "nothing"
    raise _refusal(names_, error, f"{shown} names {missing} in the graph", raw, fits)


def resolve_all(store: Queryable, raws: Sequence[str]) -> list[str]:
    """The IRIs of resources named as people type them (to cite, to show); an unknown
    or ambiguous name raises ResourceNotFound with the candidates."""
    found = names(store)
    return [_resolve(found, raw, parameter=None, fits=None, what=None, error=ResourceNotFound)
            for raw in raws]


def check_known(store: Queryable, iris: Sequence[str]) -> None:
    """Raise ResourceNotFound, with the nearest names, for an IRI the graph says nothing
    about."""
    found = names(store)
    for iri in iris:
        if not found.known(iri):
            raise not_found(store, iri)


def _kinds(names_: Names, iri: str) -> str:
    ours = sorted(_class_name(names_, t) for t in names_.types.get(iri, ())
                  if t.startswith(str(WF)) and t != str(WF.Entity))
    return ", ".join(ours) or "resource of another kind"


def _refusal(names_: Names, error, message: str, raw: str,
             fits: Callable[[str], bool] | None):
    """The error for a name that names nothing fitting, with the nearest names."""
    close = names_.suggest(raw, fits=fits)
    if error is ResourceNotFound:
        return ResourceNotFound(message, suggestions=[shorten(i) for i in close])
    if close:
        return error(f"{message}; did you mean {', '.join(names_.show(i) for i in close)}?")
    return error(f"{message}; see `kg query -e 'SELECT ?x ?label {{ ?x rdfs:label ?label }}'`")


def not_found(store: Queryable, iri: str) -> ResourceNotFound:
    """The error for an IRI the graph says nothing about, with the nearest names."""
    return _refusal(names(store), ResourceNotFound, f"unknown resource {shorten(iri)}: the "
                    "graph says nothing about it", iri, None)


def suggestions(store: Queryable, name: str, *, limit: int = 5) -> list[str]:
    """IRIs whose label or local name resembles `name`: for "did you mean" messages."""
    return names(store).suggest(name, limit=limit)


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
    found = names(store)
    warnings = []
    for iri, shown in used.items():
        if not iri.startswith(PROJECT_NAMESPACES) or found.known(iri):
            continue
        close = found.suggest(iri, limit=3, cutoff=0.75)
        hint = f" (did you mean {', '.join(shorten(i) for i in close)}?)" if close else ""
        warnings.append(f"{shown} is not in the graph: the query cannot match it{hint}")
    return warnings


__all__ = ["Names", "check_known", "fold", "names", "not_found", "resolve", "resolve_all",
           "suggestions", "undeclared"]
