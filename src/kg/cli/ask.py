"""`kg query`, `queries`, `prefixes`, `path` and `decide`: the commands that ask the graph
(kg.query, kg.evidence)."""

from __future__ import annotations

import json

import click

from ..errors import LimitExceeded, QueryError, StoreNotBuilt
from ..evidence.decide import decide, describe_values
from ..evidence.decide import render as render_decision
from ..evidence.decide import rules as decide_rules
from ..evidence.views import withheld_note
from ..namespaces import PREFIXES, shorten
from ..paper.report import path_latex, path_markdown
from ..pipeline.evidence import EVIDENCE_VIEWS
from ..query.queries import concatenated
from ..query.terms import resolve_all
from .common import SECONDS, fail, graph_of, parse_params, terminal_width

QUERY_FORMATS = ("table", "csv", "tsv", "json", "md", "xml", "ttl", "nt", "jsonld")


@click.command()
@click.argument("name_or_file", required=False)
@click.option("-e", "--expression", help="Inline SPARQL text instead of a named query.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the named query (repeatable).")
@click.option("--format", "-f", "fmt", type=click.Choice(QUERY_FORMATS), default="table",
              show_default=True)
@click.option("--evidence", type=click.Choice(EVIDENCE_VIEWS), default="all", show_default=True,
              help="Which facts the query sees: all, or only those a cited source states "
                   "(the verified view).")
@click.option("--labels", metavar="LANG",
              help="Add a label column in this language (e.g. en, zh) after each IRI column.")
@click.option("--time-limit", type=SECONDS, envvar="KG_TIME_LIMIT", metavar="SECONDS",
              help="Stop the query after this many seconds, as `kg serve` does "
                   "[default: no limit].")
@click.option("--wide", is_flag=True,
              help="Table: print every cell in full instead of cutting long cells to the "
                   "terminal's width.")
@click.pass_context
def query(ctx: click.Context, name_or_file: str | None, expression: str | None,
          params: tuple[str, ...], fmt: str, evidence: str, labels: str | None,
          time_limit: float | None, wide: bool) -> None:
    """Run a named query, a .rq file, or inline SPARQL (-e). An IRI parameter may be
    given as a label (English or Chinese, any case) or a local name.

    \b
    Examples:
      kg query unverified
      kg query cases-by-technology --param tech=Temporal --format csv
      kg query -e 'SELECT ?s WHERE { ?s a wf:WorkflowEngine }'
      kg query engine-backends --evidence verified
      kg query engine-backends --wide
    """
    graph = graph_of(ctx)
    try:
        text, bindings, warn = graph.query_input(name_or_file, expression, parse_params(params))
        result = graph.sparql(text, bindings=bindings, evidence=evidence, labels=labels,
                              time_limit=time_limit)
        if warn:
            for warning in graph.warnings(text):
                click.echo(f"warning: {warning}", err=True)
        result = result.sorted_lists(concatenated(text))
        if result.withheld:
            click.echo(f"note: {withheld_note(result.withheld)}", err=True)
        output = result.serialize(fmt, max_width=None if wide else terminal_width())
    except QueryError as err:
        fail(str(err), 2)
    except ValueError as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    except LimitExceeded as err:
        fail(str(err), 1)
    printed = output.decode("utf-8")
    click.echo(printed, nl=not printed.endswith("\n"))  # JSON has no newline of its own


@click.command("queries")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def list_queries(ctx: click.Context, fmt: str) -> None:
    """List the named queries with their titles and parameters.

    \b
    Example:
      kg queries --format json
    """
    registry = graph_of(ctx).queries
    if fmt == "json":
        click.echo(json.dumps([{
            "name": q.name, "title": q.title, "description": q.description,
            "parameters": [{"name": p.name, "type": p.type, "default": p.default,
                            "required": p.required, "description": p.description}
                           for p in q.parameters],
            "examples": list(q.examples)} for q in registry], indent=2, ensure_ascii=False))
        return
    for q in registry:
        params = ", ".join(
            f"{p.name}:{p.type}" + (f"={p.default}" if p.default else "")
            + ("?" if p.optional else "") for p in q.parameters)
        click.echo(f"{q.name:32} {q.title}" + (f"  [{params}]" if params else ""))


@click.command()
@click.argument("a")
@click.argument("b")
@click.option("--limit", default=3, show_default=True, type=click.IntRange(1, 50),
              help="How many shortest paths.")
@click.option("--evidence", type=click.Choice(EVIDENCE_VIEWS), default="all", show_default=True,
              help="'verified': only facts a cited source states (leaves out the plain "
                   "triples that only Unverified statements state).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "latex", "markdown"]),
              default="text", show_default=True,
              help="json: each step with its fact IRI and source keys; latex, markdown: a "
                   "list for a paper, each step citing its sources.")
@click.pass_context
def path(ctx: click.Context, a: str, b: str, limit: int, evidence: str, fmt: str) -> None:
    """Explain how two resources are connected: their shortest paths, step by step.
    A step that rests on an Unverified statement is marked [unverified]; `kg cite --path
    A B` cites the facts of the steps.

    \b
    Examples:
      kg path wfr:temporal wfr:payment-atomicity
      kg path TLA+ "Payment atomicity" --evidence verified
    """
    graph = graph_of(ctx)
    try:
        start, end = resolve_all(graph.store, [a, b])
        links = graph.links(evidence)
        found = links.paths(start, end, limit=limit)
        labels = links.labels
    except (QueryError, ValueError) as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    if not found:
        fail(f"no path between {a} and {b}", 1)
    if fmt == "json":
        click.echo(json.dumps([p.to_dict(labels) for p in found], indent=2, ensure_ascii=False))
        return
    if fmt in ("latex", "markdown"):
        click.echo((path_latex if fmt == "latex" else path_markdown)(found, labels), nl=False)
        return
    for number, found_path in enumerate(found, 1):
        click.echo(f"{number}. ({len(found_path)} step{'s' if len(found_path) > 1 else ''}) "
                   f"{found_path.explain(labels)}")


@click.command()
def prefixes() -> None:
    """Print the prefixes every query may use without declaring them.

    \b
    Example:
      kg prefixes
    """
    for prefix, ns in PREFIXES.items():
        click.echo(f"PREFIX {prefix}: <{ns}>")


@click.command("decide")
@click.option("--require", "-r", "required", multiple=True, metavar="KEY=VALUE",
              help="A hard requirement (repeatable), e.g. guarantee=wfr:exactly-once-effects.")
@click.option("--prefer", "preferred", multiple=True, metavar="KEY=VALUE",
              help="A soft preference (repeatable): ranks, never excludes.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md", "mermaid"]),
              default="text", show_default=True,
              help="mermaid: the decision tree the rules imply.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Candidates shown (text, md).")
@click.option("--rules", "list_rules", is_flag=True, help="List the decision rules.")
@click.pass_context
def decide_command(ctx: click.Context, required: tuple[str, ...], preferred: tuple[str, ...],
                   fmt: str, limit: int, list_rules: bool) -> None:
    """Rank workflow engines (with the backends and SDKs the evidence names) against
    requirements, rule by rule, with the facts and sources each rule used, and say which
    requirements the evidence cannot decide. The rules are data (wf:DecisionRule, see
    data/decision-rules.ttl).

    \b
    Examples:
      kg decide --require guarantee=wfr:exactly-once-effects --require language=Go
      kg decide -r backend=wfr:postgresql --prefer production-use=yes --format md
      kg decide -r language=Python -r deployment=multi-region --format mermaid
    """
    graph = graph_of(ctx)
    try:
        if list_rules:
            for rule in decide_rules(graph.store):
                click.echo(f"{rule.key:16} {rule.label}  ({shorten(rule.iri)})")
                click.echo(f"{'':16} values: {describe_values(graph.store, rule)}")
            return
        decision = decide(graph, require=list(required), prefer=list(preferred))
    except QueryError as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    click.echo(render_decision(decision, fmt, limit=limit), nl=False)


COMMANDS = [query, list_queries, path, prefixes, decide_command]
