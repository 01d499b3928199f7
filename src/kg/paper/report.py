"""Paper-ready tables: comparison matrices built from named queries, each cell carrying
its evidence (citation keys of the facts behind it, and a mark when no source backs it or
a source contradicts it), written as LaTeX (booktabs), Pandoc Markdown, CSV or HTML, with
the matching BibTeX beside.

>>> from kg import KnowledgeGraph                                  # doctest: +SKIP
>>> table = build_table(KnowledgeGraph(), "engine-backends")        # doctest: +SKIP
>>> print(to_markdown(table))                                       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from jinja2 import Environment

from ..errors import QueryError
from ..evidence.catalogue import labels
from ..namespaces import BASE, WF, shorten
from ..query.queries import values_block
from . import cite
from .bibtex import escape

VERIFIED, UNVERIFIED, CONTRADICTED = "verified", "unverified", "contradicted"
MARKS = {UNVERIFIED: "†", CONTRADICTED: "✗"}
LATEX_MARKS = {UNVERIFIED: r"$^{\dagger}$", CONTRADICTED: r"$^{\times}$"}
LEGEND = "† unverified: no source found yet; ✗ contradicted by the cited source."
LATEX_LEGEND = (r"$^{\dagger}$~unverified: no source found yet; "
                r"$^{\times}$~contradicted by the cited source.")


@dataclass(frozen=True)
class TableSpec:
    """A paper table: a named query, the columns to show (variable, header) and a title."""

    name: str
    title: str
    query: str
    columns: tuple[tuple[str, str], ...]
    params: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()  # variables holding prose (evidence notes, the plan's words)

    def select(self, columns: Sequence[str] | None = None, *, notes: bool = True
               ) -> TableSpec:
        """This table with only the named columns (variables, in their order) and/or
        without its note columns."""
        known = dict(self.columns)
        if columns:
            unknown = [c for c in columns if c not in known]
            if unknown:
                raise QueryError(f"table {self.name} has no column {', '.join(unknown)}; its "
                                 f"columns are: {', '.join(known)}")
            chosen = tuple((c, known[c]) for c in columns)
        else:
            chosen = self.columns
        if not notes:
            chosen = tuple(c for c in chosen if c[0] not in self.notes)
        return dataclasses.replace(self, columns=chosen)


TABLES: dict[str, TableSpec] = {spec.name: spec for spec in (
    TableSpec("engine-backends", "Storage backends of durable-execution engines",
              "engine-backends", (("engine", "Engine"), ("backend", "Backend"),
                                  ("role", "Role"), ("note", "Trade-offs and notes"),
                                  ("benchmarks", "Benchmarks")), notes=("note",)),
    TableSpec("sdks", "SDKs of the workflow engines", "sdk-matrix",
              (("sdk", "SDK"), ("engine", "Engine"), ("language", "Language"),
               ("maturity", "Maturity"), ("firstReleased", "First release"))),
    TableSpec("verification", "Verification findings: tools, formalisms and properties",
              "verification-by-property",
              (("property", "Property"), ("finding", "Finding"), ("system", "System"),
               ("formalism", "Formalism"), ("tool", "Tool"), ("result", "Result"))),
    TableSpec("cases", "Case studies: engines, patterns and properties", "case-matrix",
              (("case", "Case study"), ("engine", "Engine"), ("patterns", "Patterns"),
               ("properties", "Properties"))),
    TableSpec("plan-claims", "The research plan's claims against the sources", "plan-claims",
              (("claim", "Claim"), ("planSays", "The plan says"),
               ("sourcesSay", "The sources say")), notes=("planSays", "sourcesSay")),
)}


@dataclass(frozen=True)
class Cell:
    """One cell: its text, and the evidence behind it (empty for a plain name)."""

    text: str
    iri: str | None = None  # the resource shown, if any
    status: str | None = None  # verified, unverified, contradicted; None: no fact behind it
    keys: tuple[str, ...] = ()  # citation keys of the sources of its facts
    facts: tuple[str, ...] = ()  # IRIs of the facts (statements, findings) behind it

    @property
    def mark(self) -> str:
        return MARKS.get(self.status or "", "")


@dataclass
class Table:
    spec: TableSpec
    header: list[str]
    rows: list[list[Cell]]
    entries: list[cite.Entry] = field(default_factory=list)  # every source a cell cites

    @property
    def keys(self) -> list[str]:
        return sorted({k for row in self.rows for c in row for k in c.keys})


# ------------------------------------------------------------------------- building

_EVIDENCE = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX cito: <http://purl.org/spar/cito/>
SELECT ?fact ?s ?o ?status ?key ?qualifier WHERE {
  VALUES ?anchor { %s }
  { ?fact a wf:Statement ; rdf:subject ?anchor ; rdf:object ?o . BIND (?anchor AS ?s)
    OPTIONAL { ?fact wf:backendRole ?qualifier } }
  UNION { ?anchor a wf:EvidencedFact . BIND (?anchor AS ?fact) }
  ?fact wf:evidenceStatus ?status .
  OPTIONAL { ?fact cito:citesAsEvidence|cito:disputes ?source . ?source wf:citationKey ?key
             FILTER (?status != wf:Contradicted
                     || EXISTS { ?fact wf:contradictedBy|cito:disputes ?source }) }
}"""
_STATUS = {str(WF.Verified): VERIFIED, str(WF.Unverified): UNVERIFIED,
           str(WF.Contradicted): CONTRADICTED}


@dataclass
class _Fact:
    status: str
    keys: set[str] = field(default_factory=set)
    subject: ox.NamedNode | None = None
    obj: object = None
    qualifiers: set[str] = field(default_factory=set)  # e.g. the backend role


def _facts(store, iris: set[ox.NamedNode]
           ) -> tuple[dict[str, _Fact], dict[str, dict[str, _Fact]]]:
    """Facts shown in a row themselves (by IRI), and statements by their subject."""
    shown: dict[str, _Fact] = {}
    by_subject: dict[str, dict[str, _Fact]] = {}
    if not iris:
        return shown, by_subject
    for row in store.query(_EVIDENCE % values_block(sorted(iris, key=str))).rows():
        iri = row["fact"].value
        status = _STATUS.get(row["status"].value, UNVERIFIED)
        if "s" in row:
            fact = by_subject.setdefault(str(row["s"]), {}).setdefault(
                iri, _Fact(status, subject=row["s"], obj=row["o"]))
        else:
            fact = shown.setdefault(iri, _Fact(status))
        if "key" in row:
            fact.keys.add(row["key"].value)
        if "qualifier" in row:
            fact.qualifiers.add(str(row["qualifier"]))
    return shown, by_subject


def _evidence(found: list[tuple[str, _Fact]]
              ) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The status a cell shows for its facts: verified if any fact is, else contradicted
    if any is, else unverified; the keys of the facts with that status."""
    if not found:
        return None, (), ()
    for status in (VERIFIED, CONTRADICTED, UNVERIFIED):
        chosen = [(iri, f) for iri, f in found if f.status == status]
        if chosen:
            keys = sorted({k for _, f in chosen for k in f.keys})
            return status, tuple(keys), tuple(sorted(iri for iri, _ in chosen))
    return None, (), ()  # pragma: no cover - every status is one of the three


def build_table(graph, name: str, params: Mapping[str, str] | None = None, *,
                columns: Sequence[str] | None = None, notes: bool = True) -> Table:
    """Run the table's named query and attach to each cell the facts behind it: a fact
    shown in the cell itself (a finding, case study or statement), or the statements
    whose subject is another resource of the same row and whose object is the cell's
    value. A contradicted cell cites the sources that contradict it. `columns` picks
    columns by variable; `notes=False` leaves the prose columns out."""
    spec = TABLES.get(name)
    if spec is None:
        raise QueryError(f"no table {name!r}; the tables are: {', '.join(TABLES)}")
    spec = spec.select(columns, notes=notes)
    merged = dict(spec.params) | dict(params or {})
    result = graph.query(spec.query, merged)
    rows = result.rows()
    iris = {t for row in rows for t in row.values() if isinstance(t, ox.NamedNode)}
    shown, by_subject = _facts(graph.store, iris)
    names = labels(graph.store, {t.value for t in iris})
    table_rows: list[list[Cell]] = []
    cited: set[str] = set()
    for row in rows:
        present = {str(t) for t in row.values()}
        cells = []
        for var, _header in spec.columns:
            term = row.get(var)
            if term is None:
                cells.append(Cell(""))
                continue
            found = [(term.value, shown[term.value])] if term.value in shown else []
            for anchor in present - {str(term)}:
                found += [(iri, f) for iri, f in by_subject.get(anchor, {}).items()
                          if f.obj == term and f.qualifiers <= present]
            status, keys, fact_iris = _evidence(found)
            cited.update(fact_iris)
            iri = term.value if isinstance(term, ox.NamedNode) else None
            text = names.get(term.value, shorten(term.value)) if iri else term.value
            cells.append(Cell(text, iri, status, keys, fact_iris))
        table_rows.append(cells)
    entries = cite.entries_for_facts(graph.store, cited) if cited else []
    return Table(spec, [header for _, header in spec.columns], table_rows, entries)


# ------------------------------------------------------------------------- rendering

def _latex(text: str) -> str:
    """LaTeX-escape text (every special character; CJK kept as it is)."""
    return escape(text)


def fact_link(iri: str, link_base: str | None) -> str | None:
    """Where a reader can open a fact: its page under `link_base` (where `kg serve` or
    `kg site` publishes the graph), or None. The w3id.org IRIs are identifiers that no
    resolver knows yet, so they are never given as links."""
    if not link_base or not iri.startswith(BASE):
        return None
    return link_base.rstrip("/") + "/" + iri.removeprefix(BASE).lstrip("/")


def _latex_url(url: str) -> str:
    return url.replace("\\", "").replace("#", r"\#").replace("%", r"\%")


# For sizing columns: the text width of a plain article at 10 pt, the padding of a column
# (2 \tabcolsep, set to 4 pt in the table), and character widths in em of Computer Modern
# (lower case and digits, upper case, space, punctuation; CJK a full em).
_LINE_PT, _PAD_PT, _TABCOLSEP = 345.0, 8.0, r"\setlength{\tabcolsep}{4pt}"
_EM = {"lower": 0.49, "upper": 0.74, "space": 0.34, "other": 0.36, "wide": 1.0}
_CITE_EM = 1.8  # "[12]"
_STEPS = 120  # the width is shared out in this many steps
# A column may be narrower than a word TeX can hyphenate, down to a few characters (em): a
# word in lower case, a header word (ours). Never narrower than any other word
# (OpenSearch, RocksDB, a number, and a capitalised word: TeX did not hyphenate
# "Lightweight" at the start of a cell).
_HYPHENATED = ((re.compile(r"[a-z]+[,.;:)]?"), 4.0),)
_HYPHENATED_HEADER = ((re.compile(r"[A-Za-z][a-z]+-?"), 3.5),)


def _em(text: str) -> float:
    """The width of a text in em, estimated from its characters."""
    total = 0.0
    for ch in text:
        if ch.isspace():
            total += _EM["space"]
        elif unicodedata.east_asian_width(ch) in "WF":
            total += _EM["wide"]
        elif ch.isupper():
            total += _EM["upper"]
        elif ch.isalnum():
            total += _EM["lower"]
        else:
            total += _EM["other"]
    return total


# Where `to_latex` lets a cell's line break inside a word: after a "/" (MySQL/PostgreSQL)
# and inside a long name between its lower- and upper-case letters (MongoRaft|Reconfig).
_CASE_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])")
_LONG_NAME = re.compile(r"[A-Za-z]{12,}[,.;:)]?")  # a name that breaks at its case changes


def _pieces(word: str) -> list[str]:
    """A word as TeX may break it in a cell: after each "/", at a long name's case
    changes."""
    parts = re.findall(r"[^/]+/?|/", word)
    return [q for part in parts
            for q in (_CASE_BREAK.split(part) if _LONG_NAME.fullmatch(part) else [part])]


def _break_points(text: str) -> str:
    """`text` (LaTeX already) with \\allowbreak where _pieces breaks its words."""
    return " ".join(r"\allowbreak{}".join(_pieces(w)) for w in text.split(" "))


def _words(cell: Cell | str) -> list[str]:
    """A cell's words, as TeX may break them (_pieces), and after a hyphen."""
    text = cell if isinstance(cell, str) else cell.text
    return [p for w in text.split() for piece in _pieces(w)
            for p in re.findall(r"[^-]+-?|-", piece)]


def _least(words: list[str], header: bool) -> float:
    """The narrowest a column may be for these words, in em: a word TeX cannot break
    counts a fifth wider than its estimate (a font's small design sizes set wider, and
    the estimate is an average: "machine-" in Latin Modern at 7 pt ran 1.6 pt over a
    tenth more)."""
    def least(word: str) -> float:
        for pattern, em in _HYPHENATED_HEADER if header else _HYPHENATED:
            if pattern.fullmatch(word):
                return min(_em(word), em)
        return _em(word) * 1.2

    return max([least(w) for w in words] or [0.0])


def _lines(words: list[float], width: float) -> tuple[int, int]:
    """(lines, words hyphenated) of words (widths in em) set ragged-right in a column
    `width` em wide."""
    lines, used, broken = 1, 0.0, 0
    space = _EM["space"]
    for w in words:
        if w > width:  # hyphenated over several lines
            broken += 1
            pieces = math.ceil(w / width)
            lines += pieces - (0 if used else 1)
            used = w - (pieces - 1) * width
        elif used == 0:
            used = w
        elif used + space + w <= width:
            used += space + w
        else:
            lines, used = lines + 1, w
    return lines, broken


# Sizes in points, not \small or \footnotesize: the widths are estimated for the size
# the table is set in, and a class's named sizes differ (ctexart's \scriptsize is 6.5 pt).
_SIZES = tuple((rf"\fontsize{{{pt:g}}}{{{lead:g}}}\selectfont", pt)
               for pt, lead in ((9.0, 11.0), (8.0, 9.5), (7.0, 8.0), (6.0, 7.0)))


def _least_widths(table: Table) -> list[float]:
    """Each column's narrowest width, in em (_least of its header and cells)."""
    return [max(_least(_words(h), True), *(_least(_words(r[j]), False) for r in table.rows))
            for j, h in enumerate(table.header)]


def font_size(table: Table) -> tuple[str, float]:
    """The table's font and its size in pt: 9 pt, or 8 pt for more than five columns or
    a prose column (notes run long); smaller (7, 6 pt) while the columns' longest words
    do not fit side by side at that size (names such as MongoRaftReconfig and
    pyModelChecking cannot break)."""
    prose = any(var in table.spec.notes for var, _ in table.spec.columns)
    sizes = _SIZES[1:] if len(table.header) > 5 or prose else _SIZES
    least, columns = sum(_least_widths(table)), len(table.header)
    for command, pt in sizes:
        usable = (_LINE_PT - columns * _PAD_PT) / pt
        if least < usable * (1 - columns / _STEPS):  # each column rounds up to a step
            return command, pt
    return _SIZES[-1]


def column_widths(table: Table) -> list[float]:
    """Shares of the line width per column, following their content: each column starts
    at its longest word (or a few characters, where hyphenation must do), and the rest of
    the line goes, a step at a time, to the column whose widening most shortens the
    table (its rows' height in lines, a hyphenated word counting as a line more). A
    column whose cells fit on one line takes no more; prose columns take the most. What
    is left once every cell fits goes to the columns by their longest line."""
    columns = len(table.header)
    least = _least_widths(table)
    cite = [_CITE_EM]  # a numeric citation, as one more word
    cells = [[[_em(w) for w in _words(h)] for h in table.header]]
    cells += [[[_em(w) for w in _words(c)] + cite * len(c.keys) for c in row]
              for row in table.rows]
    font = font_size(table)[1]
    line, pad = _LINE_PT / font, _PAD_PT / font  # in em of the table's font
    usable = line - columns * pad
    if sum(least) >= usable * (1 - columns / _STEPS):  # no room: some word must overflow
        return [(w * usable / sum(least) + pad) / line for w in least]
    step = usable / _STEPS
    natural = [max([sum(r[j]) + _EM["space"] * max(len(r[j]) - 1, 0)
                    for r in cells] or [0.0]) for j in range(columns)]
    # widths in steps; the lines and hyphenations of each column at each width, cached
    units = [max(1, math.ceil(w / step - 1e-9)) for w in least]
    cache: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def at(j: int, n: int) -> list[tuple[int, int]]:
        if (j, n) not in cache:
            cache[(j, n)] = [_lines(r[j], n * step) for r in cells]
        return cache[(j, n)]

    def cost(lines: list[list[tuple[int, int]]]) -> float:
        return sum(max(col[i][0] for col in lines) for i in range(len(cells))) + sum(
            b for col in lines for _, b in col)

    while sum(units) < _STEPS:
        current = [at(j, units[j]) for j in range(columns)]
        base, best, choice = cost(current), 0.0, None
        for j in range(columns):
            for extra in range(1, min(_STEPS - sum(units), 24) + 1):
                trial = current[:j] + [at(j, units[j] + extra)] + current[j + 1:]
                gain = (base - cost(trial)) / extra
                if gain > best + 1e-9:
                    best, choice = gain, (j, extra)
        if choice is None:  # every cell fits: the rest by the columns' longest lines
            rest = (_STEPS - sum(units)) * step
            widths = [u * step for u in units]
            total = sum(natural) or 1.0
            widths = [w + rest * n / total for w, n in zip(widths, natural, strict=True)]
            return [(w + pad) / line for w in widths]
        units[choice[0]] += choice[1]
    return [(u * step + pad) / line for u in units]


LONG_ROWS = 20  # from this many rows on, a table is a longtable that breaks across pages


def to_latex(table: Table, *, link_base: str | None = None, long: bool | None = None) -> str:
    """A booktabs table that fits \\linewidth: paragraph columns sized by their content,
    a longtable (breaking across pages) from LONG_ROWS rows on or with `long=True`;
    `\\cite{keys}` after each evidenced cell, a legend for the marks, and with
    `link_base` each cell's text linked to its fact's page there (needs hyperref)."""
    long = len(table.rows) >= LONG_ROWS if long is None else long
    # \hspace{0pt}: the first word of a cell may be hyphenated too
    spec = "".join(rf">{{\raggedright\arraybackslash\hspace{{0pt}}}}"
                   rf"p{{\dimexpr{int(w * 1000) / 1000:.3f}\linewidth-2\tabcolsep}}"
                   for w in column_widths(table))  # rounded down: the sum stays <= 1
    size = font_size(table)[0]
    header = " & ".join(_latex(h) for h in table.header) + r" \\"
    caption = rf"\caption{{{_latex(table.spec.title)}. {LATEX_LEGEND}}}"
    label = rf"\label{{tab:{table.spec.name}}}"
    lines = [
        "% Generated by `kg report table " + table.spec.name + "`: needs \\usepackage{booktabs,"
        + ("longtable," if long else "") + "array}" + (" and hyperref" if link_base else "")
        + ". Cells in", "% Chinese (e.g. the plan's own words) need XeLaTeX with ctex or xeCJK."]
    if long:
        lines += [r"\begingroup" + size + _TABCOLSEP, rf"\begin{{longtable}}{{{spec}}}",
                  caption + label + r"\\", r"\toprule", header, r"\midrule", r"\endfirsthead",
                  r"\toprule", header, r"\midrule", r"\endhead", r"\bottomrule", r"\endlastfoot"]
    else:
        lines += [r"\begin{table}[htbp]", r"\centering", size + _TABCOLSEP,
                  rf"\begin{{tabular}}{{{spec}}}", r"\toprule", header, r"\midrule"]
    for row in table.rows:
        cells = []
        for cell in row:
            text = _break_points(_latex(cell.text))
            link = fact_link(cell.facts[0], link_base) if len(cell.facts) == 1 else None
            if link:
                text = rf"\href{{{_latex_url(link)}}}{{{text}}}"
            if cell.keys:  # a breakable space: in a narrow column the citation wraps
                text += rf" \cite{{{','.join(cell.keys)}}}"
            text += LATEX_MARKS.get(cell.status or "", "")
            cells.append(text)
        lines.append(" & ".join(cells) + r" \\")
    if long:
        lines += [r"\end{longtable}", r"\endgroup", ""]
    else:
        lines += [r"\bottomrule", r"\end{tabular}", caption, label, r"\end{table}", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    """A Pandoc pipe table; `[@key; @key]` after each evidenced cell, and a caption with
    the legend."""
    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    for row in table.rows:
        cells = []
        for cell in row:
            text = _md(cell.text)
            if cell.keys:
                text += " [" + "; ".join(f"@{k}" for k in cell.keys) + "]"
            text += cell.mark
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Table: {table.spec.title}. {LEGEND}", ""]
    return "\n".join(lines)


def to_csv(table: Table) -> str:
    """CSV: each cell's text with its mark and its keys in brackets."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([c.text + c.mark + (f" [{' '.join(c.keys)}]" if c.keys else "")
                         for c in row])
    return out.getvalue()


_HTML = Environment(autoescape=True).from_string("""<table class="kg-report">
<caption>{{ table.spec.title }}. {{ legend }}</caption>
<thead><tr>{% for h in table.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in table.rows %}<tr>{% for c in row %}<td>
{%- set href = link(c.facts[0]) if c.facts|length == 1 else link(c.iri) if c.iri else None %}
{%- if href %}<a href="{{ href }}">{{ c.text }}</a>{% else %}{{ c.text }}{% endif %}
{%- for k in c.keys %} <cite>[{{ k }}]</cite>{% endfor %}
{%- if c.mark %}<sup class="kg-{{ c.status }}" title="{{ c.status }}">{{ c.mark }}</sup>{% endif %}
</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
""")


def to_html(table: Table, *, link_base: str | None = None) -> str:
    """An HTML table; with `link_base`, cells link to their pages there."""
    return _HTML.render(table=table, legend=LEGEND,
                        link=lambda iri: fact_link(iri, link_base) if iri else None)


TABLE_FORMATS = {"latex": to_latex, "markdown": to_markdown, "csv": to_csv, "html": to_html}
TABLE_SUFFIXES = {".tex": "latex", ".md": "markdown", ".csv": "csv", ".html": "html"}


def render_table(table: Table, fmt: str, *, link_base: str | None = None,
                 long: bool | None = None) -> str:
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"unknown table format {fmt!r}; choose one of "
                         f"{', '.join(TABLE_FORMATS)}")
    if fmt == "latex":
        return to_latex(table, link_base=link_base, long=long)
    if fmt == "html":
        return to_html(table, link_base=link_base)
    return TABLE_FORMATS[fmt](table)


def bibliography_beside(output: str | os.PathLike[str], entries, dialect: str) -> Path:
    """Write the bibliography of `entries` beside an output file (FILE.bib, or FILE.json
    for csl-json), so the paper's \\cite or [@key] of every cell or caption resolves."""
    bib = Path(output).with_suffix(".json" if dialect == "csl-json" else ".bib")
    bib.write_text(cite.render(entries, dialect), encoding="utf-8")
    return bib


def write_table(table: Table, output: str | os.PathLike[str], *, fmt: str | None = None,
                link_base: str | None = None, long: bool | None = None,
                bib_format: str = "biblatex") -> Path:
    """Write `table` to `output` (format from its suffix unless `fmt`) and the
    bibliography of every cited source beside it; the bibliography's path."""
    suffix = Path(output).suffix
    if fmt is None and suffix not in TABLE_SUFFIXES:
        raise QueryError(f"cannot tell a table's format from {suffix or 'a name without a suffix'}:"
                         f" give --format, or -o a file ending in {', '.join(TABLE_SUFFIXES)}")
    fmt = fmt or TABLE_SUFFIXES[suffix]
    Path(output).parent.mkdir(parents=True, exist_ok=True)  # -o tables/x.tex, as figures
    Path(output).write_text(render_table(table, fmt, link_base=link_base, long=long),
                            encoding="utf-8")
    return bibliography_beside(output, table.entries, bib_format)


# ------------------------------------------------------------------------- paths

def _steps(path, labels: Mapping[str, str]) -> list[tuple[str, object]]:
    """Each step of a path in words, with the step (None for the start)."""
    parts: list[tuple[str, object]] = [(labels.get(path.nodes[0], shorten(path.nodes[0])), None)]
    for step in path.steps:
        name = labels.get(step.predicate, shorten(step.predicate).split(":")[-1])
        arrow = f"{name} →" if step.forward else f"← {name}"
        parts.append((f"{arrow} {labels.get(step.target, shorten(step.target))}", step))
    return parts


def path_latex(paths: Sequence, labels: Mapping[str, str]) -> str:
    """Shortest paths as a LaTeX list, each step with `\\cite{}` of its fact's sources
    (a step that rests on an Unverified statement marked with the table's dagger)."""
    def cited(text: str, step) -> str:
        out = _latex(text)
        if step is not None and step.keys:
            out += rf"~\cite{{{','.join(step.keys)}}}"
        if step is not None and step.evidence == "unverified":
            out += LATEX_MARKS[UNVERIFIED]
        return out

    lines = ["% Generated by `kg path --format latex`.", r"\begin{enumerate}"]
    lines += [r"\item " + " ".join(cited(t, s) for t, s in _steps(p, labels)) for p in paths]
    return "\n".join([*lines, r"\end{enumerate}", ""])


def path_markdown(paths: Sequence, labels: Mapping[str, str]) -> str:
    """Shortest paths as a Pandoc list, each step with `[@key]` of its fact's sources."""
    def cited(text: str, step) -> str:
        out = _md(text)
        if step is not None and step.keys:
            out += " [" + "; ".join(f"@{k}" for k in step.keys) + "]"
        if step is not None and step.evidence == "unverified":
            out += MARKS[UNVERIFIED]
        return out

    return "".join(f"{n}. {' '.join(cited(t, s) for t, s in _steps(p, labels))}\n"
                   for n, p in enumerate(paths, 1))
