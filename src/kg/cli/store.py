"""`kg build`, `validate`, `check`, `stats`, `export`, `push`, `history`, `rollback`: the
commands that make, check, publish and restore the store (kg.pipeline)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import (
    KgError,
    RdfSyntaxError,
    StoreHasUpdates,
    StoreNotBuilt,
    StoreWriteFailed,
    ValidationFailed,
    VersionNotFound,
)
from ..graph import EXPORT_FORMATS
from ..query.results import rows_as_csv
from .common import Progress, fail, graph_of, print_report


@click.command()
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
        result = graph_of(ctx).build(force=force, progress=Progress(quiet))
    except RdfSyntaxError as err:
        fail(f"syntax error: {err}; the store is unchanged", 1)
    except ValidationFailed as err:
        print_report(err.report, "text")
        fail("build refused: the data does not conform; the store is unchanged", 1)
    except (StoreHasUpdates, StoreWriteFailed) as err:
        fail(f"build refused: {err}", 1)
    graph = graph_of(ctx)
    if graph.remote is None:
        from ..pages.ontodoc import ontology_page

        Progress(quiet)("documenting the ontology (pyLODE), if it changed")
        ontology_page(graph.project)
    if result.built:
        click.echo(f"built {result.triples} triples ({result.derived} derived from statements, "
                   f"{result.inferred} inferred) into {result.store_path}")
    else:
        click.echo("up to date: inputs unchanged since the last build")


@click.command()
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
        report = graph_of(ctx).validate(list(paths) or None)
    except RdfSyntaxError as err:
        if fmt == "json":
            click.echo(json.dumps({"conforms": False, "syntax_error": {
                "file": err.problem.file, "line": err.problem.line,
                "message": err.problem.message}}))
        fail(f"syntax error: {err}", 1)
    print_report(report, fmt)
    sys.exit(0 if report.conforms else 1)


@click.command()
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
        result = graph_of(ctx).stats()
    except StoreNotBuilt as err:
        fail(str(err), 1)
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


@click.command()
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
        data = graph_of(ctx).export(fmt)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    if output:
        Path(output).write_bytes(data)
    else:
        click.echo(data.decode("utf-8"), nl=False)


@click.command()
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
        report = graph_of(ctx).check(list(paths) or None, progress=Progress(quiet))
    except RdfSyntaxError as err:
        fail(f"syntax error: {err}", 1)
    for clash in report.clashes:
        click.echo(f"inconsistent: {clash}", err=True)
    for cls in report.unsatisfiable_classes:
        click.echo(f"unsatisfiable class: {cls}", err=True)
    if report.ok:
        click.echo("consistent: HermiT found no contradiction and no unsatisfiable class")
    else:
        fail(report.message, 1)


@click.command()
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
        plan = graph_of(ctx).push(dry_run=dry_run, progress=Progress(quiet))
    except StoreNotBuilt as err:
        fail(str(err), 1)
    except KgError as err:
        fail(str(err), 1)
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


@click.command()
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
    from ..pipeline.history import versions

    kept = versions(graph_of(ctx).project)
    if fmt == "json":
        click.echo(json.dumps([v.to_dict() for v in kept], indent=2, ensure_ascii=False))
        return
    if not kept:
        fail("no store versions: run `kg build` first", 1)
    for v in kept:
        change = f"+{v.added} -{v.removed} by {v.agent}: {_one_line(v.what or '')}" \
            if v.kind == "update" else f"{v.triples} triples"
        click.echo(f"{'*' if v.live else ' '} {v.name}  {v.created}  {v.kind:6}  {change}")


def _one_line(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@click.command()
@click.argument("version", required=False)
@click.pass_context
def rollback(ctx: click.Context, version: str | None) -> None:
    """Make a kept store version live again, atomically (default: the version before the
    live one). VERSION is a name from `kg history`, or a unique start of one.

    \b
    Example:
      kg rollback 20260101T120000
    """
    from ..pipeline.history import rollback as roll_back

    try:
        done = roll_back(graph_of(ctx).project, version)
    except VersionNotFound as err:  # a name that matches no kept version is a bad request
        fail(str(err), 2 if version else 1)
    except KgError as err:
        fail(str(err), 1)
    click.echo(f"live: {done.name} ({done.kind} of {done.created}, {done.triples} triples)")


COMMANDS = [build, validate, check, stats, export, push, history, rollback]
