"""Outputs for a paper: citations (BibTeX, BibLaTeX, CSL-JSON, RIS, formatted references),
tables and figures, from the evidence views.

Imports `kg.evidence`, `kg.query` and `kg.pipeline`; never the pages or the lab.
"""
