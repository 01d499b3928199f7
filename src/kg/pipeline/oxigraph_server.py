"""Oxigraph server as a remote store (adapter of kg.pipeline.remote).

Started with `oxigraph serve --union-default-graph`, it answers with every graph as the
default graph, as the embedded store does, and speaks SPARQL 1.1 throughout: queries at
`/query`, updates at `/update`, the Graph Store Protocol at `/store`. A push writes each
changed graph with one Graph Store PUT."""

from __future__ import annotations

from .remote import Dialect


class OxigraphServer(Dialect):
    name = "oxigraph"

    def endpoints(self, endpoint: str, *, authenticated: bool) -> tuple[str, str]:
        base = endpoint.removesuffix("/query")
        if base == endpoint:
            return endpoint, endpoint
        return base + "/update", base + "/store"
