"""Content negotiation (kg_api.negotiation.choose) as a table."""

from __future__ import annotations

import pytest

from kg_api.negotiation import GRAPH_TYPES, SOLUTION_TYPES, choose

JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"


@pytest.mark.parametrize(("accept", "offered", "expected"), [
    (None, SOLUTION_TYPES, JSON),
    ("", SOLUTION_TYPES, JSON),
    ("*/*", SOLUTION_TYPES, JSON),
    ("text/csv", SOLUTION_TYPES, "text/csv"),
    ("text/*", SOLUTION_TYPES, "text/csv"),
    ("application/sparql-results+xml", SOLUTION_TYPES, XML),
    ("application/sparql-results+xml;q=0.9, text/csv", SOLUTION_TYPES, "text/csv"),
    ("text/csv;q=0.2, text/tab-separated-values;q=0.8", SOLUTION_TYPES,
     "text/tab-separated-values"),
    ("application/json", SOLUTION_TYPES, "application/json"),
    ("image/png", SOLUTION_TYPES, None),
    ("text/csv;q=0", SOLUTION_TYPES, None),
    ("text/*, text/csv;q=0", SOLUTION_TYPES, "text/tab-separated-values"),
    ("*/*;q=0.1, application/sparql-results+xml", SOLUTION_TYPES, XML),
    ("text/turtle", GRAPH_TYPES, "text/turtle"),
    ("application/ld+json", GRAPH_TYPES, "application/ld+json"),
    ("application/rdf+xml;q=1.0, text/turtle;q=0.5", GRAPH_TYPES, "application/rdf+xml"),
    ("application/n-triples", GRAPH_TYPES, "application/n-triples"),
    ("text/csv", GRAPH_TYPES, None),
    ("TEXT/TURTLE", GRAPH_TYPES, "text/turtle"),
    ("text/turtle;q=abc, application/n-triples", GRAPH_TYPES, "application/n-triples"),
    ("garbage", GRAPH_TYPES, "text/turtle"),  # no valid range: as if no header
])
def test_choose(accept, offered, expected):
    assert choose(accept, offered) == expected
