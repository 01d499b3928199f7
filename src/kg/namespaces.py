"""Every namespace of the graph, defined once."""

from __future__ import annotations

import re
from functools import lru_cache

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/workflow-kg/"
WF = Namespace(BASE + "ontology#")
WFR = Namespace(BASE + "resource/")
SRC = Namespace(BASE + "source/")
GRAPH = Namespace(BASE + "graph/")
STATEMENT = Namespace(BASE + "resource/statement/")
CITO = Namespace("http://purl.org/spar/cito/")
SCHEMA = Namespace("https://schema.org/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
QUDT = Namespace("http://qudt.org/schema/qudt/")
VOID = Namespace("http://rdfs.org/ns/void#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

INFERRED_GRAPH = GRAPH["inferred"]
META_GRAPH = GRAPH["meta"]
HISTORY_GRAPH = GRAPH["history"]  # PROV records of updates (kg.pipeline.update)

PREFIXES: dict[str, str] = {
    "wf": str(WF),
    "wfr": str(WFR),
    "src": str(SRC),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "cito": str(CITO),
    "schema": str(SCHEMA),
    "bibo": str(BIBO),
    "qudt": str(QUDT),
    "void": str(VOID),
    "sh": str(SH),
}

# The same prefixes as Turtle @prefix lines, for Turtle that code writes (fixtures, generated data).
TURTLE_PREFIXES = "".join(f"@prefix {name}: <{ns}> .\n" for name, ns in PREFIXES.items())


_PN_LOCAL = re.compile(r"[\w](?:[\w.-]*[\w-])?")  # a local name SPARQL reads unescaped


@lru_cache(maxsize=65536)
def shorten(iri: str) -> str:
    """Return `prefix:local` for an IRI in a known namespace, else the IRI itself."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, name = ns, prefix
    if best:
        local = iri[len(best):]
        if local and all(c.isalnum() or c in "-_./" for c in local):
            return f"{name}:{local}"
    return iri


def sparql_name(iri: str) -> str:
    """How to write `iri` so that it pastes back into a query: `prefix:local` where SPARQL
    reads the local name as written, `<iri>` for a known namespace where it cannot (e.g.
    `statement/156d…`), other IRIs as they are."""
    short = shorten(iri)
    if short == iri:
        return iri
    return short if _PN_LOCAL.fullmatch(short.split(":", 1)[1]) else f"<{iri}>"


def expand(name: str) -> str:
    """Expand `prefix:local`, `<iri>` or a bare local name (taken as `wfr:`) to an IRI."""
    name = name.strip()
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1]
    if "://" in name or name.startswith("urn:"):
        return name
    if ":" in name:
        prefix, local = name.split(":", 1)
        if prefix in PREFIXES:
            return PREFIXES[prefix] + local
        raise ValueError(f"unknown prefix {prefix!r} in {name!r}")
    return str(WFR) + name
