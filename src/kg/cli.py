"""The `kg` command line: a thin adapter that parses arguments, calls the core and renders.

Exit codes: 0 success; 1 the data is bad (syntax, SHACL, OWL inconsistency);
2 the request is bad (unknown query, bad parameter, SPARQL syntax, usage)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ._version import __version__
from .errors import KgError, QueryError, RdfSyntaxError, StoreNotBuilt, ValidationFailed
from .graph import EXPORT_FORMATS, KnowledgeGraph
from .namespaces import PREFIXES
from .paths import LinkGraph
from .results import rows_as_csv
from .shapes import ValidationReport

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
              help="The remote SPARQL Update endpoint [default: --endpoint].")
@click.option("--store-endpoint", envvar="KG_STORE_ENDPOINT", metavar="URL",
              help="The remote Graph Store Protocol endpoint, for `kg push` "
                   "[default: --endpoint].")
@click.pass_context
def main(ctx: click.Context, project: str | None, store: str | None, endpoint: str | None,
         update_endpoint: str | None, store_endpoint: str | None) -> None:
    """Workflow KG: build, validate, query and cite a knowledge graph of workflow engines,
    distributed computing and formal verification.

    \b
    Example:
      kg build && kg query cases-by-technology --param tech=wfr:temporal
    """
    ctx.obj = {"project": project, "store": store,
               "endpoints": {"endpoint": endpoint, "update_endpoint": update_endpoint,
                             "store_endpoint": store_endpoint}}


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
@click.pass_context
def query(ctx: click.Context, name_or_file: str | None, expression: str | None,
          params: tuple[str, ...], fmt: str) -> None:
    """Run a named query, a .rq file, or inline SPARQL (-e).

    \b
    Examples:
      kg query unverified
      kg query cases-by-technology --param tech=wfr:temporal --format csv
      kg query -e 'SELECT ?s WHERE { ?s a wf:WorkflowEngine }'
    """
    graph = _graph(ctx)
    try:
        if expression is not None:
            if name_or_file:
                _fail("give a query name/file or -e, not both", 2)
            result = graph.sparql(expression)
        elif name_or_file and Path(name_or_file).is_file():
            from .queries import parse_header

            path = Path(name_or_file)
            text = path.read_text(encoding="utf-8")
            try:
                named = parse_header(path.stem, path, text)
                bindings = named.bindings(_parse_params(params))
            except QueryError:
                if params:
                    raise
                bindings = {}
            result = graph.sparql(text, bindings=bindings)
        elif name_or_file:
            result = graph.query(name_or_file, _parse_params(params))
        else:
            _fail("give a named query (see `kg queries`), a .rq file, or -e SPARQL", 2)
        output = result.serialize(fmt)
    except QueryError as err:
        _fail(str(err), 2)
    except ValueError as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    click.echo(output.decode("utf-8"), nl=False)


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
@click.option("--query", "query_name", help="Cite the evidence behind a named query's answer.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of --query (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["bibtex", "csl-json"]), default="bibtex",
              show_default=True)
@click.pass_context
def cite(ctx: click.Context, resources: tuple[str, ...], query_name: str | None,
         params: tuple[str, ...], fmt: str) -> None:
    """Export the sources behind resources, or behind a query's answer, as BibTeX or CSL-JSON.

    \b
    Examples:
      kg cite wfr:temporal
      kg cite --query engine-backends --param engine=wfr:temporal --format csl-json
    """
    if not resources and not query_name:
        _fail("name at least one resource (e.g. wfr:temporal) or give --query", 2)
    try:
        text = _graph(ctx).cite(list(resources), query=query_name,
                                params=_parse_params(params), fmt=fmt)
    except (QueryError, ValueError) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    if not text.strip():
        click.echo("no sources found", err=True)
    click.echo(text, nl=False)


@main.command()
@click.argument("a")
@click.argument("b")
@click.option("--limit", default=3, show_default=True, type=click.IntRange(1, 50),
              help="How many shortest paths.")
@click.pass_context
def path(ctx: click.Context, a: str, b: str, limit: int) -> None:
    """Explain how two resources are connected: their shortest paths, step by step.

    \b
    Example:
      kg path wfr:temporal wfr:payment-atomicity
    """
    graph = _graph(ctx)
    try:
        found = graph.paths(a, b, limit=limit)
        labels = LinkGraph(graph.store).labels
    except (QueryError, ValueError) as err:
        _fail(str(err), 2)
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    if not found:
        _fail(f"no path between {a} and {b}", 1)
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
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, time_limit: float, max_rows: int,
          max_body: int, allow_service: tuple[str, ...], workers: int | None,
          max_queue: int | None) -> None:
    """Serve the SPARQL endpoint, the named queries as a REST API, and the docs.

    Read-only unless KG_UPDATE_TOKEN is set; then SPARQL Update and Graph Store writes
    with 'Authorization: Bearer <token>' are validated against the shapes.

    \b
    Example:
      kg serve --port 8000 && curl 'http://127.0.0.1:8000/api/queries'
    """
    import os

    import uvicorn

    from kg_api import create_app

    from .guard import Policy

    policy = Policy(time_limit=time_limit, max_rows=max_rows, max_body_bytes=max_body,
                    service_allow=tuple(allow_service),
                    update_token=os.environ.get("KG_UPDATE_TOKEN") or None)
    graph = _graph(ctx)
    click.echo(f"serving {graph.remote.endpoint if graph.remote else graph.project.store_dir}"
               f" on http://{host}:{port}/sparql "
               f"({'updates with token' if policy.writable else 'read-only'})", err=True)
    uvicorn.run(create_app(graph, policy=policy, workers=workers, max_queue=max_queue),
                host=host, port=port,
                log_level="warning")


@main.command()
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def push(ctx: click.Context, quiet: bool) -> None:
    """Upload the built dataset (every named graph) to the remote server through the
    SPARQL 1.1 Graph Store Protocol; each graph replaces the one of the same name.

    \b
    Example:
      kg --endpoint http://localhost:7878/query --store-endpoint http://localhost:7878/store push
    """
    try:
        sent = _graph(ctx).push(progress=Progress(quiet))
    except StoreNotBuilt as err:
        _fail(str(err), 1)
    except KgError as err:
        _fail(str(err), 1)
    click.echo(f"pushed {sum(sent.values())} triples in {len(sent)} graphs")


def run() -> None:  # pragma: no cover - console entry with a last-resort handler
    try:
        main()
    except KgError as err:
        _fail(str(err), 1)


if __name__ == "__main__":  # pragma: no cover
    run()
