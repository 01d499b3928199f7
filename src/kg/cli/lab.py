"""`kg verify` and `kg bench-engines`: the commands that run the executable evidence
(kg.lab) and record its findings."""

from __future__ import annotations

import sys

import click

from ..errors import KgError
from .common import Progress, fail


@click.command()
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
    from ..lab import verify as verification
    from ..pipeline.project import find_project

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
        fail(str(err), 2 if isinstance(err, verification.ModelError) else 1)
    for finding in report.findings:
        click.echo(f"{finding.check.key}: {finding.summary()}")
    for name, error in report.errors.items():
        click.echo(f"error: {name}: {error}", err=True)
    click.echo(f"{len(report.findings)} check(s) recorded, {len(report.up_to_date)} model(s) "
               f"up to date; {report.output.name} {'updated' if report.changed else 'unchanged'}")
    if report.errors:
        sys.exit(1)


@click.command("bench-engines")
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
    from ..lab import engines
    from ..pipeline.project import find_project

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
        fail(f"{err}; no finding was written", 1)
    for path in written:
        click.echo(f"wrote {path.relative_to(root)}")
    if not reimport:
        click.echo(f"took {raw['duration_s']} s")


COMMANDS = [verify, bench_engines]
