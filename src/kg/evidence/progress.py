"""Research progress: each phase of the plan with its work packages' tasks, deliverables
and milestones and how far their evidence goes; each success indicator's current value
against its target, and the gaps (unverified or contradicted facts) that block it.

The status of a plan item is its evidence coverage, never a guess: a task is `evidenced`
when every entity it studies has a verified fact, `partial` when some have, `open` when
none has, and `no entities` when it names none; deliverables, phases and milestones take
the coverage of the tasks under them.

>>> from kg import KnowledgeGraph                                       # doctest: +SKIP
>>> print(to_markdown(progress(KnowledgeGraph())))                      # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox
from jinja2 import Environment

from ..namespaces import WF, shorten

EVIDENCED, PARTIAL, OPEN, NONE = "evidenced", "partial", "open", "no entities"

# What each measure of `success-indicators` counts, and so which facts are its gaps.
MEASURE_CLASSES = {"case-studies-verified": WF.CaseStudy,
                   "benchmark-findings": WF.BenchmarkFinding,
                   "properties-verified": WF.VerificationFinding}

_ITEMS = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?item ?kind ?label ?parent ?start ?end ?week ?order WHERE {
  VALUES ?kind { wf:Phase wf:WorkPackage wf:Deliverable wf:Milestone }
  ?item a ?kind .
  OPTIONAL { ?item rdfs:label ?label FILTER (LANG(?label) = "en") }
  OPTIONAL { ?item dcterms:isPartOf ?partOf }
  OPTIONAL { ?producer wf:produces ?item }
  OPTIONAL { ?item wf:completes ?completes }
  BIND (COALESCE(?completes, ?producer, ?partOf) AS ?parent)
  OPTIONAL { ?item wf:startWeek ?start }
  OPTIONAL { ?item wf:endWeek ?end }
  OPTIONAL { ?item wf:week ?week }
  OPTIONAL { ?item wf:order ?order }
}"""
_GAPS = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?fact ?label ?status ?note WHERE {
  ?fact a ?class ; wf:evidenceStatus ?status .
  FILTER (?status IN (wf:Unverified, wf:Contradicted))
  OPTIONAL { ?fact rdfs:label ?label FILTER (LANG(?label) IN ("en", "")) }
  OPTIONAL { ?fact wf:evidenceNote ?note }
} ORDER BY ?status ?fact"""


@dataclass
class Item:
    """A plan item with its evidence coverage."""

    iri: str
    kind: str  # Phase, WorkPackage, Task, Deliverable, Milestone
    label: str
    start: int | None = None  # week
    end: int | None = None
    studies: int = 0  # entities its tasks study
    evidenced: int = 0  # of them, with a verified fact
    children: list[Item] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.studies:
            return NONE
        if self.evidenced >= self.studies:
            return EVIDENCED
        return PARTIAL if self.evidenced else OPEN


@dataclass(frozen=True)
class Gap:
    fact: str
    label: str
    status: str  # unverified, contradicted
    note: str | None = None


@dataclass
class Indicator:
    iri: str
    label: str
    kind: str  # quantitative, qualitative
    target: float | None
    current: float | None  # None: the graph cannot measure it
    measure: str | None
    gaps: list[Gap] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        if self.target is None or self.current is None:
            return None
        return self.current >= self.target


@dataclass
class Progress:
    phases: list[Item]
    indicators: list[Indicator]
    contradicted_claims: list[Gap] = field(default_factory=list)  # the plan's, by sources

    def to_dict(self) -> dict:
        def item(i: Item) -> dict:
            data = asdict(i)
            data.update(iri=shorten(i.iri), status=i.status,
                        children=[item(c) for c in i.children])
            return data

        return {"phases": [item(p) for p in self.phases],
                "indicators": [dict(asdict(i), iri=shorten(i.iri), met=i.met,
                                    gaps=[dict(asdict(g), fact=shorten(g.fact))
                                          for g in i.gaps]) for i in self.indicators],
                "contradicted_claims": [dict(asdict(g), fact=shorten(g.fact))
                                        for g in self.contradicted_claims]}


def _number(term) -> float | None:
    if term is None:
        return None
    value = float(term.value)
    return int(value) if value.is_integer() else value


def progress(graph) -> Progress:
    """The plan's progress from the graph (see the module docstring for the statuses)."""
    store = graph.store
    items: dict[str, Item] = {}
    parents: dict[str, str] = {}
    orders: dict[str, tuple] = {}
    for row in store.query(_ITEMS).rows():
        iri = row["item"].value
        if iri in items:
            continue
        start = _number(row.get("start")) or _number(row.get("week"))
        items[iri] = Item(iri, row["kind"].value.removeprefix(str(WF)),
                          row["label"].value if "label" in row else shorten(iri),
                          start, _number(row.get("end")) or _number(row.get("week")))
        if "parent" in row:
            parents[iri] = row["parent"].value
        orders[iri] = (start or 0, _number(row.get("order")) or 0, iri)
    # tasks and their coverage come from the plan-progress named query
    for row in graph.query("plan-progress").rows():
        iri = row["task"].value
        if iri not in items:
            items[iri] = Item(iri, "Task", row["label"].value if "label" in row else shorten(iri),
                              _number(row.get("startWeek")), _number(row.get("endWeek")),
                              int(row["studies"].value), int(row["withVerifiedEvidence"].value))
            parents[iri] = row["workPackage"].value
            orders[iri] = (items[iri].start or 0, 0, iri)
    for iri in sorted(items, key=lambda i: orders[i]):
        parent = items.get(parents.get(iri, ""))
        if parent is not None:
            parent.children.append(items[iri])
    phases = sorted((i for i in items.values() if i.kind == "Phase"), key=lambda i: orders[i.iri])
    for phase in phases:
        _roll_up(phase)
    claims = [Gap(row["claim"].value, _claim_label(row), "contradicted",
                  row["sourcesSay"].value if "sourcesSay" in row else None)
              for row in graph.query("plan-claims", {"status": "wf:Contradicted"}).rows()]
    return Progress(phases, _indicators(graph, store), claims)


def _claim_label(row) -> str:
    if "planSays" in row:
        return row["planSays"].value
    return " ".join(shorten(row[v].value) for v in ("subject", "predicate", "object"))


def _roll_up(item: Item) -> None:
    """Deliverables, work packages, phases and milestones take the coverage of the tasks
    under them (a milestone: of the phase it completes)."""
    for child in item.children:
        _roll_up(child)
    if item.kind == "Task":
        return
    tasks = [c for c in item.children if c.kind in ("Task", "WorkPackage")]
    item.studies = sum(c.studies for c in tasks)
    item.evidenced = sum(c.evidenced for c in tasks)
    for child in item.children:
        if child.kind in ("Deliverable", "Milestone"):
            child.studies, child.evidenced = item.studies, item.evidenced


def _indicators(graph, store) -> list[Indicator]:
    out = []
    for row in graph.query("success-indicators").rows():
        measure = row["measure"].value if "measure" in row else None
        indicator = Indicator(row["indicator"].value,
                              row["label"].value if "label" in row else "",
                              row["kind"].value, _number(row.get("target")),
                              _number(row.get("current")), measure)
        if measure in MEASURE_CLASSES:
            gaps = store.query(_GAPS, bindings={
                "class": ox.NamedNode(str(MEASURE_CLASSES[measure]))})
            indicator.gaps = [Gap(r["fact"].value,
                                  r["label"].value if "label" in r else shorten(r["fact"].value),
                                  r["status"].value.removeprefix(str(WF)).lower(),
                                  r["note"].value if "note" in r else None)
                              for r in gaps.rows()]
        out.append(indicator)
    return out


# ------------------------------------------------------------------------- rendering

def to_markdown(report: Progress) -> str:
    lines = ["# Research progress", "", "## Success indicators", "",
             "| Indicator | Kind | Current | Target | Met | Gaps |", "|---|---|---|---|---|---|"]
    for ind in report.indicators:
        met = {True: "yes", False: "no", None: "—"}[ind.met]
        current = "not measured" if ind.current is None else str(ind.current)
        target = "—" if ind.target is None else str(ind.target)
        lines.append(f"| {ind.label} | {ind.kind} | {current} | {target} | {met} | "
                     f"{len(ind.gaps)} |")
    for ind in report.indicators:
        if ind.gaps:
            lines += ["", f"### Gaps blocking “{ind.label}”", ""]
            lines += [f"- [{g.label}]({g.fact}): {g.status}" + (f" ({g.note})" if g.note else "")
                      for g in ind.gaps]
    if report.contradicted_claims:
        lines += ["", "## Claims of the plan that sources contradict", ""]
        lines += [f"- [{g.label}]({g.fact})" + (f": {g.note}" if g.note else "")
                  for g in report.contradicted_claims]
    lines += ["", "## Plan", ""]

    def walk(item: Item, depth: int) -> None:
        weeks = f"weeks {item.start}-{item.end}" if item.start and item.end != item.start else (
            f"week {item.start}" if item.start else "")
        lines.append(f"{'  ' * depth}- **{item.kind}** [{item.label}]({item.iri}) {weeks}: "
                     f"{item.status} ({item.evidenced}/{item.studies} entities evidenced)")
        for child in item.children:
            walk(child, depth + 1)

    for phase in report.phases:
        walk(phase, 0)
    return "\n".join(lines) + "\n"


_HTML = Environment(autoescape=True).from_string("""<section class="kg-progress">
<h2>Success indicators</h2>
<table><thead><tr><th>Indicator</th><th>Kind</th><th>Current</th><th>Target</th><th>Met</th>
<th>Gaps</th></tr></thead><tbody>
{% for i in p.indicators %}<tr><td><a href="{{ i.iri }}">{{ i.label }}</a></td><td>{{ i.kind }}</td>
<td>{{ "not measured" if i.current is none else i.current }}</td>
<td>{{ "—" if i.target is none else i.target }}</td>
<td>{{ {True: "yes", False: "no"}.get(i.met, "—") }}</td><td>{{ i.gaps|length }}</td></tr>
{% endfor %}</tbody></table>
{% for i in p.indicators if i.gaps %}<h3>Gaps blocking {{ i.label }}</h3><ul>
{% for g in i.gaps %}<li class="kg-{{ g.status }}"><a href="{{ g.fact }}">{{ g.label }}</a>:
{{ g.status }}{% if g.note %} ({{ g.note }}){% endif %}</li>
{% endfor %}</ul>
{% endfor %}{% if p.contradicted_claims %}<h2>Claims of the plan that sources contradict</h2>
<ul>{% for g in p.contradicted_claims %}<li><a href="{{ g.fact }}">{{ g.label }}</a>
{%- if g.note %}: {{ g.note }}{% endif %}</li>{% endfor %}</ul>{% endif %}
<h2>Plan</h2>
{% macro walk(item) %}<li><strong>{{ item.kind }}</strong>
<a href="{{ item.iri }}">{{ item.label }}</a>
{% if item.start %}(weeks {{ item.start }}–{{ item.end }}){% endif %}:
<span class="kg-{{ item.status|replace(' ', '-') }}">{{ item.status }}</span>
({{ item.evidenced }}/{{ item.studies }} entities evidenced)
{% if item.children %}<ul>{% for c in item.children %}{{ walk(c) }}{% endfor %}</ul>{% endif %}</li>
{% endmacro %}<ul>{% for phase in p.phases %}{{ walk(phase) }}{% endfor %}</ul>
</section>
""")


def to_html(report: Progress) -> str:
    return _HTML.render(p=report)


def to_json(report: Progress) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


PROGRESS_FORMATS = {"md": to_markdown, "html": to_html, "json": to_json}
