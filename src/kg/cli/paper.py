"""`kg cite`, `report table|progress|figure`, `paper bib|check` and `import bib`: the
commands that put the evidence into a paper (kg.paper)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import QueryError, StoreNotBuilt, ValidationFailed
from ..evidence.progress import PROGRESS_FORMATS
from ..evidence.progress import progress as plan_progress
from ..paper import manuscript as paper_module
from ..paper.bibimport import LibraryError
from ..paper.cite import FORMATS as CITE_FORMATS
from ..paper.cite import STYLES as CITE_STYLES
from ..paper.cite import render as render_citations
from ..paper.figures import FIGURES, write_figure
from ..paper.report import TABLE_FORMATS, TABLES, build_table, render_table, write_table
from ..pipeline.evidence import EVIDENCE_VIEWS
from .common import BIB_DIALECTS, fail, graph_of, parse_params, print_report


@click.command()
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
        fail("name at least one resource (e.g. wfr:temporal), or give --query, --path or "
              "--dataset", 2)
    try:
        entries = graph_of(ctx).citations(list(resources), query=query_name,
                                        params=parse_params(params), dataset=dataset,
                                        evidence=evidence, path=path_ends, path_limit=limit)
        text = render_citations(entries, fmt, style=style)
    except (QueryError, ValueError) as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    disputing = sum(1 for e in entries if e.disputes)
    click.echo(f"{len(entries)} source(s), {disputing} of them disputing a fact "
               f"(keyword cito:disputes)", err=True)
    click.echo(text, nl=False)


@click.group()
def report() -> None:
    """Paper-ready outputs: tables with their evidence, figures, research progress.

    \b
    Example:
      kg report table engine-backends --format latex -o backends.tex
    """


@report.command("table")
@click.argument("name", required=False)
@click.option("--list", "list_tables", is_flag=True, help="List the tables.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the table's named query (repeatable).")
@click.option("--format", "fmt", type=click.Choice(list(TABLE_FORMATS)), default=None,
              help="[default: from the -o suffix: .tex, .md, .csv, .html; markdown "
                   "without -o]")
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
        fail("name a table (see `kg report table --list`)", 2)
    graph = graph_of(ctx)
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    try:
        table = build_table(graph, name, parse_params(params), columns=chosen,
                            notes=not no_notes)
    except QueryError as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    if output:
        try:
            bib = write_table(table, output, fmt=fmt, link_base=link_base, long=long,
                              bib_format=bib_format)
        except QueryError as err:
            fail(str(err), 2)
        click.echo(f"wrote {output} ({len(table.rows)} rows) and {bib} "
                   f"({len(table.entries)} sources)", err=True)
    else:
        click.echo(render_table(table, fmt or "markdown", link_base=link_base, long=long),
                   nl=False)


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
        text = PROGRESS_FORMATS[fmt](plan_progress(graph_of(ctx)))
    except QueryError as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
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
        fail("name a figure (see `kg report figure --list`)", 2)
    try:
        files = write_figure(graph_of(ctx), name, output, width=width, bib_format=bib_format)
    except (QueryError, ValueError) as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    click.echo(f"wrote {files.drawing}, {files.snippet} and {files.bibliography}", err=True)
    click.echo(files.caption)


@click.group()
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
        entries = paper_module.bibliography(graph_of(ctx), list(manuscript))
    except (paper_module.PaperError, paper_module.UnknownKeys) as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    if not entries:
        click.echo(f"note: {', '.join(manuscript)} cites no key (no \\cite{{...}} command "
                   "and no [@key] citation was found): the bibliography is empty", err=True)
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
        result = paper_module.check(graph_of(ctx), list(manuscript))
    except paper_module.PaperError as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    click.echo(result.to_json() if fmt == "json" else result.to_text(), nl=False)
    if result.errors or (strict and result.warnings):
        sys.exit(1)


@click.group("import")
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
        report = graph_of(ctx).import_library(library, update=update, target=target)
    except LibraryError as err:
        fail(str(err), 2)
    except ValidationFailed as err:
        print_report(err.report, "text")
        fail("nothing imported: the records do not conform to the shapes", 1)
    click.echo(report.to_text(), nl=False)
    if not report.written:
        sys.exit(1)


COMMANDS = [cite, report, paper, import_group]
