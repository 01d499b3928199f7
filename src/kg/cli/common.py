"""What every command shares: the graph the global options name, errors as exit codes,
progress on stderr, NAME=VALUE parameters, the terminal's width."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

import click

from ..graph import KnowledgeGraph
from ..pipeline.shapes import ValidationReport

BIB_DIALECTS = ("biblatex", "bibtex", "csl-json")
# A limit's option types: a limit of 0 s or -5 rows would refuse every query, so it is a
# usage error (exit 2) at once rather than a 503 or 400 on each query.
SECONDS = click.FloatRange(min=0, min_open=True)
COUNT = click.IntRange(min=1)


class Progress:
    """Prints what a long command is doing, with elapsed time, on stderr."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"[{time.monotonic() - self.start:6.1f}s] {message}", err=True)


def graph_of(ctx: click.Context) -> KnowledgeGraph:
    return KnowledgeGraph(ctx.obj["project"], store=ctx.obj["store"],
                          **ctx.obj.get("endpoints", {}))


def fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def print_report(report: ValidationReport, fmt: str) -> None:
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


def parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        if "=" not in item:
            fail(f"--param expects name=value, got {item!r}", 2)
        key, value = item.split("=", 1)
        params[key.strip()] = value
    return params


def terminal_width() -> int | None:
    """The columns a table may take: $COLUMNS, else the terminal's width; None when the
    output goes to a file or a pipe (nothing to fit)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None
