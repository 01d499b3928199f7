"""The SPARQL 1.1 Service Description served at /sparql when no query is given."""

from __future__ import annotations

import pyoxigraph as ox

from kg.query.results import GRAPH_FORMATS

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                  "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML")


def service_description(endpoint: str, *, fmt: str = "ttl", writable: bool = False) -> bytes:
    """An sd:Service describing this endpoint, serialised as `fmt` (ttl, nt, jsonld,
    rdfxml)."""
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("default")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    triples = [
        ox.Triple(service, RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, sd("Graph")),
    ]
    if writable:
        triples.append(ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Update")))
    triples += [ox.Triple(service, sd("resultFormat"), ox.NamedNode(FORMATS + name))
                for name in RESULT_FORMATS]
    prefixes = {"sd": SD, "formats": FORMATS} if fmt == "ttl" else None
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt], prefixes=prefixes) or b""
