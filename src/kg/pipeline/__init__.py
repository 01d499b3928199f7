"""From input files to a store: the project's folders, loading and intake of RDF, SHACL
validation, OWL RL reasoning, the build, incremental updates, history and rollback, the embedded
store and remote stores.

Imports `kg.query` (a store answers SPARQL) and the top-level `errors` and `namespaces`.
"""
