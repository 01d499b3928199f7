"""The SPARQL layer: named queries and their registry, the guard that checks a query before it
runs, syntax help, query results and their serialisations, and term resolution.

Imports only `kg.errors` and `kg.namespaces`; everything else builds on it.
"""
