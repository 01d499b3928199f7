"""Pages for people: entity, source and statement pages, search, the graph views (pyvis), the
ontology documentation and the static site, with their templates and static assets.

Imports `kg.paper` (a page offers its citations), `kg.evidence`, `kg.query`, `kg.pipeline`.
"""
