"""The `kg` command line: a thin adapter that parses arguments, calls the core and renders.

Exit codes: 0 success; 1 the data is bad (syntax, SHACL, OWL inconsistency);
2 the request is bad (unknown query, bad parameter, SPARQL syntax, usage)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click

from ._version import __version__
from .errors import (
    KgError,
    LimitExceeded,
    QueryError,
    RdfSyntaxError,
    StoreHasUpdates,
    StoreNotBuilt,
    StoreWriteFailed,
    ValidationFailed,
)
from .evidence.decide import decide, describe_values
from .evidence.decide import render as render_decision
from .evidence.decide import rules as decide_rules
from .evidence.progress import PROGRESS_FORMATS
from .evidence.progress import progress as plan_progress
from .evidence.views import in_view, withheld_note
from .graph import EXPORT_FORMATS, KnowledgeGraph
from .namespaces import PREFIXES, expand, shorten
from .paper import manuscript as paper_module
from .paper.bibimport import LibraryError
from .paper.cite import FORMATS as CITE_FORMATS
from .paper.cite import STYLES as CITE_STYLES
from .paper.cite import entries_for_keys
from .paper.cite import render as render_citations
from .paper.figures import FIGURES, figure_data, latex_figure, markdown_figure
from .paper.figures import draw as draw_figure
from .paper.report import (
    TABLE_FORMATS,
    TABLE_SUFFIXES,
    TABLES,
    build_table,
    path_latex,
    path_markdown,
    render_table,
)
from .pipeline.evidence import EVIDENCE_VIEWS
from .pipeline.shapes import ValidationReport
from .query.queries import concatenated
from .query.results import rows_as_csv

QUERY_FORMATS = ("table", "csv", "tsv", "json", "md", "xml", "ttl", "nt", "jsonld")


class Progress:
    """Prints what a long command is doing, with elapsed time, on stderr."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"[{time.monotonic() - self.start:6.1f}s] {message}", err=True)


def _graph(ctx: click.Context) -> KnowledgeGraph:
    return KnowledgeGraph(ctx.obj["project"], store=ctx.obj["store"],
                          **ctx.obj.get("endpoints", {}))


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _print_report(report: ValidationReport, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    for violation in report.violations:
        click.echo(str(violation), err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.conforms:
        click.echo(f"valid: {len(report.files)} file(s) conform to the shapes"
                   + (f" ({len(report.warnings)} warning(s))" if report.warnings else ""))
    else:
        click.echo(f"invalid: {len(report.violations)} violation(s)", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
@click.option("--project", type=click.Path(file_okay=False), envvar="KG_PROJECT",
              help="Project folder holding ontology/, data/, queries/ [default: the nearest "
                   "one above the current folder, else the copy installed with kg].")
@click.option("--store", type=click.Path(file_okay=False), envvar="KG_STORE",
              help="Store folder [default: <project>/.kg].")
@click.option("--endpoint", envvar="KG_ENDPOINT", metavar="URL",
              help="Run against this remote SPARQL 1.1 query endpoint instead of the "
                   "embedded store.")
@click.option("--update-endpoint", envvar="KG_UPDATE_ENDPOINT", metavar="URL",
              help="The remote SPARQL Update endpoint [default: derived from --endpoint "
                   "for the store's kind, else --endpoint].")
@click.option("--store-endpoint", envvar="KG_STORE_ENDPOINT", metavar="URL",
              help="The remote Graph Store Protocol endpoint, for `kg push` "
                   "[default: derived from --endpoint for the store's kind, else --endpoint].")
@click.option("--store-kind", envvar="KG_STORE_KIND", default="auto", show_default=True,
              type=click.Choice(["auto", "oxigraph", "fuseki", "virtuoso", "sparql"]),
              help="The remote store's kind, for its adapter (auto: from its answers). "
                   "Credentials come from KG_REMOTE_USER and KG_REMOTE_PASSWORD, or "
                   "KG_REMOTE_TOKEN, never from the command line.")
@click.pass_context
def main(ctx: click.Context, project: str | None, store: str | None, endpoint: str | None,
         update_endpoint: str | None, store_endpoint: str | None, store_kind: str) -> None:
    """Workflow KG: build, validate, query and cite a knowledge graph of workflow engines,
    distributed computing and formal verification.

    \b
    Example:
      kg build && kg query cases-by-technology --param tech=wfr:temporal
    """
    ctx.obj = {"project": project, "store": store,
               "endpoints": {"endpoint": endpoint, "update_endpoint": update_endpoint,
                             "store_endpoint": store_endpoint, "store_kind": store_kind}}


@main.command()
@click.option("--force", is_flag=True, help="Rebuild even if no input changed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def build(ctx: click.Context, force: bool, quiet: bool) -> None:
    """Compile ontology/ and data/ into the store (validate, reason, swap in atomically).

    \b
    Example:
      kg build --force
    """
    try:
        result = _graph(ctx).build(force=force, progress=Progress(quiet))
    except RdfSyntaxError as err:
        _fail(f"syntax error: {err}; the store is unchanged", 1)
    except ValidationFailed as err:
        _print_report(err.report, "text")
        _fail("build refused: the data does not conform; the store is unchanged", 1)
    except (StoreHasUpdates, StoreWriteFailed) as err:
        _fail(f"build refused: {err}", 1)
    graph = _graph(ctx)
    if graph.remote is None:
        from .pages.ontodoc import ontology_page

        Progress(quiet)("documenting the ontology (pyLODE), if it changed")
        ontology_page(graph.project)
    if result.built:
        click.echo(f"built {result.triples} triples ({result.derived} derived from statements, "
                   f"{result.inferred} inferred) into {result.store_path}")
    else:
        click.echo("up to date: inputs unchanged since the last build")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], fmt: str) -> None:
    """Check files or folders against the SHACL shapes (default: ontology/ and data/).

    Exit 0 when valid, 1 when not. Each violation names the file, focus node, path,
    constraint and message.

    \b
    Example:
      kg validate data/cases.ttl --format json
    """
    try:
        report = _graph(ctx).validate(list(paths) or None)
    except RdfSyntaxError as err:
        if fmt == "json":
            click.echo(json.dumps({"conforms": False, "syntax_error": {
                "file": err.problem.file, "line": err.problem.line,
                "message": err.problem.message}}))
        _fail(f"syntax error: {err}", 1)
    _print_report(report, fmt)
    sys.exit(0 if report.conforms else 1)


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        if "=" not in item:
            _fail(f"--param expects name=value, got {item!r}", 2)
        key, value = item.split("=", 1)
        params[key.strip()] = value
    return params


@main.command()
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
@click.option("--time-limit", type=float, envvar="KG_TIME_LIMIT", metavar="SECONDS",
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
    graph = _graph(ctx)
    try:
        text, bindings, warn = _query_text(graph, name_or_file, expression, params)
        if time_limit is None:
            result = graph.sparql(text, bindings=bindings, evidence=evidence)
        else:
            result = in_view(graph.store, _time_limited(graph, text, bindings, time_limit,
                                                        default_graph=graph.view(evidence)),
                             evidence)
        if labels:
            result = graph.labelled(result, labels)
        if warn:
            for warning in graph.warnings(text):
                click.echo(f"warning: {warning}", err=True)
        result = result.sorted_lists(concatenated(text))
        if result.withheld:
            click.echo(f"note: {withheld_note(result.withheld)}", err=True)
        output = result.serialize(fmt, max_width=None if wide else _terminal_width())
    except QueryError as err:
        _fail(str(err), 2)
    except ValueError as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    except LimitExceeded as err:
        _fail(str(err), 1)
    click.echo(output.decode("utf-8"), nl=False)


def _terminal_width() -> int | None:
    """The columns a table may take: $COLUMNS, else the terminal's width; None when the
    output goes to a file or a pipe (nothing to fit)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _query_text(graph: KnowledgeGraph, name_or_file: str | None, expression: str | None,
                params: tuple[str, ...]) -> tuple[str, dict, bool]:
    """The SPARQL text and bindings `kg query` runs, and whether to warn about unknown
    terms (inline and file queries; the named queries are tested)."""
    if expression is not None:
        if name_or_file:
            _fail("give a query name/file or -e, not both", 2)
        return expression, {}, True
    if not name_or_file:
        _fail("give a named query (see `kg queries`), a .rq file, or -e SPARQL", 2)
    path = Path(name_or_file)
    if path.is_file():
        from .query.queries import parse_header

        text = path.read_text(encoding="utf-8")
        try:
            bindings = parse_header(path.stem, path, text).bindings(_parse_params(params),
                                                                     graph.resolve)
        except QueryError:
            if params:
                raise
            bindings = {}
        return text, bindings, True
    if path.suffix == ".rq" or "/" in name_or_file:
        _fail(f"file not found: {name_or_file}", 2)
    named = graph.named(name_or_file)
    return named.text, named.bindings(_parse_params(params), graph.resolve), False


def _time_limited(graph: KnowledgeGraph, text: str, bindings: dict, seconds: float, *,
                  default_graph: list[str] | None = None):
    """Run in a worker process that is stopped at the time limit, as `kg serve` does
    (without the service's row limit)."""
    from .query.guard import Policy
    from .workers import QueryRunner

    runner = QueryRunner(graph, Policy(time_limit=seconds, max_rows=10**9,
                                       max_result_bytes=10**12), workers=1)
    try:
        return runner.query(text, bindings=bindings, default_graph=default_graph)
    finally:
        runner.close()


@main.command("queries")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def list_queries(ctx: click.Context, fmt: str) -> None:
    """List the named queries with their titles and parameters.

    \b
    Example:
      kg queries --format json
    """
    registry = _graph(ctx).queries
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


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.pass_context
def stats(ctx: click.Context, fmt: str) -> None:
    """Counts of instances per class and of triples per named graph.

    \b
    Example:
      kg stats --format json
    """
    try:
        result = _graph(ctx).stats()
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    if fmt == "json":
        click.echo(json.dumps({"classes": result.classes, "graphs": result.graphs,
                               "build": result.info}, indent=2))
    elif fmt == "csv":
        rows = [["class", c, str(n)] for c, n in result.classes.items()]
        rows += [["graph", g, str(n)] for g, n in result.graphs.items()]
        click.echo(rows_as_csv(["kind", "name", "count"], rows), nl=False)
    else:
        click.echo("instances per class:")
        for name, count in result.classes.items():
            click.echo(f"  {count:6d}  {name}")
        click.echo("triples per graph:")
        for name, count in result.graphs.items():
            click.echo(f"  {count:6d}  {name}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="ttl",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File [default: stdout].")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str | None) -> None:
    """Export the built dataset (triple formats merge graphs; nq/trig/jsonld keep them).

    \b
    Example:
      kg export --format trig -o workflow-kg.trig
    """
    try:
        data = _graph(ctx).export(fmt)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    if output:
        Path(output).write_bytes(data)
    else:
        click.echo(data.decode("utf-8"), nl=False)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def check(ctx: click.Context, paths: tuple[str, ...], quiet: bool) -> None:
    """OWL DL consistency of ontology + data with HermiT (needs Java).

    Reports unsatisfiable classes and individuals that are in disjoint classes; exit 1
    when inconsistent.

    \b
    Example:
      kg check
    """
    try:
        report = _graph(ctx).check(list(paths) or None, progress=Progress(quiet))
    except RdfSyntaxError as err:
        _fail(f"syntax error: {err}", 1)
    for clash in report.clashes:
        click.echo(f"inconsistent: {clash}", err=True)
    for cls in report.unsatisfiable_classes:
        click.echo(f"unsatisfiable class: {cls}", err=True)
    if report.ok:
        click.echo("consistent: HermiT found no contradiction and no unsatisfiable class")
    else:
        _fail(report.message, 1)


@main.command()
@click.argument("resources", nargs=-1)
@click.option("--query", "query_name", help="Cite the facts a named query's answer rests on.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of --query (repeatable).")
@click.option("--dataset", is_flag=True,
              help="Cite the built dataset itself (version, build date, input hash).")
@click.option("--format", "fmt", type=click.Choice(CITE_FORMATS), default="biblatex",
              show_default=True)
@click.option("--style", type=click.Choice(CITE_STYLES), default="apa", show_default=True,
              help="CSL style of --format text.")
@click.option("--evidence", type=click.Choice(EVIDENCE_VIEWS), default="all", show_default=True,
              help="'verified': only sources of facts a cited source states (the query "
                   "runs on the verified view).")
@click.option("--path", "path_ends", nargs=2, metavar="A B",
              help="Cite the facts of the shortest path from A to B (see kg path).")
@click.option("--limit", default=1, show_default=True, type=click.IntRange(1, 50),
              help="How many shortest paths --path cites.")
@click.pass_context
def cite(ctx: click.Context, resources: tuple[str, ...], query_name: str | None,
         params: tuple[str, ...], dataset: bool, fmt: str, style: str, evidence: str,
         path_ends: tuple[str, str] | None, limit: int) -> None:
    """Export the sources behind resources, or behind exactly the facts of a query's
    answer, as BibTeX, CSL-JSON, RIS or a formatted list (APA, IEEE, GB/T 7714). Each
    entry says whether it supports or disputes the facts it is cited for (keywords
    cito:citesAsEvidence / cito:disputes).

    \b
    Examples:
      kg cite wfr:temporal
      kg cite --query engine-backends --param engine=wfr:temporal --format csl-json
      kg cite wfr:tla-plus --format text --style gb7714
      kg cite --path wfr:tla-plus wfr:payment-atomicity --format bibtex
      kg cite --dataset

    biblatex (the default) is for biblatex with biber; bibtex for classic BibTeX styles
    such as natbib's plainnat (web pages as @misc, a year on every entry).
    """
    if not resources and not query_name and not dataset and not path_ends:
        _fail("name at least one resource (e.g. wfr:temporal), or give --query, --path or "
              "--dataset", 2)
    try:
        entries = _graph(ctx).citations(list(resources), query=query_name,
                                        params=_parse_params(params), dataset=dataset,
                                        evidence=evidence, path=path_ends, path_limit=limit)
        text = render_citations(entries, fmt, style=style)
    except (QueryError, ValueError) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    disputing = sum(1 for e in entries if e.disputes)
    click.echo(f"{len(entries)} source(s), {disputing} of them disputing a fact "
               f"(keyword cito:disputes)", err=True)
    click.echo(text, nl=False)


@main.command()
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
      kg path wfr:temporal wfr:payment-atomicity --evidence verified
    """
    graph = _graph(ctx)
    try:
        links = graph.links(evidence)
        found = links.paths(expand(a), expand(b), limit=limit)
        labels = links.labels
    except (QueryError, ValueError) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    if not found:
        _fail(f"no path between {a} and {b}", 1)
    if fmt == "json":
        click.echo(json.dumps([p.to_dict(labels) for p in found], indent=2, ensure_ascii=False))
        return
    if fmt in ("latex", "markdown"):
        click.echo((path_latex if fmt == "latex" else path_markdown)(found, labels), nl=False)
        return
    for number, found_path in enumerate(found, 1):
        click.echo(f"{number}. ({len(found_path)} step{'s' if len(found_path) > 1 else ''}) "
                   f"{found_path.explain(labels)}")


@main.command()
def prefixes() -> None:
    """Print the prefixes every query may use without declaring them.

    \b
    Example:
      kg prefixes
    """
    for prefix, ns in PREFIXES.items():
        click.echo(f"PREFIX {prefix}: <{ns}>")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="KG_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="KG_PORT")
@click.option("--time-limit", default=10.0, show_default=True, type=float,
              envvar="KG_TIME_LIMIT", help="Seconds a query may run before it is stopped.")
@click.option("--max-rows", default=10_000, show_default=True, type=int,
              envvar="KG_MAX_ROWS", help="Rows (or triples) an answer may have.")
@click.option("--max-body", default=1_000_000, show_default=True, type=int,
              envvar="KG_MAX_BODY", help="Bytes a request body may have.")
@click.option("--allow-service", multiple=True, envvar="KG_ALLOW_SERVICE", metavar="IRI",
              help="A SERVICE endpoint queries may call (repeatable; an IRI ending in '/' "
                   "allows all below it). Default: none.")
@click.option("--workers", default=None, type=int, envvar="KG_WORKERS",
              help="Query worker processes.  [default: four per CPU, at least 4]")
@click.option("--max-queue", default=None, type=int, envvar="KG_MAX_QUEUE",
              help="Queries that may wait for a worker; more get 429 with Retry-After.  "
                   "[default: 8 per worker]")
@click.option("--allow-drop", is_flag=True, envvar="KG_ALLOW_DROP",
              help="Let updates remove whole graphs without confirm=drop (a scratch store; "
                   "a curated file's graph is still never emptied).")
@click.option("--worker-memory", default=None, type=click.IntRange(0), envvar="KG_WORKER_MEMORY",
              metavar="MIB", help="Memory one query worker may use; a query past it is "
                                  "stopped (503). 0: no cap.  [default: half the machine's "
                                  "memory shared by the workers, 256 to 2048]")
@click.option("--allowed-host", "allowed_hosts", multiple=True, envvar="KG_ALLOWED_HOSTS",
              metavar="NAME", help="A host name requests may give in their Host header "
                                   "(repeatable; '*.example.org' for subdomains, '*' for "
                                   "any). Default: localhost, 127.0.0.1, ::1 and --host.")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, envvar="KG_TRUSTED_PROXIES",
              metavar="ADDRESS", help="A reverse proxy (address or network) whose Forwarded "
                                      "or X-Forwarded-For header names the client, for "
                                      "the client's share of the workers (repeatable).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, time_limit: float, max_rows: int,
          max_body: int, allow_service: tuple[str, ...], workers: int | None,
          max_queue: int | None, allow_drop: bool, worker_memory: int | None,
          allowed_hosts: tuple[str, ...], trusted_proxies: tuple[str, ...]) -> None:
    """Serve the SPARQL endpoint, the named queries as a REST API, and the docs.

    Read-only unless KG_UPDATE_TOKEN is set; then SPARQL Update and Graph Store writes
    with 'Authorization: Bearer <token>' are validated against the shapes.

    \b
    Example:
      kg serve --port 8000 &
      curl 'http://127.0.0.1:8000/api/queries'
    """
    import os

    import uvicorn

    from kg_api import create_app

    from .query.guard import Policy

    policy = Policy(time_limit=time_limit, max_rows=max_rows, max_body_bytes=max_body,
                    service_allow=tuple(allow_service),
                    update_token=os.environ.get("KG_UPDATE_TOKEN") or None,
                    token_name=os.environ.get("KG_UPDATE_TOKEN_NAME") or "update-token",
                    allow_drop=allow_drop)
    graph = _graph(ctx)
    _port_free(host, port)
    click.echo(f"serving {graph.remote.endpoint if graph.remote else graph.project.store_dir}"
               f" on http://{host}:{port}/sparql "
               f"({'updates with token' if policy.writable else 'read-only'})", err=True)
    hosts = list(allowed_hosts) or ["localhost", "127.0.0.1", "::1", host]
    options = {} if worker_memory is None else {"memory_limit": worker_memory << 20}
    try:
        app = create_app(graph, policy=policy, workers=workers, max_queue=max_queue,
                         allowed_hosts=hosts, trusted_proxies=list(trusted_proxies),
                         **options)
    except ValueError as err:
        _fail(str(err), 2)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _port_free(host: str, port: int) -> None:
    """Fail before saying "serving" when the port is taken (uvicorn would fail after)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            _fail(f"cannot serve on {host}:{port}: {err.strerror}; choose another --port", 1)


@main.command()
@click.option("--focus", metavar="IRI", help="Draw the neighbourhood of this resource "
              "(wfr:temporal, a full IRI, or a local name).")
@click.option("--depth", default=1, show_default=True, type=click.IntRange(1, 4),
              help="How many links away from --focus.")
@click.option("--class", "classes", multiple=True, metavar="CLASS",
              help="Only nodes of this class (e.g. wf:Theory); repeatable.")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["verified", "unverified", "contradicted", "none"]),
              help="Only links whose claim has this evidence status; repeatable.")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "zh"]),
              help="Label language.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
@click.pass_context
def viz(ctx: click.Context, focus: str | None, depth: int, classes: tuple[str, ...],
        statuses: tuple[str, ...], lang: str, output: str) -> None:
    """Write one self-contained interactive graph page (pyvis/vis-network inlined, no
    network needed): a neighbourhood, or the whole graph filtered by class and status.
    Clicking a node opens its IRI.

    \b
    Example:
      kg viz --focus wfr:temporal --depth 2 -o temporal.html
    """
    from .namespaces import expand
    from .pages.viz import neighbourhood, standalone_html, whole

    graph = _graph(ctx)
    try:
        if focus:
            view = neighbourhood(graph.store, expand(focus), depth=depth, lang=lang)
        else:
            view = whole(graph.store, classes=[expand(c) for c in classes],
                         statuses=statuses, lang=lang)
    except (QueryError, ValueError) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    Path(output).write_text(standalone_html(view), encoding="utf-8")
    click.echo(f"wrote {output}: {len(view.nodes)} nodes, {len(view.edges)} links"
               + (" (truncated to the most connected)" if view.truncated else ""))


@main.command()
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="The folder to write (replaced if it exists).")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def site(ctx: click.Context, output: str, quiet: bool) -> None:
    """Write the graph as a static site: home, a page per entity, statement, finding and
    source, named-query tables, the whole graph, search and the ontology's documentation,
    with relative links (opens from disk or any static host; no server, no network).

    \b
    Example:
      kg site -o /tmp/workflow-kg-site && xdg-open /tmp/workflow-kg-site/index.html
    """
    from .pages.site import write_site

    try:
        result = write_site(_graph(ctx), output, progress=Progress(quiet))
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    click.echo(f"wrote {result.pages} pages to {result.folder}; open "
               f"{result.folder / 'index.html'}")


@main.command()
@click.option("--dry-run", is_flag=True, help="Only say which graphs would be sent or dropped.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def push(ctx: click.Context, dry_run: bool, quiet: bool) -> None:
    """Send the built dataset to the remote store: only the named graphs whose content
    changed since the last push, staged under new names and swapped in with one SPARQL
    Update, so a push that fails leaves the remote as it was. Oxigraph server and Fuseki
    are written through the Graph Store Protocol, Virtuoso through its Graph Store
    endpoint (docs/deploy.md).

    \b
    Example:
      kg --endpoint http://localhost:7878/query push --dry-run
      KG_REMOTE_USER=kg KG_REMOTE_PASSWORD=... kg --endpoint http://localhost:8890/sparql push
    """
    try:
        plan = _graph(ctx).push(dry_run=dry_run, progress=Progress(quiet))
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    except KgError as err:
        _fail(str(err), 1)
    for line in plan.describe():
        click.echo(("would " if dry_run else "") + line)
    unchanged = f"{len(plan.unchanged)} graph(s) unchanged"
    if not plan.changes:
        click.echo(f"nothing to push: {unchanged}")
    elif dry_run:
        click.echo(f"dry run: nothing was sent; {unchanged}")
    else:
        click.echo(f"pushed {sum(plan.send.values())} triples in {len(plan.send)} graph(s), "
                   f"dropped {len(plan.drop)}; {unchanged} ({plan.requests} write requests)")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_context
def history(ctx: click.Context, fmt: str) -> None:
    """List the kept store versions, newest first: each build and each accepted update
    (who, when, triples added and removed, the update's text). '*' marks the live one.

    \b
    Example:
      kg history
    """
    from .pipeline.history import versions

    kept = versions(_graph(ctx).project)
    if fmt == "json":
        click.echo(json.dumps([v.to_dict() for v in kept], indent=2, ensure_ascii=False))
        return
    if not kept:
        _fail("no store versions: run `kg build` first", 1)
    for v in kept:
        change = f"+{v.added} -{v.removed} by {v.agent}: {_one_line(v.what or '')}" \
            if v.kind == "update" else f"{v.triples} triples"
        click.echo(f"{'*' if v.live else ' '} {v.name}  {v.created}  {v.kind:6}  {change}")


def _one_line(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@main.command()
@click.argument("version", required=False)
@click.pass_context
def rollback(ctx: click.Context, version: str | None) -> None:
    """Make a kept store version live again, atomically (default: the version before the
    live one). VERSION is a name from `kg history`, or a unique start of one.

    \b
    Example:
      kg rollback 20260101T120000
    """
    from .pipeline.history import rollback as roll_back

    try:
        done = roll_back(_graph(ctx).project, version)
    except KgError as err:
        _fail(str(err), 1)
    click.echo(f"live: {done.name} ({done.kind} of {done.created}, {done.triples} triples)")


@main.command()
@click.argument("names", nargs=-1, metavar="[MODEL]...")
@click.option("--check", "check_only", is_flag=True,
              help="Run no tool: exit 1 if the recorded results are stale.")
@click.option("--force", is_flag=True, help="Check again even the models that have not changed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def verify(ctx: click.Context, names: tuple[str, ...], check_only: bool, force: bool,
           quiet: bool) -> None:
    """Check the models under models/ with their model checkers (SPIN, a Petri net's
    reachability graph with CTL) and record the results as the programme's own
    verification findings in data/verification-own.ttl. Models whose files have not
    changed since their recorded run are not checked again.

    \b
    Example:
      kg verify payment-saga && kg verify --check
    """
    from .lab import verify as verification
    from .pipeline.project import find_project

    try:
        root = find_project(ctx.obj["project"]).root
        if check_only:
            problems = verification.stale(root)
            for problem in problems:
                click.echo(f"stale: {problem}", err=True)
            if problems:
                sys.exit(1)
            click.echo("verification findings are up to date")
            return
        report = verification.verify(root, names, force=force, progress=Progress(quiet))
    except KgError as err:
        _fail(str(err), 2 if isinstance(err, verification.ModelError) else 1)
    for finding in report.findings:
        click.echo(f"{finding.check.key}: {finding.summary()}")
    for name, error in report.errors.items():
        click.echo(f"error: {name}: {error}", err=True)
    click.echo(f"{len(report.findings)} check(s) recorded, {len(report.up_to_date)} model(s) "
               f"up to date; {report.output.name} {'updated' if report.changed else 'unchanged'}")
    if report.errors:
        sys.exit(1)
@main.group()
def report() -> None:
    """Paper-ready outputs: tables with their evidence, figures, research progress.

    \b
    Example:
      kg report table engine-backends --format latex -o backends.tex
    """


BIB_DIALECTS = ("biblatex", "bibtex", "csl-json")


@report.command("table")
@click.argument("name", required=False)
@click.option("--list", "list_tables", is_flag=True, help="List the tables.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the table's named query (repeatable).")
@click.option("--format", "fmt", type=click.Choice(list(TABLE_FORMATS)), default=None,
              help="[default: from the -o suffix, else markdown]")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="File; the bibliography of every cited source is written beside it "
                   "(.bib, or .json for csl-json).")
@click.option("--columns", help="The columns to show, by variable, comma-separated "
                                "(e.g. engine,backend,role).")
@click.option("--no-notes", is_flag=True, help="Leave out the prose columns (evidence notes, "
                                               "the plan's words).")
@click.option("--long/--no-long", "long", default=None,
              help="A longtable that breaks across pages [default: from 20 rows on].")
@click.option("--link-base", metavar="URL",
              help="Link each cell to its fact's page under URL, where kg serve or kg site "
                   "publishes the graph (LaTeX: needs hyperref). Without it, no links.")
@click.option("--bib-format", type=click.Choice(BIB_DIALECTS), default="biblatex",
              show_default=True, help="The bibliography written beside -o.")
@click.pass_context
def report_table(ctx: click.Context, name: str | None, list_tables: bool,
                 params: tuple[str, ...], fmt: str | None, output: str | None,
                 columns: str | None, no_notes: bool, long: bool | None,
                 link_base: str | None, bib_format: str) -> None:
    """A comparison table built from a named query, each cell with its evidence:
    \\cite{key} (LaTeX: booktabs, paragraph columns that fit the text width) or [@key]
    (Pandoc Markdown); † marks a cell no source backs yet, ✗ one a source contradicts
    (citing the contradicting source).

    \b
    Examples:
      kg report table --list
      kg report table engine-backends -p engine=wfr:temporal -o backends.tex
      kg report table engine-backends --no-notes --bib-format bibtex -o backends.tex
      kg report table sdks --format markdown -o sdks.md
    """
    if list_tables:
        for spec in TABLES.values():
            click.echo(f"{spec.name:18} {spec.title}  (query {spec.query}; columns "
                       f"{','.join(v for v, _ in spec.columns)})")
        return
    if not name:
        _fail("name a table (see `kg report table --list`)", 2)
    if fmt is None:
        fmt = TABLE_SUFFIXES.get(Path(output).suffix, "markdown") if output else "markdown"
    graph = _graph(ctx)
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    try:
        table = build_table(graph, name, _parse_params(params), columns=chosen,
                            notes=not no_notes)
    except QueryError as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    text = render_table(table, fmt, link_base=link_base, long=long)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        bib = Path(output).with_suffix(".json" if bib_format == "csl-json" else ".bib")
        bib.write_text(render_citations(table.entries, bib_format), encoding="utf-8")
        click.echo(f"wrote {output} ({len(table.rows)} rows) and {bib} "
                   f"({len(table.entries)} sources)", err=True)
    else:
        click.echo(text, nl=False)


@report.command("progress")
@click.option("--format", "fmt", type=click.Choice(list(PROGRESS_FORMATS)), default="md",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File [default: stdout].")
@click.pass_context
def report_progress(ctx: click.Context, fmt: str, output: str | None) -> None:
    """The plan's progress: each phase, work package, task, deliverable and milestone with
    its evidence coverage; each success indicator's current value against its target,
    with the unverified or contradicted facts that block it.

    \b
    Example:
      kg report progress --format html -o progress.html
    """
    try:
        text = PROGRESS_FORMATS[fmt](plan_progress(_graph(ctx)))
    except QueryError as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@report.command("figure")
@click.argument("name", required=False)
@click.option("--list", "list_figures", is_flag=True, help="List the figures.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="FILE.svg, FILE.pdf or FILE.png [default: NAME.svg]; beside it the "
                   "figure with its caption citing its sources, FILE.tex for a PDF (LaTeX), "
                   "FILE.md for a PNG or SVG (Pandoc), and their bibliography (FILE.bib).")
@click.option("--width", type=click.Choice(["column", "text"]), default="column",
              show_default=True, help="column: 3.5 in wide; text: 7 in.")
@click.option("--bib-format", type=click.Choice(BIB_DIALECTS), default="biblatex",
              show_default=True)
@click.pass_context
def report_figure(ctx: click.Context, name: str | None, list_figures: bool,
                  output: str | None, width: str, bib_format: str) -> None:
    """A figure for the paper (matplotlib): one metric per figure, units on the axes, the
    programme's own runs apart from published measurements, no limit or price plotted
    as a benchmark.

    \b
    Examples:
      kg report figure --list
      kg report figure own-throughput -o throughput.pdf
      kg report figure own-latency --width text -o latency.pdf
    """
    if list_figures:
        for key, title in FIGURES.items():
            click.echo(f"{key:18} {title}")
        return
    if not name:
        _fail("name a figure (see `kg report figure --list`)", 2)
    graph = _graph(ctx)
    try:
        data = figure_data(graph, name)
        path = draw_figure(data, output or f"{name}.svg", width=width)
        entries = entries_for_keys(graph.store, data.keys)
    except (QueryError, ValueError) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    bib = path.with_suffix(".json" if bib_format == "csl-json" else ".bib")
    bib.write_text(render_citations(entries, bib_format), encoding="utf-8")
    # the figure with its caption: LaTeX includes the PDF, Pandoc the PNG or SVG
    snippet = path.with_suffix(".tex" if path.suffix == ".pdf" else ".md")
    snippet.write_text((latex_figure if path.suffix == ".pdf" else markdown_figure)(
        data, str(output or path)), encoding="utf-8")
    click.echo(f"wrote {path}, {snippet} and {bib}", err=True)
    click.echo(data.caption)


@main.group()
def paper() -> None:
    """A paper's one bibliography, and its citations checked against the graph.

    \b
    Examples:
      kg paper bib paper.tex -o refs.bib
      kg paper check paper.tex
    """


@paper.command("bib")
@click.argument("manuscript", nargs=-1, required=True, type=click.Path(exists=True,
                                                                        dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="refs.bib or refs.json [default: stdout].")
@click.option("--format", "fmt", type=click.Choice(BIB_DIALECTS), default=None,
              help="[default: csl-json for -o *.json, else biblatex]")
@click.pass_context
def paper_bib(ctx: click.Context, manuscript: tuple[str, ...], output: str | None,
              fmt: str | None) -> None:
    """One bibliography with exactly the sources a paper cites: the keys of its \\cite
    commands (natbib, biblatex; \\input files too) or Pandoc [@key] citations (of one
    file, or of the parts pandoc joins, in order), each with every relation the graph
    records. An unknown key is an error with suggestions.

    \b
    Examples:
      kg paper bib paper.tex -o refs.bib
      kg paper bib paper.tex --format bibtex -o refs.bib    # for natbib / plainnat
      kg paper bib paper.md -o refs.json                    # for pandoc --citeproc
    """
    if fmt is None:
        fmt = "csl-json" if output and output.endswith(".json") else "biblatex"
    try:
        entries = paper_module.bibliography(_graph(ctx), list(manuscript))
    except (paper_module.PaperError, paper_module.UnknownKeys) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    text = render_citations(entries, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({len(entries)} sources)", err=True)
    else:
        click.echo(text, nl=False)


@paper.command("check")
@click.argument("manuscript", nargs=-1, required=True, type=click.Path(exists=True,
                                                                        dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.pass_context
def paper_check(ctx: click.Context, manuscript: tuple[str, ...], fmt: str,
                strict: bool) -> None:
    """Check what a paper cites against the evidence: per citation, the statements the
    source is evidence for; a warning where they are all Unverified or Contradicted, where
    the source contradicts a statement, or where the citing sentence names both entities
    of a Contradicted statement; an error for a key the graph does not have. Exit 1 on
    errors (and, with --strict, on warnings), so a paper's CI can run it.

    \b
    Examples:
      kg paper check paper.tex
      kg paper check paper.md --format json
    """
    try:
        result = paper_module.check(_graph(ctx), list(manuscript))
    except paper_module.PaperError as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    click.echo(result.to_json() if fmt == "json" else result.to_text(), nl=False)
    if result.errors or (strict and result.warnings):
        sys.exit(1)


@main.group("import")
def import_group() -> None:
    """Bring records from elsewhere into data/.

    \b
    Example:
      kg import bib ~/zotero-export.bib
    """


@import_group.command("bib")
@click.argument("library", type=click.Path(exists=True, dir_okay=False))
@click.option("--update", is_flag=True,
              help="Replace sources the data already has (same key), wherever they are.")
@click.option("--into", "target", metavar="FILE.ttl",
              help="The data file to write [default: data/sources-imported.ttl].")
@click.pass_context
def import_bib(ctx: click.Context, library: str, update: bool, target: str | None) -> None:
    """Import a Zotero or Better BibTeX export (.bib BibTeX/BibLaTeX, .json CSL-JSON,
    .ris) as source records: kinds mapped from entry types, keys kept, authors, dates,
    DOIs and URLs carried over. What could not be mapped is listed; a source the data
    already has is kept unless --update; the file is written only if it passes the
    shapes. Run kg build afterwards.

    \b
    Examples:
      kg import bib zotero.bib
      kg import bib zotero.json --update
    """
    try:
        report = _graph(ctx).import_library(library, update=update, target=target)
    except LibraryError as err:
        _fail(str(err), 2)
    except ValidationFailed as err:
        _print_report(err.report, "text")
        _fail("nothing imported: the records do not conform to the shapes", 1)
    click.echo(report.to_text(), nl=False)
    if not report.written:
        sys.exit(1)


@main.command("decide")
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
      kg decide -r language=Python -r multi-region=yes --format mermaid
    """
    graph = _graph(ctx)
    try:
        if list_rules:
            for rule in decide_rules(graph.store):
                click.echo(f"{rule.key:16} {rule.label}  ({shorten(rule.iri)})")
                click.echo(f"{'':16} values: {describe_values(graph.store, rule)}")
            return
        decision = decide(graph, require=list(required), prefer=list(preferred))
    except QueryError as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    click.echo(render_decision(decision, fmt, limit=limit), nl=False)
@main.command("bench-engines")
@click.option("--quick", is_flag=True,
              help="A small run (about a minute) instead of the full one.")
@click.option("--backend", "backends", multiple=True, type=click.Choice(["postgresql", "sqlite"]),
              help="Only this backend (repeatable) [default: both].")
@click.option("--reimport", is_flag=True,
              help="Run nothing: rewrite the findings from the committed raw results.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def bench_engines(ctx: click.Context, quick: bool, backends: tuple[str, ...], reimport: bool,
                  quiet: bool) -> None:
    """Run the engine benchmarks (benchmarks/engines/: a payment saga and a fan-out/fan-in
    workflow on DBOS Transact over PostgreSQL and SQLite: throughput, latency, kill -9
    recovery with an exactly-once check, CPU cost, history growth) and write the raw
    results and the findings: data/benchmarks-own.json, .csv and .ttl.

    \b
    Example:
      kg bench-engines --quick && kg build && kg query benchmarks --param system=wfr:dbos
    """
    from .lab import engines
    from .pipeline.project import find_project

    root = find_project(ctx.obj["project"]).root
    command = "kg bench-engines" + (" --quick" if quick else "") + "".join(
        f" --backend {b}" for b in backends)
    try:
        if reimport:
            written = engines.reimport(root)
        else:
            raw = engines.run(root, quick=quick, backends=backends or engines.BACKENDS,
                              progress=Progress(quiet), command=command)
            written = engines.write_results(root, raw)
    except KgError as err:
        _fail(f"{err}; no finding was written", 1)
    for path in written:
        click.echo(f"wrote {path.relative_to(root)}")
    if not reimport:
        click.echo(f"took {raw['duration_s']} s")


def run() -> None:  # pragma: no cover - console entry with a last-resort handler
    try:
        main()
    except KgError as err:
        _fail(str(err), 1)


if __name__ == "__main__":  # pragma: no cover
    run()
