"""Figures for the paper (matplotlib): published benchmark findings per system and
backend, the evidence-status profile per area (data file), and case studies per engine.
Each figure's data comes from the graph as a dataclass, and its caption names the
citation keys of its sources; the drawing is reproducible (no timestamps in the file).

>>> from kg import KnowledgeGraph                                   # doctest: +SKIP
>>> data = figure_data(KnowledgeGraph(), "evidence-profile")         # doctest: +SKIP
>>> draw(data, "profile.svg")                                        # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import QueryError
from ..evidence.catalogue import labels
from ..namespaces import WF, shorten

FIGURE_SUFFIXES = (".svg", ".pdf", ".png")
STATUSES = ("Verified", "Unverified", "Contradicted")
COLOURS = {"Verified": "#2b8a3e", "Unverified": "#f59f00", "Contradicted": "#c92a2a"}


@dataclass
class Series:
    """One group of bars: a label per bar and its value (stacked series share labels)."""

    name: str
    values: dict[str, float]
    unit: str = ""
    notes: dict[str, str] = field(default_factory=dict)  # bar -> conditions, workload


@dataclass
class FigureData:
    name: str
    title: str
    panels: list[list[Series]]  # one panel per unit (or one), each with its series
    keys: list[str]  # citation keys of the sources behind the plotted facts
    stacked: bool = False

    @property
    def caption(self) -> str:
        sources = ", ".join(self.keys) if self.keys else "none"
        return f"{self.title}. Sources: {sources}."

    @property
    def short_caption(self) -> str:
        """The caption drawn in the figure: every key when they fit, else their number
        (the full list is the .bib written beside the figure)."""
        if len(self.keys) <= 30:
            return self.caption
        return (f"{self.title}. Sources: the {len(self.keys)} sources of the BibTeX file "
                f"written beside this figure.")


FIGURES = {
    "benchmarks": "Published benchmark findings per system and backend",
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
    return {"benchmarks": _benchmarks, "evidence-profile": _profile,
            "cases-per-engine": _cases}[name](graph)


def _benchmarks(graph) -> FigureData:
    """Published findings only (not the programme's own runs), one panel per metric and
    unit; each bar is one finding, labelled system / backend, its conditions noted."""
    rows = [r for r in graph.query("benchmarks").rows()
            if r["status"].value == str(WF.Verified)]
    names = labels(graph.store, {r[v].value for r in rows for v in ("system", "backend")
                                 if v in r})
    panels: dict[tuple[str, str], Series] = {}
    keys: set[str] = set()
    for row in rows:
        metric = names.get(row["metric"].value, shorten(row["metric"].value).split(":")[-1])
        unit = row["unit"].value
        series = panels.setdefault((metric, unit), Series(metric, {}, unit))
        system = names.get(row["system"].value, shorten(row["system"].value))
        bar = system + (f" / {names.get(row['backend'].value, shorten(row['backend'].value))}"
                        if "backend" in row else "")
        while bar in series.values:  # two findings for the same pair: keep both
            bar += "'"
        series.values[bar] = float(row["value"].value)
        series.notes[bar] = "; ".join(row[v].value for v in ("workload", "conditions")
                                      if v in row)
        keys.update(row["sources"].value.split() if "sources" in row else [])
    return FigureData("benchmarks", FIGURES["benchmarks"],
                      [[s] for _, s in sorted(panels.items())], sorted(keys))


def _profile(graph) -> FigureData:
    counts: dict[str, dict[str, float]] = {s: {} for s in STATUSES}
    for row in graph.store.query(_PROFILE, default_graph=[]).rows():
        area = Path(row["graph"].value.rstrip("/")).name.removesuffix(".ttl")
        status = row["status"].value.removeprefix(str(WF))
        if status in counts:
            counts[status][area] = counts[status].get(area, 0) + float(row["n"].value)
    areas = sorted({a for c in counts.values() for a in c})
    series = [Series(s, {a: counts[s].get(a, 0) for a in areas}) for s in STATUSES]
    keys = graph.store.query(_PROFILE_KEYS).values("key")
    return FigureData("evidence-profile", FIGURES["evidence-profile"], [series], keys,
                      stacked=True)


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
                      [[Series(s, counts[s]) for s in STATUSES]], sorted(keys), stacked=True)


def draw(data: FigureData, path: str | os.PathLike[str]) -> Path:
    """Draw to .svg, .pdf or .png: stacked bars in one panel, or one small panel per
    metric and unit (bars numbered, their conditions listed under the plot), then the
    caption with the source keys."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    if path.suffix not in FIGURE_SUFFIXES:
        raise ValueError(f"a figure is written as {', '.join(FIGURE_SUFFIXES)}, "
                         f"not {path.suffix or 'a file without suffix'}")
    panels = data.panels or [[Series("no data", {})]]
    columns = 1 if data.stacked else min(3, len(panels))
    rows = -(-len(panels) // columns)
    bars_high = max(len(p[0].values) for p in panels)
    notes: list[str] = []
    with plt.rc_context({"svg.hashsalt": data.name, "svg.fonttype": "none", "font.size": 7}):
        fig, axes = plt.subplots(rows, columns, squeeze=False, figsize=(
            11 if columns > 1 else 8, rows * (0.25 * bars_high + 1.4) + 1.6))
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, panel in zip(axes.flat, panels, strict=False):
            bars = list(panel[0].values)
            left = [0.0] * len(bars)
            for series in panel:
                values = [series.values.get(b, 0) for b in bars]
                ax.barh(bars, values, left=left if data.stacked else None,
                        label=series.name, color=COLOURS.get(series.name, "#1c7ed6"))
                left = [a + b for a, b in zip(left, values, strict=True)]
            if data.stacked:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.legend(loc="lower right")
                ax.set_xlabel("facts" if data.name == "evidence-profile" else "case studies")
            else:
                series = panel[0]
                ax.set_title(_wrap(f"{series.name} ({series.unit})", 45), fontsize=7)
                labels_ = []
                for y, bar in enumerate(bars):
                    notes.append(f"[{len(notes) + 1}] {bar}: {series.notes.get(bar, '')}")
                    labels_.append(f"{bar} [{len(notes)}]")
                    ax.annotate(f"{series.values[bar]:g}", (series.values[bar], y),
                                xytext=(2, 0), textcoords="offset points", va="center",
                                fontsize=6)
                ax.set_yticks(range(len(bars)), labels_)
                ax.margins(x=0.25)
            ax.invert_yaxis()
        fig.suptitle(data.title)
        footer = "\n".join([*(_wrap(n, 200) for n in notes), _wrap(data.short_caption, 200)])
        fig.text(0.01, 0.005, footer, fontsize=5, va="bottom")
        lines = footer.count("\n") + 1
        fig.tight_layout(rect=(0, min(0.6, 0.012 * lines + 0.02), 1, 0.97))
        metadata = {"Date": None} if path.suffix == ".svg" else (
            {"CreationDate": None} if path.suffix == ".pdf" else None)
        fig.savefig(path, metadata=metadata)
        plt.close(fig)
    return path


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
