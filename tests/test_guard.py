"""kg.guard as a table: which queries and updates are refused before any store sees
them, including keywords hidden by comments, strings or touching tokens."""

from __future__ import annotations

import pytest

from kg.errors import Refused
from kg.guard import Policy, check_query, check_update, tokens

EVIL = "http://127.0.0.1:9/sparql"
OPEN = Policy(service_allow=("https://query.wikidata.org/sparql", "https://dbpedia.org/"))

QUERIES = [
    # (query, refused by default, refused with the allow-list above)
    ("SELECT * WHERE { ?s ?p ?o }", False, False),
    (f"SELECT * WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}", True, True),
    (f"SELECT * WHERE {{ service silent <{EVIL}> {{ ?s ?p ?o }} }}", True, True),
    (f"SELECT * WHERE {{ SERVICE<{EVIL}>{{ ?s ?p ?o }} }}", True, True),
    (f"SELECT * WHERE {{ ?s ?p 1SERVICE <{EVIL}> {{ ?s ?p ?o }} }}", True, True),
    (f"SELECT * WHERE {{ ?s ?p trueSERVICE <{EVIL}> {{ ?s ?p ?o }} }}", True, True),
    (f"PREFIX e: <{EVIL}> SELECT * WHERE {{ SERVICEe:x {{ ?s ?p ?o }} }}", True, True),
    (f"PREFIX e: <{EVIL}> SELECT * WHERE {{ SERVICE e:x {{ ?s ?p ?o }} }}", True, True),
    ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", True, True),
    (f"SELECT * WHERE {{ ?s ?p <http://a/\\u0041#> . SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
     True, True),
    (f'SELECT * WHERE {{ ?s ?p "a\\" SERVICE" . SERVICE <{EVIL}> {{ ?s ?p ?o }} }}', True, True),
    (f"SELECT * WHERE {{ ?s ?p ?o }} # SERVICE <{EVIL}>", False, False),
    (f'SELECT * WHERE {{ ?s rdfs:label "web SERVICE <{EVIL}> {{}}" }}', False, False),
    (f"SELECT * WHERE {{ ?s ?p <{EVIL}#SERVICE> }}", False, False),
    ("SELECT ?service WHERE { ?service a wf:Service ; wf:service ?x }", False, False),
    ("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }",
     True, False),
    ("SELECT * WHERE { SERVICE <https://dbpedia.org/sparql> { ?s ?p ?o } }", True, False),
    ("SELECT * WHERE { SERVICE <https://dbpedia.org.evil/x> { ?s ?p ?o } }", True, True),
    ("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql2> { ?s ?p ?o } }",
     True, True),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", True, True),
    ("SELECT * FROM NAMED <FILE:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }", True, True),
    ("SELECT * WHERE { ?s ?p 'unterminated }", True, True),
]


@pytest.mark.parametrize(("query", "refused", "refused_with_allow_list"), QUERIES)
def test_query_table(query, refused, refused_with_allow_list):
    for policy, expected in [(Policy(), refused), (OPEN, refused_with_allow_list)]:
        if expected:
            with pytest.raises(Refused):
                check_query(query, policy)
        else:
            check_query(query, policy)


@pytest.mark.parametrize(("update", "refused"), [
    ("INSERT DATA { wfr:a rdfs:label 'a' }", False),
    ("LOAD <http://example.org/data.ttl>", True),
    ("load silent <http://example.org/data.ttl> INTO GRAPH <urn:g>", True),
    ("INSERT DATA { wfr:a rdfs:label 'LOAD <x>' } # LOAD <y>", False),
    (f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}", True),
    ("DELETE WHERE { ?s ?p ?o } ; LOAD <http://example.org/x>", True),
])
def test_update_table(update, refused):
    if refused:
        with pytest.raises(Refused):
            check_update(update)
    else:
        check_update(update)


def test_dataset_clauses_are_reported():
    checked = check_query("SELECT * FROM <urn:a> FROM NAMED <urn:b> WHERE { ?s ?p ?o }")
    assert checked.from_graphs == ("urn:a",) and checked.from_named == ("urn:b",)
    assert not check_query("SELECT * WHERE { ?s ?p ?o }").has_dataset


def test_tokens_skip_comments_strings_and_iris():
    kinds = [(t.kind, t.text) for t in tokens('SELECT ?x # c\n{ <a#b> "s#" 1.5 ex:y }')]
    assert kinds == [("word", "SELECT"), ("var", "?x"), ("punct", "{"), ("iri", "<a#b>"),
                     ("string", '"s#"'), ("number", "1.5"), ("pname", "ex:y"),
                     ("punct", "}")]
