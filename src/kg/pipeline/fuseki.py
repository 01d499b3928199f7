"""Apache Jena Fuseki as a remote store (adapter of kg.pipeline.remote).

A dataset `/ds` serves queries at `/ds/query` (or `/ds/sparql`), updates at `/ds/update`
and the Graph Store Protocol at `/ds/data`. The dataset must answer with every graph as
the default graph, as the embedded store does: for TDB2, `tdb2:unionDefaultGraph true`
in its assembler (docs/deploy.md has one). Fuseki then keeps writes to the default graph
apart from what queries see, which is why kg.pipeline.remote pushes the embedded default graph
into a named graph of its own. A push writes each changed graph with one Graph Store PUT."""

from __future__ import annotations

from .remote import Dialect


class Fuseki(Dialect):
    name = "fuseki"

    def endpoints(self, endpoint: str, *, authenticated: bool) -> tuple[str, str]:
        for tail in ("/query", "/sparql"):
            if endpoint.endswith(tail):
                base = endpoint.removesuffix(tail)
                return base + "/update", base + "/data"
        return endpoint, endpoint
