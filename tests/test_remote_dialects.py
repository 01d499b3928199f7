"""The remote stores' adapters rewrite query text: each rewrite as a table of inputs and
the text the store is sent (no server needed)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.pipeline.virtuoso import base_first, binds_first


@pytest.mark.parametrize(("query", "sent"), [
    ("PREFIX a: <http://a/>\nBASE <http://b/> SELECT * { <x> a:p ?o }",
     "BASE <http://b/>\nPREFIX a: <http://a/>\n SELECT * { <x> a:p ?o }"),
    ("BASE <http://b/> PREFIX a: <http://a/> SELECT * { <x> a:p ?o }",
     "BASE <http://b/>\n PREFIX a: <http://a/> SELECT * { <x> a:p ?o }"),
    # a relative prefix IRI before the BASE would resolve differently: left alone
    ("PREFIX a: <rel/> BASE <http://b/> SELECT * { <x> a:p ?o }",
     "PREFIX a: <rel/> BASE <http://b/> SELECT * { <x> a:p ?o }"),
    # a BASE-like word after the prologue is not a declaration
    ("PREFIX a: <http://a/> SELECT * { ?s a:BASE <http://b/> }",
     "PREFIX a: <http://a/> SELECT * { ?s a:BASE <http://b/> }"),
    ("SELECT * { ?s ?p ?o }", "SELECT * { ?s ?p ?o }"),
])
def test_virtuoso_gets_base_before_the_prefixes(query, sent):
    assert base_first(query) == sent


def test_moving_base_keeps_the_query_s_meaning():
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://b/x"), ox.NamedNode("http://a/p"),
                      ox.Literal("o")))
    query = "PREFIX a: <http://a/>\nBASE <http://b/> SELECT ?o { <x> a:p ?o }"
    assert [r["o"] for r in store.query(query)] == [r["o"] for r in store.query(
        base_first(query))] == [ox.Literal("o")]


UNION_WITH_BINDS = """SELECT ?fact ?source ?relation ?status WHERE {
  VALUES ?fact { <urn:f1> }
  { ?fact <urn:cites> ?source . BIND ("supports" AS ?relation) }
  UNION { ?fact <urn:disputes> ?source . BIND ("disputes" AS ?relation) }
  OPTIONAL { ?fact <urn:status> ?status }
}"""


@pytest.mark.parametrize(("query", "sent"), [
    ('{ ?s ?p ?o . BIND ("x" AS ?r) } UNION { ?s ?q ?o }',
     '{ BIND ("x" AS ?r)  ?s ?p ?o .  } UNION { ?s ?q ?o }'),
    # a BIND of a variable, and a BIND outside a UNION, stay where they are
    ("{ ?s ?p ?o BIND (?o AS ?x) } UNION { ?s ?q ?o }",
     "{ ?s ?p ?o BIND (?o AS ?x) } UNION { ?s ?q ?o }"),
    ('{ ?s ?p ?o BIND ("x" AS ?r) }', '{ ?s ?p ?o BIND ("x" AS ?r) }'),
])
def test_virtuoso_gets_constant_binds_first_in_union_branches(query, sent):
    assert binds_first(query) == sent


def test_binds_first_keeps_the_answers():
    """The query of kg cite that Virtuoso answered for every fact: the same rows on
    the embedded store before and after the move (only facts of the VALUES block)."""
    store = ox.Store()
    for fact, p, source in [("f1", "cites", "s1"), ("f1", "disputes", "s2"),
                            ("f2", "cites", "s3"), ("f1", "status", "ok")]:
        store.add(ox.Quad(ox.NamedNode(f"urn:{fact}"), ox.NamedNode(f"urn:{p}"),
                          ox.NamedNode(f"urn:{source}")))

    def rows(query: str) -> list:
        return sorted(tuple(str(v) for v in r) for r in store.query(query))

    assert binds_first(UNION_WITH_BINDS) != UNION_WITH_BINDS
    assert rows(binds_first(UNION_WITH_BINDS)) == rows(UNION_WITH_BINDS) == [
        ("<urn:f1>", "<urn:s1>", '"supports"', "<urn:ok>"),
        ("<urn:f1>", "<urn:s2>", '"disputes"', "<urn:ok>")]
