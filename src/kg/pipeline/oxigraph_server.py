"""Oxigraph server as a remote store (adapter of kg.pipeline.remote).

Started with `oxigraph serve --union-default-graph`, it answers with every graph as the
default graph, as the embedded store does, and speaks SPARQL 1.1 throughout: queries at
`/query`, updates at `/update`, the Graph Store Protocol at `/store`. A push writes each
changed graph it sends whole with one Graph Store PUT. One update request is one
transaction: a request whose last operation fails (`DROP GRAPH` of a graph that does
not exist) leaves the changes of the operations before it undone (tested with
`DELETE DATA ; INSERT DATA ; DROP GRAPH <missing>`, which answered HTTP 500 and changed
nothing), so a push's swap, differences and manifest land together or not at all."""

from __future__ import annotations

from .remote import Dialect


class OxigraphServer(Dialect):
    name = "oxigraph"

    def endpoints(self, endpoint: str, *, authenticated: bool) -> tuple[str, str]:
        base = endpoint.removesuffix("/query")
        if base == endpoint:
            return endpoint, endpoint
        return base + "/update", base + "/store"
