"""`kg validate`: good data passes; each kind of bad data is named precisely."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kg.namespaces import TURTLE_PREFIXES

PREFIXES = "\n" + TURTLE_PREFIXES


def add(project, name: str, turtle: str):
    path = project / "data" / name
    path.write_text(PREFIXES + turtle, encoding="utf-8")
    return path


def violations(cli, *args):
    result = cli("validate", "--format", "json", *args)
    report = json.loads(result.stdout)
    return result, report["violations"]


def test_fixture_data_conforms(cli):
    result = cli("validate")
    assert result.exit_code == 0, result.stderr
    assert "valid" in result.stdout


def test_syntax_error_names_file_and_line(cli, mini_project):
    add(mini_project, "broken.ttl", 'wfr:x a wf:Mechanism ;\n    rdfs:label "unterminated .\n')
    result = cli("validate")
    assert result.exit_code == 1
    label_line = PREFIXES.count("\n") + 2  # the second line after the prefix block
    assert f"data/broken.ttl:{label_line}:" in result.stderr


def test_violation_names_file_focus_path_constraint_and_message(cli, mini_project):
    add(mini_project, "extra.ttl", 'wfr:lonely a wf:Mechanism ; rdfs:label "Lonely"@en ;\n'
                                   '    skos:definition "No Chinese label."@en .\n')
    result, found = violations(cli)
    assert result.exit_code == 1
    [v] = [v for v in found if v["focus"] == "wfr:lonely" and v["path"] == "rdfs:label"]
    assert v["file"] == "data/extra.ttl"
    assert v["path"] == "rdfs:label"
    assert v["constraint"] == "sh:QualifiedMinCountConstraintComponent"
    assert "Chinese label" in v["message"]
    text = cli("validate").stderr
    assert "data/extra.ttl: wfr:lonely path rdfs:label" in text


@pytest.mark.parametrize(("turtle", "focus", "needle"), [
    # an evidence-requiring fact written as a plain triple
    ("wfr:engine-b wf:implementsMechanism wfr:mech-log .", "wfr:engine-b", "needs evidence"),
    # verified but cites nothing
    ("[] a wf:Statement ; rdf:subject wfr:engine-b ; rdf:predicate wf:implementsMechanism ;"
     " rdf:object wfr:mech-log ; wf:evidenceStatus wf:Verified .", "statement/", "cites no source"),
    # no status at all
    ("wfr:case-q a wf:CaseStudy ; rdfs:label \"Q\"@en , \"Q\"@zh ; wf:organisation wfr:org-p ;"
     " wf:domain wfr:dom-pay .", "wfr:case-q", "evidence status"),
    # a reference to something never declared
    ("wfr:task-3 a wf:Task ; rdfs:label \"T\"@en , \"T\"@zh ; skos:definition \"T\"@en ;"
     " dcterms:isPartOf wfr:wp-1 ; wf:studies wfr:no-such-thing .", "wfr:task-3", "never declared"),
    # an entity linked to nothing
    ("wfr:island a wf:Mechanism ; rdfs:label \"I\"@en , \"I\"@zh ; skos:definition \"I\"@en .",
     "wfr:island", "not linked"),
    # a term the ontology does not have
    ("wfr:engine-b wf:supportz wfr:db-x .", "wfr:engine-b", "not a term of the ontology"),
    # a week outside 1..32
    ("wfr:wp-9 a wf:WorkPackage ; rdfs:label \"W\"@en , \"W\"@zh ; skos:definition \"W\"@en ;"
     " wf:startWeek 30 ; wf:endWeek 33 .", "wfr:wp-9", "1..32"),
    # start after end
    ("wfr:wp-8 a wf:WorkPackage ; rdfs:label \"W\"@en , \"W\"@zh ; skos:definition \"W\"@en ;"
     " wf:startWeek 5 ; wf:endWeek 3 .", "wfr:wp-8", "not after"),
    # a citation key used twice
    ("src:dup a wf:Source ; wf:citationKey \"fixture-doc\" ; dcterms:title \"D\" ;"
     " dcterms:publisher \"P\" ; schema:url <https://example.org/d> ; wf:sourceKind wf:BlogPost .",
     "src:dup", "unique"),
    # a source with neither URL nor DOI
    ("src:nolink a wf:Source ; wf:citationKey \"nolink\" ; dcterms:title \"N\" ;"
     " dcterms:publisher \"P\" ; wf:sourceKind wf:Book .", "src:nolink", "URL"),
    # a numeric finding without a unit
    ("wfr:bench-b a wf:BenchmarkFinding ; rdfs:label \"B\"@en ; wf:system wfr:engine-b ;"
     " wf:workload \"w\" ; wf:metric wf:Latency ; <http://qudt.org/schema/qudt/numericValue> 3 ;"
     " wf:evidenceStatus wf:Unverified .", "wfr:bench-b", "unit"),
    # statement object outside the predicate's range
    ("[] a wf:Statement ; rdf:subject wfr:engine-b ; rdf:predicate wf:supportsBackend ;"
     " rdf:object wfr:mech-log ; wf:evidenceStatus wf:Unverified .", "statement/", "range"),
])
def test_each_rule_is_enforced(cli, mini_project, turtle, focus, needle):
    add(mini_project, "bad.ttl", turtle + "\n")
    result, found = violations(cli)
    assert result.exit_code == 1
    hits = [v for v in found if focus in v["focus"] and needle in v["message"]]
    assert hits, found
    assert all(v["file"] == "data/bad.ttl" for v in hits)


def test_plain_triple_is_excused_only_by_a_statement_of_that_very_triple(cli, mini_project):
    """The evidence rule finds statements by their subject and then checks predicate and
    object: a statement of the same subject, predicate or object alone excuses nothing."""
    add(mini_project, "bad.ttl", """
wfr:engine-b wf:implementsMechanism wfr:mech-log .
wfr:engine-a wf:supportsBackend wfr:db-x .
[] a wf:Statement ; rdf:subject wfr:engine-b ; rdf:predicate wf:supportsBackend ;
   rdf:object wfr:mech-log ; wf:evidenceStatus wf:Unverified .
[] a wf:Statement ; rdf:subject wfr:engine-b ; rdf:predicate wf:implementsMechanism ;
   rdf:object wfr:db-x ; wf:evidenceStatus wf:Unverified .
""")
    result, found = violations(cli)
    assert result.exit_code == 1
    hits = {(v["focus"], v["path"], v["value"]) for v in found if "needs evidence" in v["message"]}
    # engine-a's db-x is stated in the fixture, and so is engine-a's mech-log (the same
    # predicate and object); engine-b has statements of the same subject and object, and
    # of the same subject and predicate, but none of this triple
    assert hits == {("wfr:engine-b", "wf:implementsMechanism", "wfr:mech-log")}


def test_validate_given_paths_only(cli, mini_project):
    bad = add(mini_project, "bad.ttl", "wfr:engine-b wf:supportz wfr:db-x .\n")
    # validating the fixture file alone ignores bad.ttl
    assert cli("validate", str(mini_project / "data" / "mini.ttl")).exit_code == 0
    assert cli("validate", str(bad), str(mini_project / "data" / "mini.ttl")).exit_code == 1


def test_contradicted_statement_is_not_derived(mini_graph):
    ask = "ASK { wfr:engine-a wf:supportsBackend wfr:db-y }"
    assert mini_graph.sparql(ask).boolean is False
    assert mini_graph.sparql("ASK { wfr:engine-a wf:supportsBackend wfr:db-x }").boolean is True
    # the unverified claim is still derived, and still marked unverified
    assert mini_graph.sparql("ASK { wfr:engine-b wf:supportsBackend wfr:db-y }").boolean is True


# ------------------------------------------------------------ the SPARQL evaluation
def _reference(project_root):
    """The same inputs validated by pySHACL (the core constraints) over rdflib graphs."""
    from kg.pipeline import evidence
    from kg.pipeline.load import parse_files
    from kg.pipeline.project import find_project
    from kg.pipeline.shapes import union, validate_graph

    project = find_project(project_root, None)
    show = project.relative
    ontology = parse_files(project.ontology_files(), display=show)
    shapes = parse_files([project.shapes_file], display=show)[0]
    data = parse_files(project.data_files(), display=show)
    derived = evidence.apply(data)  # skolemises the statements in place first
    everything = union(ontology + data)
    for triples in derived.values():
        everything += triples
    files = ontology + data
    return (validate_graph(everything, shapes.graph, files=files, engine="pyshacl"),
            validate_graph(everything, shapes.graph, files=files))


@pytest.mark.slow
@pytest.mark.parametrize("fixtures", [("mini.ttl", "seeded-bad.ttl"), "curated"])
def test_sparql_evaluation_reports_what_pyshacl_reports(tmp_path, fixtures):
    """Every result: file, focus node, path, value, constraint and message, on the curated
    data (which conforms) and on every kind of seeded violation; both through the build's
    store and through an rdflib graph."""
    from conftest import FIXTURES, ROOT, make_project
    from kg.pipeline.build import compile_inputs
    from kg.pipeline.project import find_project

    root = ROOT if fixtures == "curated" else make_project(
        tmp_path / "p", *(FIXTURES / name for name in fixtures))
    reference, from_graph = _reference(root)
    from_store = compile_inputs(find_project(root, None)).report

    def same(found):  # blank nodes (incomplete statements) have a label per parse
        return sorted((dataclasses.replace(v, focus="_:") if ":" not in v.focus else v
                       for v in found), key=str)

    assert same(from_store.violations) == same(reference.violations)
    assert same(from_store.warnings) == same(reference.warnings)
    assert same(from_graph.violations) == same(reference.violations)
    if fixtures == "curated":
        assert reference.conforms
        return
    kinds = {v.constraint for v in reference.violations}
    assert {"sh:MinCountConstraintComponent", "sh:MaxCountConstraintComponent",
            "sh:DatatypeConstraintComponent", "sh:ClassConstraintComponent",
            "sh:NodeKindConstraintComponent", "sh:InConstraintComponent",
            "sh:PatternConstraintComponent", "sh:QualifiedMinCountConstraintComponent",
            "sh:QualifiedMaxCountConstraintComponent", "sh:OrConstraintComponent",
            "sh:NotConstraintComponent", "sh:NodeConstraintComponent",
            "sh:MinInclusiveConstraintComponent", "sh:MaxInclusiveConstraintComponent",
            "sh:LessThanOrEqualsConstraintComponent",
            "sh:SPARQLConstraintComponent"} <= kinds
    assert {v.file for v in reference.violations} == {"data/seeded-bad.ttl"}
