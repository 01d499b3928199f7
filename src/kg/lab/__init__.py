"""Executable evidence: models checked by real tools (SPIN, Petri nets), benchmark runs on real
engines and databases (DBOS on PostgreSQL and SQLite), and the findings they write with their
provenance.

Imports `kg.pipeline` and the top-level modules; nothing imports it but the CLI.
"""
