"""kg.query.guard as a table: which queries and updates are refused before any store sees
them, including keywords hidden by comments, strings or touching tokens."""

from __future__ import annotations

import pytest

from kg.errors import QueryError, Refused
from kg.query.guard import Policy, check_query, check_update, parsed, tokens

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
    (f"SELECT * WHERE {{ ?s ?p 'unterminated }} SERVICE <{EVIL}> {{}}", True, True),
    # no guarded keyword anywhere: the store's parser reports the syntax error
    ("SELECT * WHERE { ?s ?p 'unterminated }", False, False),
    ("SELECT * WHERE { ?s ?p \"\\u0053ERVICE\" }", False, False),
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


@pytest.mark.parametrize("endpoint", [
    "http://host/ok/../admin/secret", "http://host/ok/%2e%2e/admin/secret",
    "http://host/ok/./../admin", "HTTP://HOST/ok/x", "http://host:80/ok/x",
])
def test_allow_service_dot_segments_and_unnormal_forms_are_refused(endpoint):
    policy = Policy(service_allow=("http://host/ok/",))
    with pytest.raises(Refused, match="normal form"):
        check_query(f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}", policy)


@pytest.mark.parametrize(("endpoint", "allowed"), [
    ("http://host/ok/x", True), ("http://host/ok/", True), ("http://host/okx", False),
    ("http://host:8080/ok/x", False), ("https://host/ok/x", False),
    ("http://user@host/ok/x", False), ("http://host.evil/ok/x", False),
])
def test_allow_service_matches_scheme_host_port_and_path_segments(endpoint, allowed):
    policy = Policy(service_allow=("http://host:80/ok/./",))
    assert policy.allows_service(endpoint) is allowed


@pytest.mark.parametrize(("query", "graphs", "named"), [
    ("SELECT * FROM g:meta { ?s ?p ?o }", ("https://w3id.org/workflow-kg/graph/meta",), ()),
    ("SELECT * FROM wfr:x FROM NAMED wfr:y { ?s ?p ?o }",
     ("https://w3id.org/workflow-kg/resource/x",), ("https://w3id.org/workflow-kg/resource/y",)),
    ("PREFIX e: <http://e.org/> SELECT * FROM NAMED e:a {}", (), ("http://e.org/a",)),
])
def test_from_prefixed_name_is_not_ignored(query, graphs, named):
    query = "PREFIX g: <https://w3id.org/workflow-kg/graph/> " + query
    checked = check_query(query)
    assert (checked.from_graphs, checked.from_named) == (graphs, named)


def test_from_without_a_graph_or_with_an_unknown_prefix_is_an_error():
    with pytest.raises(QueryError, match="unknown prefix 'nope:'"):
        check_query("SELECT * FROM nope:x { ?s ?p ?o }")
    with pytest.raises(QueryError, match="needs a graph IRI"):
        check_query("SELECT * FROM ?g { ?s ?p ?o }")


def test_request_nested_3000_deep_is_refused_before_parsing():
    deep = "SELECT * { " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000 + " }"
    with pytest.raises(Refused, match="nests groups more than"):
        check_query(deep)
    check_query("SELECT * { " + "{ " * 20 + "?s ?p ?o" + " }" * 20 + " }")


def test_from_prefixed_name_restricts_the_answer_to_that_graph(mini_graph):
    from kg.workers import QueryRunner

    count = ("PREFIX g: <https://w3id.org/workflow-kg/graph/> "
             "SELECT (COUNT(*) AS ?n) {from} {{ ?s ?p ?o }}")
    runner = QueryRunner(mini_graph, Policy(), workers=1)
    try:
        meta = runner.query(count.format(**{"from": "FROM g:meta"})).values("n")
        full = runner.query(count.format(**{"from": "FROM <https://w3id.org/workflow-kg/"
                                                    "graph/meta>"})).values("n")
        everything = runner.query(count.format(**{"from": ""})).values("n")
    finally:
        runner.close()
    assert meta == full and int(meta[0]) < int(everything[0])


@pytest.mark.parametrize(("text", "update"), [
    ("PREFIX g: <urn:g:> SELECT * FROM g:a FROM NAMED <urn:b> { ?s ?p ?o }", False),
    ("SELECT * { SERVICE <https://dbpedia.org/sparql> { ?s ?p ?o } }", False),
    ("DELETE { ?s ?p ?o } USING wfr:a USING NAMED wfr:b WHERE { ?s ?p ?o }", True),
])
def test_sparql_parser_reads_the_same_clauses_as_the_tokenizer(text, update):
    checked = (check_update if update else check_query)(text, OPEN)
    reading = parsed(text, update=update)
    assert reading is not None and not reading.load
    assert reading.services == frozenset(checked.services)
    assert (reading.from_graphs, reading.from_named) == (
        frozenset(checked.from_graphs), frozenset(checked.from_named))


def test_sparql_parser_finds_load_and_a_disagreement_is_refused():
    assert parsed("LOAD <http://example.org/x> INTO GRAPH <urn:g>", update=True).load
    from kg.query.guard import Checked, _agree

    other = parsed("SELECT * FROM <urn:a> { ?s ?p ?o }", update=False)
    with pytest.raises(Refused, match="read two ways"):
        _agree(Checked(from_graphs=("urn:b",)), other)


def test_request_too_deep_for_the_parser_keeps_the_tokenizer_reading():
    deep = "SELECT * FROM <urn:a> { " + "{ " * 60 + "?s ?p ?o" + " }" * 60 + " }"
    assert parsed(deep, update=False) is None
    assert check_query(deep).from_graphs == ("urn:a",)


def test_service_port_out_of_range_is_a_query_error_not_a_crash():
    with pytest.raises(QueryError, match="no valid port"):
        check_query("SELECT * { SERVICE <http://host:99999/sparql> { ?s ?p ?o } }")


def test_an_ipv6_allow_service_entry_matches_its_endpoint():
    policy = Policy(service_allow=("http://[::1]:7878/sparql",))
    checked = check_query("SELECT * { SERVICE <http://[::1]:7878/sparql> { ?s ?p ?o } }", policy)
    assert checked.services == ("http://[::1]:7878/sparql",)
    with pytest.raises(Refused, match="not allowed"):
        check_query("SELECT * { SERVICE <http://[::2]:7878/sparql> { ?s ?p ?o } }", policy)


@pytest.mark.parametrize(("query", "costly"), [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", True),
    ("SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a", True),
    ("SELECT * { ?a ?b ?c } LIMIT 10", False),
    ("SELECT ?a ?b ?c { wfr:x ?b ?c . ?a rdfs:label ?c }", False),
    # the same shapes on the tokenizer's path (a keyword elsewhere in the text)
    ("SELECT * FROM <urn:g> { ?a ?b ?c . ?d ?e ?f }", True),
    ("SELECT ?service { ?service rdfs:label ?l }", False),
])
def test_cost_estimate_flags_joins_of_whole_store_scans(query, costly):
    assert check_query(query).costly is costly
