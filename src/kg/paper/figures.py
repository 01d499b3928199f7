"""Figures for a paper (matplotlib), each legible at a column width (3.5 in) or a text
width (7 in): one metric per figure, its unit on the axis, the programme's own runs apart
from published measurements, and vendor limits, quotas and prices never plotted as
benchmarks. The caption (with the sources' keys) is written beside the figure for LaTeX
and Pandoc, not drawn into it; the drawing is reproducible (no timestamps in the file).

>>> from kg import KnowledgeGraph                                   # doctest: +SKIP
>>> data = figure_data(KnowledgeGraph(), "own-throughput")           # doctest: +SKIP
>>> draw(data, "throughput.pdf", width="column")                     # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import QueryError
from ..evidence.catalogue import labels
from ..namespaces import WF, shorten

FIGURE_SUFFIXES = (".svg", ".pdf", ".png")
WIDTHS = {"column": 3.5, "text": 7.0}  # inches: one column, or the text width of a paper
STATUSES = ("Verified", "Unverified", "Contradicted")
# Okabe-Ito colours (distinguishable with colour-vision deficiencies)
COLOURS = {"Verified": "#009E73", "Unverified": "#E69F00", "Contradicted": "#D55E00"}
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
MARKERS = ("o", "s", "^", "D")
LINESTYLES = ("-", "--", ":", "-.")
# A finding whose unit or conditions say this is a limit, a quota or a price, not a
# measurement of a system under a workload.
_NOT_MEASURED = re.compile(r"\blimit|\bquota|\bmaximum\b|\bthreshold|\bdefault\b|\bUSD\b"
                           r"|\bEUR\b|\bprice|\bfree\b|lower bound", re.I)
MEASURED_METRICS = ("Throughput", "Latency", "RecoveryTime", "EffectAnomalies", "Cost")


@dataclass
class Series:
    """One line (x -> y) or one group of bars (label -> value)."""

    name: str
    values: dict[str, float]
    unit: str = ""
    notes: dict[str, str] = field(default_factory=dict)  # bar -> conditions, workload
    colour: str | None = None
    marker: str | None = None
    linestyle: str | None = None


@dataclass
class Panel:
    title: str
    series: list[Series]


@dataclass
class FigureData:
    name: str
    title: str
    panels: list[Panel]
    keys: list[str]  # citation keys of the sources behind the plotted facts
    kind: str = "bars"  # bars, stacked (bars), lines (x: concurrency)
    xlabel: str = ""
    ylabel: str = ""
    origin: str = ""  # own (measured by this programme) or published

    @property
    def caption(self) -> str:
        sources = ", ".join(self.keys) if self.keys else "none"
        return f"{self.title}. Sources: {sources}."

    def latex_caption(self) -> str:
        from .bibtex import escape

        cite = rf" \cite{{{','.join(self.keys)}}}" if self.keys else ""
        return escape(self.title) + cite + "."

    def markdown_caption(self) -> str:
        cite = " [" + "; ".join(f"@{k}" for k in self.keys) + "]" if self.keys else ""
        return self.title + cite + "."


FIGURES = {
    "own-throughput": "Throughput of the programme's own runs (DBOS Transact), by "
                      "concurrent workflows",
    "own-latency": "Latency of the programme's own runs (DBOS Transact), p50 and p99, by "
                   "concurrent workflows",
    "benchmarks": "Published benchmark measurements per system and backend (limits, quotas "
                  "and prices left out)",
    "evidence-profile": "Evidence status of the facts of each area (data file)",
    "cases-per-engine": "Case studies per workflow engine, by evidence status",
}

_PROFILE = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
SELECT ?graph ?status (COUNT(DISTINCT ?fact) AS ?n) WHERE {
  GRAPH ?graph { ?fact wf:evidenceStatus ?status }
} GROUP BY ?graph ?status"""
_PROFILE_KEYS = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX cito: <http://purl.org/spar/cito/>
SELECT DISTINCT ?key WHERE {
  ?fact wf:evidenceStatus ?status ; cito:citesAsEvidence|cito:disputes ?source .
  ?source wf:citationKey ?key .
} ORDER BY ?key"""
_CASES = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX cito: <http://purl.org/spar/cito/>
SELECT ?engine ?status (COUNT(DISTINCT ?case) AS ?n)
       (GROUP_CONCAT(DISTINCT ?key; separator=" ") AS ?keys) WHERE {
  ?case a wf:CaseStudy ; wf:usesTechnology ?engine ; wf:evidenceStatus ?status .
  ?engine a wf:WorkflowEngine .
  OPTIONAL { ?case cito:citesAsEvidence/wf:citationKey ?key }
} GROUP BY ?engine ?status"""


def figure_data(graph, name: str) -> FigureData:
    if name not in FIGURES:
        raise QueryError(f"no figure {name!r}; the figures are: {', '.join(FIGURES)}")
    return {"own-throughput": _own_throughput, "own-latency": _own_latency,
            "benchmarks": _published, "evidence-profile": _profile,
            "cases-per-engine": _cases}[name](graph)


def is_measurement(metric: str, unit: str, conditions: str = "") -> bool:
    """True for a benchmark measurement; False for a limit, quota, price or a scale
    figure (metric local name, unit text, conditions)."""
    return metric in MEASURED_METRICS and not _NOT_MEASURED.search(f"{unit} {conditions}")


def _rows(graph, origin: str) -> list[dict]:
    rows = []
    for row in graph.query("benchmarks", {"only": origin}).rows():
        value = {k: t.value for k, t in row.items()}
        value["metric"] = value["metric"].removeprefix(str(WF))
        if row["status"].value == str(WF.Verified) and is_measurement(
                value["metric"], value["unit"], value.get("conditions", "")):
            rows.append(value)
    return rows


def _workload(text: str) -> str:
    """The short name of a workload: what comes before its first colon."""
    return text.split(":", 1)[0].strip()


def _own(graph, metric: str, unit_pattern: str, title: str, ylabel: str,
         split_unit: bool) -> FigureData:
    rows = [r for r in _rows(graph, "own") if r["metric"] == metric
            and re.search(unit_pattern, r["unit"]) and "concurrency" in r]
    if not rows:
        raise QueryError(f"no own {metric} runs in the graph: run kg bench-engines")
    names = labels(graph.store, {r[v] for r in rows for v in ("system", "backend") if v in r})
    backends = sorted({names.get(r.get("backend", ""), "no backend") for r in rows})
    variants = sorted({r["unit"] for r in rows}) if split_unit else [""]
    panels: dict[str, dict[str, Series]] = {}
    keys: set[str] = set()
    for row in rows:
        workload = _workload(row["workload"])
        backend = names.get(row.get("backend", ""), "no backend")
        variant = row["unit"] if split_unit else ""
        label = backend + (f", {_percentile(variant)}" if variant else "")
        panel = panels.setdefault(workload, {})
        series = panel.setdefault(label, Series(
            label, {}, row["unit"], colour=PALETTE[backends.index(backend) % len(PALETTE)],
            marker=MARKERS[backends.index(backend) % len(MARKERS)],
            linestyle=LINESTYLES[variants.index(variant) % len(LINESTYLES)]))
        series.values[str(int(float(row["concurrency"])))] = float(row["value"])
        keys.update(row.get("sources", "").split())
    return FigureData(title=title, name="", kind="lines", origin="own",
                      panels=[Panel(w, list(s.values())) for w, s in sorted(panels.items())],
                      keys=sorted(keys), xlabel="concurrent workflows", ylabel=ylabel)


def _percentile(unit: str) -> str:
    found = re.search(r"p\d+", unit)
    return found.group() if found else unit


def _own_throughput(graph) -> FigureData:
    data = _own(graph, "Throughput", r"^workflows/s$", FIGURES["own-throughput"],
                "throughput (workflows/s)", split_unit=False)
    data.name = "own-throughput"
    return data


def _own_latency(graph) -> FigureData:
    data = _own(graph, "Latency", r"\(p(50|99)\)", FIGURES["own-latency"], "latency (ms)",
                split_unit=True)
    data.name = "own-latency"
    return data


def _published(graph) -> FigureData:
    """Published measurements only, one panel per metric and unit; each bar one finding,
    labelled system / backend, its workload and conditions in the notes."""
    rows = _rows(graph, "published")
    if not rows:
        raise QueryError("the graph has no published benchmark measurements (the published "
                         "findings it has are limits, quotas or prices, which are not "
                         "benchmarks); see own-throughput and own-latency")
    names = labels(graph.store, {r[v] for r in rows for v in ("system", "backend") if v in r})
    panels: dict[tuple[str, str], Series] = {}
    keys: set[str] = set()
    for row in rows:
        metric = names.get(str(WF) + row["metric"], row["metric"])
        series = panels.setdefault((metric, row["unit"]), Series(metric, {}, row["unit"]))
        bar = names.get(row["system"], shorten(row["system"]))
        if "backend" in row:
            bar += f" / {names.get(row['backend'], shorten(row['backend']))}"
        number = 2
        base = bar
        while bar in series.values:  # two findings for one pair: numbered, both kept
            bar, number = f"{base} ({number})", number + 1
        series.values[bar] = float(row["value"])
        series.notes[bar] = "; ".join(row[v] for v in ("workload", "conditions") if v in row)
        keys.update(row.get("sources", "").split())
    return FigureData("benchmarks", FIGURES["benchmarks"],
                      [Panel(f"{m} ({u})", [s]) for (m, u), s in sorted(panels.items())],
                      sorted(keys), origin="published")


def _profile(graph) -> FigureData:
    counts: dict[str, dict[str, float]] = {s: {} for s in STATUSES}
    for row in graph.store.query(_PROFILE, default_graph=[]).rows():
        area = Path(row["graph"].value.rstrip("/")).name.removesuffix(".ttl")
        status = row["status"].value.removeprefix(str(WF))
        if status in counts:
            counts[status][area] = counts[status].get(area, 0) + float(row["n"].value)
    areas = sorted({a for c in counts.values() for a in c})
    series = [Series(s, {a: counts[s].get(a, 0) for a in areas}, colour=COLOURS[s])
              for s in STATUSES]
    keys = graph.store.query(_PROFILE_KEYS).values("key")
    return FigureData("evidence-profile", FIGURES["evidence-profile"], [Panel("", series)],
                      keys, kind="stacked", xlabel="facts")


def _cases(graph) -> FigureData:
    rows = graph.store.query(_CASES).rows()
    names = labels(graph.store, {r["engine"].value for r in rows})
    engines = sorted({names.get(r["engine"].value, shorten(r["engine"].value)) for r in rows})
    counts: dict[str, dict[str, float]] = {s: dict.fromkeys(engines, 0) for s in STATUSES}
    keys: set[str] = set()
    for row in rows:
        status = row["status"].value.removeprefix(str(WF))
        engine = names.get(row["engine"].value, shorten(row["engine"].value))
        counts[status][engine] += float(row["n"].value)
        keys.update(row["keys"].value.split())
    return FigureData("cases-per-engine", FIGURES["cases-per-engine"],
                      [Panel("", [Series(s, counts[s], colour=COLOURS[s]) for s in STATUSES])],
                      sorted(keys), kind="stacked", xlabel="case studies")


def size(data: FigureData, width: str) -> tuple[float, float]:
    """(width, height) in inches: panels side by side at text width, stacked in a column."""
    inches = WIDTHS[width]
    if data.kind in ("stacked", "bars"):
        bars = sum(max(len(s.values) for s in p.series) for p in data.panels)
        return inches, min(9.0, 0.8 + 0.17 * bars + 0.35 * len(data.panels))
    across = 1 if width == "column" else min(2, len(data.panels))
    rows = -(-len(data.panels) // across)
    return inches, rows * (2.3 if width == "column" else 2.6) + 0.5


def draw(data: FigureData, path: str | os.PathLike[str], *, width: str = "column") -> Path:
    """Draw to .svg, .pdf or .png at a column width (3.5 in) or the text width (7 in)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    if path.suffix not in FIGURE_SUFFIXES:
        raise ValueError(f"a figure is written as {', '.join(FIGURE_SUFFIXES)}, "
                         f"not {path.suffix or 'a file without suffix'}")
    if width not in WIDTHS:
        raise ValueError(f"a figure is {' or '.join(WIDTHS)} wide, not {width!r}")
    path.parent.mkdir(parents=True, exist_ok=True)  # -o figs/latency.pdf in a fresh paper
    w, h = size(data, width)
    across = 1 if width == "column" or data.kind != "lines" else min(2, len(data.panels))
    rows = -(-len(data.panels) // across)
    style = {"svg.hashsalt": data.name, "svg.fonttype": "none", "font.size": 8,
             "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
             "xtick.labelsize": 7, "ytick.labelsize": 7, "font.family": "DejaVu Sans"}
    with plt.rc_context(style):
        if data.kind == "lines":
            fig, axes = plt.subplots(rows, across, squeeze=False, figsize=(w, h),
                                     sharey=True)
        else:
            heights = [max(len(s.values) for s in p.series) + 1 for p in data.panels]
            fig, axes = plt.subplots(rows, 1, squeeze=False, figsize=(w, h),
                                     gridspec_kw={"height_ratios": heights})
        for ax in axes.flat[len(data.panels):]:
            ax.set_visible(False)
        chars = int(w * 13)  # characters that fit a line at 7-8 pt
        for ax, panel in zip(axes.flat, data.panels, strict=False):
            if data.kind == "lines":
                _lines(ax, panel, data)
            else:
                _bars(ax, panel, data, MaxNLocator, chars)
        if data.kind == "lines":  # shared y axis from 0, after every panel is drawn
            top = max(y for p in data.panels for s in p.series for y in s.values.values())
            axes.flat[0].set_ylim(0, top * 1.08)
        if data.kind == "lines":
            handles, names = axes.flat[0].get_legend_handles_labels()
            ncol = min(2 if width == "column" else 4, len(names))
            legend_rows = -(-len(names) // ncol)
            fig.legend(handles, names, loc="lower center", ncol=ncol, frameon=False,
                       bbox_to_anchor=(0.5, 0.0))
            fig.tight_layout(rect=(0, (0.05 + 0.16 * legend_rows) / h, 1, 1))
        else:
            fig.tight_layout()
        metadata = {"Date": None} if path.suffix == ".svg" else (
            {"CreationDate": None} if path.suffix == ".pdf" else None)
        fig.savefig(path, metadata=metadata, dpi=200)
        plt.close(fig)
    return path


def _lines(ax, panel: Panel, data: FigureData) -> None:
    xs = sorted({x for s in panel.series for x in s.values}, key=float)
    for series in panel.series:
        points = sorted(series.values.items(), key=lambda kv: float(kv[0]))
        ax.plot([float(x) for x, _ in points], [y for _, y in points], label=series.name,
                color=series.colour, marker=series.marker, linestyle=series.linestyle,
                markersize=4, linewidth=1.2)
    ax.set_xscale("log", base=2)
    ax.set_xticks([float(x) for x in xs], xs)
    ax.minorticks_off()
    ax.set_title(panel.title)
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.ylabel)
    ax.grid(True, linewidth=0.3, alpha=0.6)


def _bars(ax, panel: Panel, data: FigureData, locator, chars: int) -> None:
    bars = list(panel.series[0].values)
    left = [0.0] * len(bars)
    for series in panel.series:
        values = [series.values.get(b, 0) for b in bars]
        ax.barh(bars, values, left=left if data.kind == "stacked" else None,
                label=series.name, color=series.colour or PALETTE[0], height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    if data.kind == "stacked":
        ax.xaxis.set_major_locator(locator(integer=True))
        ax.legend(loc="lower right", frameon=False)
        ax.set_xlabel(data.xlabel)
    else:
        series = panel.series[0]
        ax.set_title(_wrap(panel.title, chars), loc="left")
        ax.set_xlabel(_wrap(series.unit, chars))
        for y, bar in enumerate(bars):
            ax.annotate(f"{series.values[bar]:g}", (series.values[bar], y), xytext=(2, 0),
                        textcoords="offset points", va="center", fontsize=7)
        ax.margins(x=0.2)
    ax.invert_yaxis()


def latex_figure(data: FigureData, graphic: str) -> str:
    """A figure environment for the drawn file, its caption citing the sources; the
    graphic fills the line but never more than three quarters of the page's height (a
    figure taller than the page floats to the end and its page reference never settles)."""
    return "\n".join([
        f"% Generated by `kg report figure {data.name}`: needs \\usepackage{{graphicx}}.",
        r"\begin{figure}[htbp]", r"\centering",
        rf"\includegraphics[width=\linewidth,height=0.75\textheight,keepaspectratio]{{{graphic}}}",
        rf"\caption{{{data.latex_caption()}}}", rf"\label{{fig:{data.name}}}",
        r"\end{figure}", ""])


def markdown_figure(data: FigureData, graphic: str) -> str:
    """A Pandoc figure for the drawn file, its caption citing the sources."""
    return f"![{data.markdown_caption()}]({graphic}){{#fig:{data.name}}}\n"


@dataclass
class FigureFiles:
    """What `write_figure` wrote: the drawing, the figure with its caption for LaTeX
    (beside a PDF) or Pandoc (beside a PNG or SVG), and their bibliography."""

    drawing: Path
    snippet: Path
    bibliography: Path
    caption: str


def write_figure(graph, name: str, output: str | os.PathLike[str] | None = None, *,
                 width: str = "column", bib_format: str = "biblatex") -> FigureFiles:
    """Draw figure `name` to `output` (default NAME.svg) and write beside it the figure
    with its caption citing its sources (FILE.tex for a PDF, FILE.md otherwise) and the
    bibliography of those sources."""
    from .cite import entries_for_keys
    from .report import bibliography_beside

    data = figure_data(graph, name)
    drawing = draw(data, output or f"{name}.svg", width=width)
    bib = bibliography_beside(drawing, entries_for_keys(graph.store, data.keys), bib_format)
    snippet = drawing.with_suffix(".tex" if drawing.suffix == ".pdf" else ".md")
    snippet.write_text((latex_figure if drawing.suffix == ".pdf" else markdown_figure)(
        data, str(output or drawing)), encoding="utf-8")
    return FigureFiles(drawing, snippet, bib, data.caption)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
